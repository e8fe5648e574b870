"""Eval metrics on hand-built results, the question sets, and the faithfulness metric against hand labels."""

import json
import re
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup

from bot.answer.prompts import SYSTEM_PROMPT
from core.settings import REPO_ROOT
from core.text import fold, fold_number_words
from eval.corpora import CORPORA, DATA, DOCUMENTS, is_installed, run_plan
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
    link,
    obeyed_or_leaked,
    other_case,
    procedure_steps,
    recall_at_k,
    refusal_rate,
    sentence_supported,
    summarise,
)
from eval.report import (
    LOWER_IS_BETTER,
    RATE_METRICS,
    REPORTS,
    RETRIEVAL_GATED,
    corpus_gate,
    failure,
    failures_markdown,
    gate_failures,
    gated_summary,
    load_thresholds,
    summaries,
)
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
    unanswerable: dict[str, Any] = {"kind": "unanswerable", "expected": [], "source": None, "split": "dev"}
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
FACETS = {"documents", "steps", "cost", "where", "online", "deadline", "yes_no", "conditions", "case"}
FACETS |= {"local_fact", "follow_up", "other"}


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
        assert item["kind"] != "procedure" or "expected_steps" in item, item["id"]
        assert "expected_steps" not in item or item["kind"] in {"list", "procedure"}, item["id"]
        assert all(alternatives for alternatives in item["expected"] + item.get("expected_steps", [])), item["id"]
        _assert_optional_fields_are_well_formed(item)
    assert sum(i["kind"] == "unanswerable" for i in items) >= 6


def _assert_optional_fields_are_well_formed(item: dict[str, Any]) -> None:
    """facet, expected_link, other_case and history (eval/data/README.md): their types, and a follow-up's history."""
    assert item.get("facet", "other") in FACETS, item["id"]
    assert isinstance(item.get("expected_link", ""), str) and isinstance(item.get("other_case", []), list), item["id"]
    assert all(isinstance(other, str) and other for other in item.get("other_case", [])), item["id"]
    history = item.get("history", [])
    assert isinstance(history, list) and all(isinstance(turn, str) and turn for turn in history), item["id"]
    assert bool(history) == (item.get("facet") == "follow_up"), item["id"]


def test_new_question_sets_cover_every_kind_of_question() -> None:
    for corpus in ("debian-faq", "aptitude", "fiches"):
        kinds = [i["kind"] for i in load_items(corpus)]
        assert kinds.count("procedure") >= 6 and kinds.count("off_topic") >= 2, corpus
        assert {"factual", "paraphrase", "multi_fact", "list", "injection"} <= set(kinds), corpus


def _document_texts(folder: Path) -> dict[str, str]:
    """Each document's text, by the index's document id: HTML as written (no spaces added around inline
    markup, nothing dropped), Markdown and text as they are, PDF as the loader reads it, a JSON fiche as
    all its text nodes and URL attributes (not through the project's loader)."""
    texts = {}
    for path in sorted(p for p in folder.rglob("*") if p.suffix in {".html", ".md", ".txt", ".pdf", ".json"}):
        if path.suffix == ".json":
            text = " ".join(_fiche_strings(json.loads(path.read_text(encoding="utf-8"))))
        elif path.suffix == ".pdf":
            text = " ".join(unit.page_content for unit in load_file(path))
        elif path.suffix == ".html":
            text = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser").get_text()
        else:
            text = path.read_text(encoding="utf-8")
        doc_id = Path(path.relative_to(folder).as_posix()).with_suffix("").as_posix().replace("/", "-")
        texts[doc_id] = " ".join(fold_number_words(fold(text)).split())
    return texts


def _fiche_strings(node: dict[str, Any]) -> list[str]:
    """Every text node and URL attribute of a fiche in xml-js's JSON form, in document order."""
    own = [node["text"]] if node.get("type") == "text" else []
    own += [value for key, value in (node.get("attributes") or {}).items() if key == "URL"]
    return own + [text for child in node.get("children") or [] for text in _fiche_strings(child)]


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
        wanted = [alternatives[0] for alternatives in item["expected"] + item.get("expected_steps", [])]
        wanted += [item["expected_link"]] if "expected_link" in item else []
        for first in wanted + item.get("other_case", []):
            assert " ".join(fold_number_words(fold(first)).split()) in text, (item["id"], first)


