"""The same-run baseline: its LangChain retriever over a small e5 index, its answers judged by eval's metrics,
and the report's product and baseline columns."""

import json
from pathlib import Path
from typing import Any

import pytest

from bot.answer.generation import GenerationError
from core.settings import Settings
from eval import report
from eval.baseline import (
    INSTRUCTIONS,
    TOP_K,
    BaselineAnswerer,
    IndexRetriever,
    answer_sentences,
    baseline_prompt,
    earlier_turns,
    search_query,
)
from eval.metrics import answer_correctness, citation_correctness, faithfulness, false_refusal_rate, refusal_rate
from eval.report import baseline_run, summaries, write_reports
from ingest.build import build_index
from ingest.embeddings import E5Embedder
from ingest.store import IndexReader
from tests.fixtures.doubles import ScriptedGenerator
from tests.fixtures.factories import make_settings

DOCUMENTS = {
    "dechetterie.md": """# Déchetterie

## Horaires

La déchetterie de Dainville est ouverte le samedi de 9 h à 12 h.
Les déchets verts sont acceptés toute l'année.
""",
    "piscine.md": """# Piscine

## Tarifs

L'entrée de la piscine Aquarena coûte 3 euros pour les adultes.
Les enfants de moins de six ans entrent gratuitement.
""",
}
OPENING = "La déchetterie de Dainville est ouverte le samedi de 9 h à 12 h."
ANSWERABLE: dict[str, Any] = {
    "id": "t1",
    "kind": "factual",
    "question": "Quel jour la déchetterie est-elle ouverte ?",
    "expected": [["samedi"]],
    "source": {"document": "dechetterie"},
    "split": "dev",
    "corpus": "cua",
}
UNANSWERABLE = {**ANSWERABLE, "id": "t2", "kind": "unanswerable", "question": "Où se garer ?", "expected": []}


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """An e5 index of two short documents."""
    root = tmp_path_factory.mktemp("baseline")
    (root / "corpus").mkdir()
    for name, text in DOCUMENTS.items():
        (root / "corpus" / name).write_text(text, encoding="utf-8")
    settings = make_settings(embedding__backend="e5", index_dir=root / "index")
    build_index(settings, root / "corpus", lambda _s: E5Embedder())
    return settings


@pytest.fixture(scope="module")
def retriever(settings: Settings) -> IndexRetriever:
    return IndexRetriever(reader=IndexReader(settings), embedder=E5Embedder())


def test_the_retriever_returns_the_index_passages_closest_first(retriever: IndexRetriever) -> None:
    documents = retriever.invoke("horaires de la déchetterie le samedi")
    texts = {chunk.text for chunk in retriever.reader.chunks}
    assert 1 < len(documents) <= TOP_K and all(d.page_content in texts for d in documents)
    first = documents[0]
    assert OPENING in first.page_content, [d.page_content for d in documents]
    assert first.metadata["doc_id"] == "dechetterie" and first.metadata["title"] == "Déchetterie"
    assert first.metadata["section"] == "Horaires" and first.metadata["page"] is None
    assert [d.metadata["score"] for d in documents] == sorted((d.metadata["score"] for d in documents), reverse=True)
    assert "Aquarena" in retriever.model_copy(update={"k": 1}).invoke("prix de la piscine Aquarena")[0].page_content


def test_an_answer_is_judged_by_the_same_metrics(retriever: IndexRetriever) -> None:
    generator = ScriptedGenerator(f"{OPENING[:-1]} [1].")
    result = BaselineAnswerer(retriever, generator).answer(ANSWERABLE)
    assert not result.refused and result.outcome == "answer" and not result.error
    assert result.sentences == [{"text": OPENING, "citations": [1]}]
    assert [c["id"] for c in result.cited] == list(range(1, len(result.retrieved_docs) + 1))
    assert result.retrieved_docs[0] == "dechetterie" and result.cited[0]["excerpt"] == result.retrieved_texts[0]
    assert {"retrieval_s", "first_token_s", "total_s"} <= set(result.timings) and result.prompt_tokens > 0
    assert answer_correctness([result]) == 1.0 and faithfulness([result]) == 1.0
    # Every passage it was given counts as cited: one is from the other document, so the citation is wrong
    assert set(result.retrieved_docs) == {"dechetterie", "piscine"} and citation_correctness([result]) == 0.0
    prompt = generator.prompts[-1]
    assert prompt.startswith("Extraits :") and OPENING in prompt and prompt.endswith(ANSWERABLE["question"])


