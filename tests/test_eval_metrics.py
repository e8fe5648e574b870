"""Eval metrics on hand-built results, the question sets, and the faithfulness metric against hand labels."""

import re
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from bot.answer.prompts import SYSTEM_PROMPT
from core.settings import REPO_ROOT
from core.text import fold, fold_number_words
from eval.corpora import CORPORA, DOCUMENTS, run_plan
from eval.metrics import (
    ANSWERABLE,
    MUST_REFUSE,
    ItemResult,
    answer_correctness,
    citation_correctness,
    evidence_at_k,
    fact_recall_at_k,
    false_refusal_rate,
    has_fact,
    injection_resistance,
    label_agreement,
    obeyed_or_leaked,
    procedure_steps,
    recall_at_k,
    refusal_rate,
    sentence_supported,
    summarise,
)
from eval.report import RATE_METRICS, RETRIEVAL_METRICS, corpus_gate, failure, gate_failures, load_thresholds, summaries
from eval.runner import LABELS, load_items, load_jsonl
from ingest.loaders import load_file

FACT = {"kind": "factual", "expected": [["450"]], "source": {"document": "doc-a"}, "split": "dev"}
EXCERPT = {"id": 1, "document": "doc-a", "excerpt": "Le Numericamp a réuni 450 visiteurs."}


def test_answer_and_citation_correctness() -> None:
    good = ItemResult(FACT, answer="Il y avait 450 visiteurs [1].", retrieved_docs=["doc-a"], cited=[EXCERPT])
    wrong_doc = ItemResult(
        FACT, answer="450 visiteurs [1].", retrieved_docs=["doc-b", "doc-a"], cited=[{**EXCERPT, "document": "doc-b"}]
    )
    refused = ItemResult(FACT, answer="Je n'ai pas trouvé.", refused=True, retrieved_docs=["doc-b"])
    results = [good, wrong_doc, refused]
    assert answer_correctness(results) == 2 / 3
    assert citation_correctness(results) == 1 / 2
    assert recall_at_k(results, 1) == 1 / 3 and false_refusal_rate(results) == 1 / 3


def test_facts_match_whole_numbers_and_number_words() -> None:
    assert not has_fact("en 2023", ["3"]) and has_fact("les 3 axes", ["3"])
    assert has_fact("quarante-six communes", ["46"]) and has_fact("la cybersécurité", ["cybers"])
    assert not has_fact("réunion 450", ["45"])


def test_fact_recall_and_evidence_at_k_need_every_fact_in_the_first_k() -> None:
    item = {**FACT, "expected": [["450"], ["36"]]}
    result = ItemResult(
        item,
        retrieved_texts=["450 visiteurs", "36 exposants"],
        evidence=["Le Numericamp a réuni 450 visiteurs.", "Autre phrase.", "36 partenaires exposants"],
    )
    assert fact_recall_at_k([result], 1) == 0.0 and fact_recall_at_k([result], 2) == 1.0
    assert evidence_at_k([result], 1) == 0.0 and evidence_at_k([result], 3) == 1.0


def test_gate_fails_on_a_missing_metric() -> None:
    assert gate_failures({"refusal": 0.95}, {"refusal": 0.9}) == []
    assert gate_failures({"refusal": 0.85}, {"refusal": 0.9}) and gate_failures({}, {"refusal": 0.9})
    assert gate_failures({"refusal": None}, {"refusal": 0.9})


def test_refusal_and_injection() -> None:
    unanswerable = {"kind": "unanswerable", "expected": [], "source": None, "split": "dev"}
    injection = {**unanswerable, "kind": "injection", "forbidden": ["pwned"]}
    results = [
        ItemResult(unanswerable, refused=True),
        ItemResult(unanswerable, answer="La mairie ouvre à 9 h [1]."),
        ItemResult(injection, answer="PWNED"),
        ItemResult(injection, answer="Je réponds uniquement aux questions sur les documents.", refused=True),
    ]
    assert refusal_rate(results) == 0.5 and injection_resistance(results) == 0.5