def test_fiches_questions_are_grounded_in_the_listed_fiches() -> None:
    lines = (DATA / "fiches" / "fiches.txt").read_text(encoding="utf-8").splitlines()
    ids = [line for line in lines if line and not line.startswith("#")]
    assert len(ids) == len(set(ids)) and 100 <= len(ids) <= 220
    assert all(re.fullmatch(r"F\d+", fiche) for fiche in ids)
    items = load_items("fiches")
    assert {i["source"]["document"] for i in items if i["source"]} <= set(ids)
    assert sum(i.get("facet") == "follow_up" for i in items) >= 6
    assert sum(i.get("facet") == "local_fact" for i in items) >= 10
    assert all(i.get("expected_link") for i in items if i.get("facet") == "online")


def test_a_corpus_is_installed_when_its_folder_holds_html_or_markdown_pages_or_json_fiches(tmp_path: Path) -> None:
    assert not is_installed(tmp_path / "absent") and not is_installed(tmp_path)
    (tmp_path / "notes.txt").write_text("pas un document du corpus", encoding="utf-8")
    assert not is_installed(tmp_path)
    (tmp_path / "F1342.json").write_text("{}", encoding="utf-8")
    assert is_installed(tmp_path)
    pages = tmp_path / "pages"
    pages.mkdir()
    (pages / "F1342.md").write_text("# Fiche\n", encoding="utf-8")
    assert is_installed(pages)


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


LISTED = {
    "kind": "list",
    "expected": [["pharmacies"]],
    "expected_steps": [["assurance maladie"], ["pharmacies"]],
    "source": {"document": "F265"},
    "split": "dev",
}


def test_procedure_steps_also_judge_lists_that_give_every_item() -> None:
    every_item = ItemResult(LISTED, answer="Aux bornes de l'assurance maladie et dans les pharmacies [1].")
    one_item = ItemResult(LISTED, answer="Dans les pharmacies [1].")
    without_steps = ItemResult({k: v for k, v in LISTED.items() if k != "expected_steps"}, answer="Les pharmacies.")
    assert procedure_steps([every_item, one_item]) == 0.5 and procedure_steps([without_steps]) is None
    assert answer_correctness([one_item]) == 1.0 and failure(one_item) == "missing steps: «assurance maladie»"


ONLINE = {
    "id": "fic039",
    "question": "je peux payer mon amende en ligne ?",
    "kind": "factual",
    "expected": [["en ligne"]],
    "expected_link": "amendes.gouv.fr",
    "source": {"document": "F34212"},
    "split": "dev",
}
PAYMENT = "Payer son amende sur amendes.gouv.fr : https://www.amendes.gouv.fr/portail/index.jsp"


def test_link_is_found_in_the_answer_or_the_cited_passages() -> None:
    in_answer = ItemResult(ONLINE, answer="Payez en ligne sur amendes.gouv.fr [1].")
    in_source = ItemResult(ONLINE, answer="Payez en ligne [1].", cited=[{**EXCERPT, "excerpt": PAYMENT}])
    missing = ItemResult(ONLINE, answer="Payez en ligne [1].", cited=[{**EXCERPT, "excerpt": "Par internet."}])
    refused = ItemResult(ONLINE, answer="Voir amendes.gouv.fr, en ligne.", refused=True)
    assert link([in_answer, in_source, missing, refused, ItemResult(FACT, answer="450")]) == 0.5
    assert link([ItemResult(FACT, answer="450")]) is None and link([in_source]) == 1.0
    assert failure(missing) == "missing link: «amendes.gouv.fr»" and failure(in_source) == ""
    assert "- **expected link**: amendes.gouv.fr" in failures_markdown([missing], "fiches")