def test_i_do_not_know_is_a_refusal(retriever: IndexRetriever) -> None:
    answerer = BaselineAnswerer(retriever, ScriptedGenerator("Je ne  sais pas."))
    refused, wrongly = answerer.answer(UNANSWERABLE), answerer.answer(ANSWERABLE)
    assert refused.refused and refused.outcome == "refuse" and refused.sentences == []
    assert refusal_rate([refused]) == 1.0 and false_refusal_rate([wrongly]) == 1.0
    answered = BaselineAnswerer(retriever, ScriptedGenerator("Le parking est derrière la mairie [1].")).answer(
        UNANSWERABLE
    )
    assert refusal_rate([answered]) == 0.0


def test_a_model_failure_is_an_error_not_an_answer(retriever: IndexRetriever) -> None:
    result = BaselineAnswerer(retriever, ScriptedGenerator(error=GenerationError("délai dépassé"))).answer(ANSWERABLE)
    assert result.error == "délai dépassé" and result.answer == "" and answer_correctness([result]) == 0.0


def test_earlier_turns_come_before_the_extracts_and_join_the_search(retriever: IndexRetriever) -> None:
    history = earlier_turns({**ANSWERABLE, "history": ["La déchetterie ouvre quand ?"]})
    assert search_query("et le dimanche ?", history) == "La déchetterie ouvre quand ? et le dimanche ?"
    assert search_query("et le dimanche ?", []) == "et le dimanche ?"
    documents = retriever.invoke("déchetterie")
    messages = baseline_prompt("et le dimanche ?", documents, history).messages
    assert [m["role"] for m in messages] == ["system", "user", "user"]
    assert messages[0]["content"] == INSTRUCTIONS and messages[1]["content"] == "La déchetterie ouvre quand ?"
    assert "[1] Déchetterie — Horaires" in messages[2]["content"]


def test_answer_sentences_carry_their_citations() -> None:
    rows = answer_sentences("Les bacs sont collectés le mardi. [1] L'entrée coûte 3 euros [2, 3].")
    assert rows == [
        {"text": "Les bacs sont collectés le mardi.", "citations": [1]},
        {"text": "L'entrée coûte 3 euros.", "citations": [2, 3]},
    ]


def test_the_report_shows_the_product_and_the_baseline_side_by_side(
    retriever: IndexRetriever, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(report, "REPORTS", tmp_path)
    product = BaselineAnswerer(retriever, ScriptedGenerator(f"{OPENING[:-1]} [1].")).answer(ANSWERABLE)
    baseline = baseline_run([BaselineAnswerer(retriever, ScriptedGenerator("Je ne sais pas.")).answer(ANSWERABLE)])
    assert baseline.summaries["cua"]["all"]["evidence@3"] is None  # the baseline ranks no evidence
    stem = write_reports([product], summaries([product]), {"cua": "full"}, "test", baseline)
    markdown = stem.with_suffix(".md").read_text(encoding="utf-8")
    assert "## Product and same-run baseline" in markdown
    header = next(line for line in markdown.splitlines() if "cua baseline" in line)
    assert header.startswith("| metric | cua product | cua baseline |")
    assert "| answer_correctness | 1.000 | 0.000 |" in markdown and "| false_refusal | 0.000 | 1.000 |" in markdown
    payload = json.loads(stem.with_suffix(".json").read_text(encoding="utf-8"))
    assert payload["baseline"]["summaries"]["cua"]["all"]["false_refusal"] == 1.0
    assert payload["baseline"]["items"][0]["answer"] == "Je ne sais pas."