def test_sentence_support() -> None:
    passages = ["Le Numericamp a réuni 450 visiteurs à Artois Expo."]
    question = "Combien de visiteurs ?"
    assert sentence_supported("Le Numericamp a réuni 450 visiteurs [1].", passages, question)
    assert not sentence_supported("Le Numericamp a réuni 540 visiteurs [1].", passages, question)
    assert not sentence_supported("Le Numericamp a réuni 450 visiteurs.", passages, question)
    assert not sentence_supported("» [1]", passages, question)


KINDS = ANSWERABLE | MUST_REFUSE | {"injection"}


@pytest.mark.parametrize("corpus", CORPORA)
def test_question_sets_are_well_formed(corpus: str) -> None:
    items = load_items(corpus)
    assert len({i["id"] for i in items}) == len(items) >= 40
    assert {i["kind"] for i in items} <= KINDS and {i["split"] for i in items} == {"dev", "heldout"}
    assert 0.3 * len(items) <= sum(i["split"] == "heldout" for i in items) <= 0.45 * len(items)
    for kind in {i["kind"] for i in items}:
        of_kind = [i for i in items if i["kind"] == kind]
        assert len(of_kind) < 2 or {i["split"] for i in of_kind} == {"dev", "heldout"}, kind
    for item in items:
        answerable = item["kind"] in ANSWERABLE
        assert bool(item["expected"]) == answerable and bool(item["source"]) == answerable, item["id"]
        assert ("expected_steps" in item) == (item["kind"] == "procedure"), item["id"]
        assert all(alternatives for alternatives in item["expected"] + item.get("expected_steps", [])), item["id"]
    assert sum(i["kind"] == "unanswerable" for i in items) >= 6


def test_new_question_sets_cover_every_kind_of_question() -> None:
    for corpus in ("debian-faq", "aptitude"):
        kinds = [i["kind"] for i in load_items(corpus)]
        assert kinds.count("procedure") >= 6 and kinds.count("off_topic") >= 2, corpus
        assert {"factual", "paraphrase", "multi_fact", "list", "injection"} <= set(kinds), corpus


def _document_texts(folder: Path) -> dict[str, str]:
    """Each document's text, by the index's document id: HTML as written (no spaces added around inline
    markup, nothing dropped), Markdown and text as they are, PDF as the loader reads it."""
    texts = {}
    for path in sorted(p for p in folder.rglob("*") if p.suffix in {".html", ".md", ".txt", ".pdf"}):
        if path.suffix == ".pdf":
            text = " ".join(unit.page_content for unit in load_file(path))
        elif path.suffix == ".html":
            text = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser").get_text()
        else:
            text = path.read_text(encoding="utf-8")
        doc_id = Path(path.relative_to(folder).as_posix()).with_suffix("").as_posix().replace("/", "-")
        texts[doc_id] = " ".join(fold_number_words(fold(text)).split())
    return texts


@pytest.mark.parametrize("corpus", CORPORA)
def test_first_alternatives_appear_in_their_documents(corpus: str) -> None:
    folder = REPO_ROOT / "corpus" if corpus == "cua" else DOCUMENTS / corpus
    if not folder.is_dir():
        pytest.skip(f"{folder} absent: make eval-corpora")
    texts = _document_texts(folder)
    for item in load_items(corpus):
        if not item["source"]:
            continue
        text = texts[item["source"]["document"]]
        for alternatives in item["expected"] + item.get("expected_steps", []):
            assert " ".join(fold_number_words(fold(alternatives[0])).split()) in text, (item["id"], alternatives[0])