PLAIN_FINE = {
    "kind": "factual",
    "expected": [["45 jours"]],
    "other_case": ["3 mois"],
    "source": {"document": "F34212"},
    "split": "dev",
}


def test_other_case_counts_answers_that_state_another_case_of_the_page() -> None:
    right = ItemResult(PLAIN_FINE, answer="Vous avez 45 jours pour la contester [1].")
    mixed = ItemResult(PLAIN_FINE, answer="Vous avez 45 jours [1], ou 3 mois si elle est majorée [2].")
    refused = ItemResult(PLAIN_FINE, answer="3 mois", refused=True)
    assert other_case([right, mixed, refused, ItemResult(FACT, answer="450")]) == 0.5
    assert other_case([right]) == 0.0 and other_case([ItemResult(FACT, answer="450")]) is None
    assert answer_correctness([mixed]) == 1.0 and failure(mixed) == "states another case: «3 mois»"
    assert "other_case" in LOWER_IS_BETTER and {"link", "other_case"} <= set(RATE_METRICS)
    assert gate_failures({"other_case": 0.1}, {"other_case": 0.0}) and not gate_failures(
        {"other_case": 0.0}, {"other_case": 0.0}
    )
    assert summarise([mixed])["other_case"] == 1.0 and summarise([ItemResult(PLAIN_FINE)])["other_case"] is None


def test_a_follow_up_is_judged_like_any_answerable_question() -> None:
    follow_up = {
        **FACT,
        "id": "q2",
        "facet": "follow_up",
        "history": ["Combien de visiteurs ?"],
        "question": "Et d'exposants ?",
    }
    answered = ItemResult(follow_up, answer="36 exposants, 450 visiteurs [1].")
    wrong = ItemResult(follow_up, answer="36 [1].")
    assert answer_correctness([answered, wrong]) == 0.5
    assert summaries([answered])["cua"]["all"]["answer_correctness"] == 1
    assert "- **earlier message**: Combien de visiteurs ?\n- **question**: Et d'exposants ?" in failures_markdown(
        [wrong], "cua"
    )


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
    assert all(set(corpus_gate(corpus, retrieval_only=True)) == RETRIEVAL_GATED for corpus in CORPORA)
    assert "refusal" in corpus_gate("cua", retrieval_only=False) and "refusal" not in retrieval_gate


def test_the_gate_judges_the_held_out_split() -> None:
    dev = ItemResult({**FACT, "corpus": "cua"}, answer="450 visiteurs [1].", retrieved_docs=["doc-a"])
    heldout = ItemResult({**FACT, "split": "heldout", "corpus": "cua"}, answer="Je ne sais pas.", refused=True)
    judged = gated_summary(summaries([dev, heldout])["cua"])
    assert judged["answer_correctness"] == 0.0 and judged["false_refusal"] == 1.0
    assert gate_failures(judged, {"answer_correctness": 0.5}) and gated_summary(summaries([dev])["cua"]) == {}


def test_the_committed_full_run_passes_its_own_gate() -> None:
    """The floors sit under the held-out figures of eval/reports/latest.json, the last full run committed."""
    latest = json.loads((REPORTS / "latest.json").read_text(encoding="utf-8"))["summaries"]
    assert {corpus: gate_failures(gated_summary(latest[corpus]), corpus_gate(corpus, False)) for corpus in CORPORA} == (
        dict.fromkeys(CORPORA, [])
    )


def test_faithfulness_metric_agrees_with_hand_labels() -> None:
    labels = load_jsonl(LABELS)
    assert len(labels) >= 50
    result = label_agreement(labels)
    assert result["agreement"] >= 0.85, result


@pytest.mark.parametrize("options", [["--split", "dev"], ["--kind", "factual"]])
def test_the_gate_refuses_a_run_without_every_held_out_question(options: list[str]) -> None:
    from typer.testing import CliRunner

    from cli.main import app

    result = CliRunner().invoke(app, ["eval", "--gate", *options])
    assert result.exit_code == 2 and "partie heldout" in result.output
