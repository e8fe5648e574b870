"""The helpdesk's pure functions, on hand-built answers."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.feedback import FeedbackStore
from bot.schemas import DocumentSummary
from core.types import AnswerResult, Chunk, Passage
from ui import helpdesk

NUMERICAMP = Chunk(
    chunk_id="c1", doc_id="bilan", title="Bilan du Numericamp", text="Le Numericamp a réuni 450 visiteurs.", page=12
)
ATELIERS = Chunk(
    chunk_id="c2", doc_id="guide", title="Guide de l'inclusion", text="Les ateliers sont gratuits.", section="Ateliers"
)
SANS_LIEU = Chunk(chunk_id="c3", doc_id="note", title="Note interne", text="Texte sans page.")


def _result(**overrides: object) -> AnswerResult:
    fields: dict[str, object] = {
        "answer": "Le Numericamp a accueilli 450 visiteurs [1].\n\n« Le Numericamp a réuni 450 visiteurs. » [1]",
        "refused": False,
        "passages": [
            Passage(chunk=ATELIERS, score=0.61234, rank=2, cited=False),
            Passage(chunk=NUMERICAMP, score=0.87654, rank=1, cited=True),
            Passage(chunk=SANS_LIEU, score=0.1, rank=3, cited=False),
        ],
        "cited_ids": [1],
    }
    fields.update(overrides)
    return AnswerResult(**fields)  # type: ignore[arg-type]


def test_passages_table_lists_every_passage_in_rank_order() -> None:
    rows = helpdesk.passages_table(_result())
    assert rows == [
        [1, 0.877, "Bilan du Numericamp", "p. 12", "oui", "Le Numericamp a réuni 450 visiteurs."],
        [2, 0.612, "Guide de l'inclusion", "Ateliers", "non", "Les ateliers sont gratuits."],
        [3, 0.1, "Note interne", "", "non", "Texte sans page."],
    ]
    assert len(rows[0]) == len(helpdesk.TABLE_HEADERS)


def test_plain_text_answer_lists_only_cited_sources() -> None:
    text = helpdesk.plain_text_answer(_result())
    assert text.startswith("Le Numericamp a accueilli 450 visiteurs [1].")
    assert "Sources :\n[1] Bilan du Numericamp, p. 12 : « Le Numericamp a réuni 450 visiteurs. »" in text
    assert "Guide de l'inclusion" not in text


def test_plain_text_answer_of_refusal_is_the_answer_alone() -> None:
    refusal = "Les documents ne couvrent pas cette question. Adressez-vous à votre mairie."
    result = _result(answer=refusal, refused=True, passages=[Passage(chunk=ATELIERS, score=0.2, rank=1)])
    assert helpdesk.plain_text_answer(result) == refusal


def test_dropped_note() -> None:
    assert helpdesk.dropped_note(_result()) == "Aucune phrase retirée"
    note = helpdesk.dropped_note(_result(dropped_sentences=["Phrase inventée.", "Autre phrase."]))
    assert "- Phrase inventée.\n- Autre phrase." in note


def test_fallback_note() -> None:
    assert "vérifiée" in helpdesk.fallback_note(_result())
    assert "secours" in helpdesk.fallback_note(_result(fallback=True))
    assert "refusée" in helpdesk.fallback_note(_result(refused=True))


def test_document_choices_sorted_by_title() -> None:
    docs = [
        DocumentSummary(document="b", title="Zoo", publisher="", date="", chunks=1),
        DocumentSummary(document="a", title="atelier", publisher="", date="", chunks=2),
    ]
    assert helpdesk.document_choices(docs) == [("atelier", "a"), ("Zoo", "b")]


def test_history_keeps_last_entries_most_recent_first() -> None:
    history: list[dict[str, object]] = []
    for number in range(12):
        history = helpdesk.add_to_history(history, f"Question {number}", _result(), size=10)
    assert len(history) == 10
    assert history[0]["question"] == "Question 2"
    markdown = helpdesk.history_markdown(history)
    assert markdown.splitlines()[0] == "1. Question 11 (répondue)"
    assert helpdesk.history_markdown([]) == "Aucune question pour l'instant."


def test_feedback_request_maps_rating_and_origin() -> None:
    request = helpdesk.feedback_request("Q ?", "R.", "👎 Pas utile", ["incorrect", "hors sujet"], "  Faux  ")
    assert (request.rating, request.origin, request.comment) == ("down", "helpdesk", "Faux")
    assert request.reasons == ["incorrect", "hors sujet"]
    with pytest.raises(ValueError, match="Choisissez"):
        helpdesk.feedback_request("Q ?", "R.", None, [], "")


def test_build_helpdesk_builds_blocks(tmp_path: Path) -> None:
    from stub_pipeline import StubPipeline

    from core.settings import Settings

    settings = Settings(feedback_db=tmp_path / "feedback.sqlite3")
    page = helpdesk.build_helpdesk(StubPipeline(), settings, FeedbackStore(settings.feedback_db, False))
    assert page.title == "Assistant CUA — espace conseillers"