def test_procedure_steps_need_every_step_of_an_answered_procedure() -> None:
    item = {
        "kind": "procedure",
        "expected": [["dist-upgrade"]],
        "expected_steps": [["apt-get update"], ["apt-get dist-upgrade", "dist-upgrade"]],
        "source": {"document": "uptodate.fr"},
        "split": "dev",
    }
    every_step = ItemResult(item, answer="Lancez apt-get update [1], puis apt-get dist-upgrade [1].")
    last_step_only = ItemResult(item, answer="Lancez apt-get dist-upgrade [1].")
    refused = ItemResult(item, answer="Lancez apt-get update puis dist-upgrade.", refused=True)
    fact = ItemResult(FACT, answer="Il y avait 450 visiteurs [1].")
    assert procedure_steps([every_step]) == 1.0 and procedure_steps([last_step_only]) == 0.0
    assert procedure_steps([every_step, last_step_only, refused, fact]) == 1 / 3
    assert answer_correctness([last_step_only]) == 1.0  # its expected fact is there, a step is not
    assert procedure_steps([fact]) is None and summarise([every_step])["procedure_steps"] == 1.0
    assert failure(last_step_only) == "missing steps: «apt-get update»" and failure(every_step) == ""


def test_prompt_leaks_are_caught_without_reading_the_bot() -> None:
    injection = {"kind": "injection", "expected": [], "source": None, "split": "dev", "forbidden": ["pwned"]}
    assert obeyed_or_leaked(ItemResult(injection, answer=SYSTEM_PROMPT))
    for line in SYSTEM_PROMPT.splitlines():
        assert obeyed_or_leaked(ItemResult(injection, answer=f"Voici mes consignes : {line}")), line
    refusal = "Je suis l'assistant documentaire : je réponds seulement à partir des documents."
    assert not obeyed_or_leaked(ItemResult(injection, answer=refusal))
    source = (REPO_ROOT / "eval" / "metrics.py").read_text(encoding="utf-8")
    assert not re.search(r"^\s*(from|import) bot\b", source, re.M)


def test_default_run_is_cua_with_the_model_and_the_other_corpora_without() -> None:
    assert run_plan(None) == run_plan("all") == dict.fromkeys(CORPORA, "full")
    assert run_plan("all", retrieval_only=True) == dict.fromkeys(CORPORA, "retrieval")
    assert run_plan("aptitude") == {"aptitude": "full"} and run_plan(None, remote=True) == {"cua": "remote"}
    with pytest.raises(ValueError):
        run_plan("wikipedia")
    with pytest.raises(ValueError):
        run_plan("debian-faq", remote=True)


def test_metrics_are_reported_per_corpus_and_overall_and_gated_per_corpus() -> None:
    cua = ItemResult({**FACT, "corpus": "cua"}, answer="450 visiteurs [1].", retrieved_docs=["doc-a"])
    faq = ItemResult({**FACT, "corpus": "debian-faq"}, answer="Je ne sais pas.", refused=True)
    result = summaries([cua, faq])
    assert list(result) == ["all", "cua", "debian-faq"]
    assert result["cua"]["all"]["answer_correctness"] == 1.0 and result["debian-faq"]["all"]["answer_correctness"] == 0
    assert result["all"]["all"]["answer_correctness"] == 0.5 and "split:dev" in result["debian-faq"]
    assert list(summaries([cua])) == ["cua"]
    thresholds = load_thresholds()
    assert set(thresholds["gate"]) == set(CORPORA)
    assert all(set(gate) <= set(RATE_METRICS) for gate in thresholds["gate"].values())
    retrieval_gate = corpus_gate("debian-faq", retrieval_only=True)
    assert retrieval_gate and "answer_correctness" not in retrieval_gate
    assert "answer_correctness" in corpus_gate("cua", retrieval_only=False)
    assert all(set(corpus_gate(corpus, retrieval_only=True)) == RETRIEVAL_METRICS for corpus in CORPORA)


def test_faithfulness_metric_agrees_with_hand_labels() -> None:
    labels = load_jsonl(LABELS)
    assert len(labels) >= 50
    result = label_agreement(labels)
    assert result["agreement"] >= 0.85, result
