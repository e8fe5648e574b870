"""The helpdesk's pure functions, on the stub service's answers (one per outcome)."""

from __future__ import annotations

from pathlib import Path

import pytest
from stub_service import DRAFT, DROPPED_SENTENCE, EVIDENCE_ONLY_REASON, REFUSE_REASON, StubService, stub_helpdesk

from bot.api.display import EVIDENCE_LEAD, REFUSAL_MESSAGE, SHIPPED_AUTHORITY, answer_with_sources
from bot.stores.feedback import FeedbackReason
from core.types import Answer, DocumentInfo, IndexedDocument, Outcome
from tests.fixtures.factories import make_settings
from ui import helpdesk

QUESTION = "Combien de visiteurs au Numericamp ?"


def _answer(question: str = QUESTION) -> Answer:
    return StubService().ask(question)


def test_outcome_note_names_the_decision_and_its_reason() -> None:
    assert "Réponse rédigée et vérifiée" in helpdesk.outcome_note(_answer())
    evidence_only = helpdesk.outcome_note(_answer("Les extraits sur le Numericamp ?"))
    assert "Extraits seuls" in evidence_only and EVIDENCE_ONLY_REASON in evidence_only
    refusal = helpdesk.outcome_note(_answer("Ma carte grise ?"))
    assert "Refus" in refusal and REFUSE_REASON in refusal


def test_evidence_table_lists_ranked_sentences_with_scores() -> None:
    rows = helpdesk.evidence_table(_answer())
    assert rows == [
        [
            1,
            0.82,
            0.77,
            "Bilan du Numericamp 2024",
            "p. 12",
            "Le Numericamp a réuni 450 visiteurs à la Citadelle d'Arras.",
        ],
        [
            2,
            0.64,
            0.59,
            "Guide de l'inclusion numérique",
            "Ateliers",
            "Les ateliers du conseiller numérique sont gratuits et ouverts à tous.",
        ],
    ]
    assert len(rows[0]) == len(helpdesk.EVIDENCE_HEADERS)


def test_passages_table_marks_cited_passages_in_rank_order() -> None:
    rows = helpdesk.passages_table(_answer())
    assert [row[:5] for row in rows] == [
        [1, 0.82, "oui", "Bilan du Numericamp 2024", "p. 12"],
        [2, 0.64, "oui", "Guide de l'inclusion numérique", "Ateliers"],
    ]
    refused = helpdesk.passages_table(_answer("Ma carte grise ?"))
    assert [row[2] for row in refused] == ["non", "non"]
    assert len(rows[0]) == len(helpdesk.PASSAGE_HEADERS)


def test_copied_answer_by_outcome() -> None:
    text = answer_with_sources(_answer())
    assert text.startswith("Le Numericamp a accueilli 450 visiteurs [1].")
    assert text.endswith(
        "Sources :\n[1] Bilan du Numericamp 2024, p. 12\n[2] Guide de l'inclusion numérique, « Ateliers »"
    )
    assert answer_with_sources(_answer("Les extraits ?")).startswith(EVIDENCE_LEAD)
    assert answer_with_sources(_answer("Ma carte grise ?")) == REFUSAL_MESSAGE


def test_dropped_note_gives_each_sentence_with_its_reason() -> None:
    note = helpdesk.dropped_note(_answer())
    assert f"- {DROPPED_SENTENCE} — aucune preuve ne le dit" in note
    assert helpdesk.dropped_note(_answer("Ma carte grise ?")) == helpdesk.NO_DROPPED_SENTENCE


def test_draft_and_timings() -> None:
    assert helpdesk.draft_text(_answer()) == DRAFT
    assert helpdesk.draft_text(_answer("Ma carte grise ?")) == helpdesk.NO_DRAFT
    assert helpdesk.timings_note(_answer()) == (
        "Durées : preuves 0.01 s · premier mot 0.03 s · total 0.06 s · 321 jetons de contexte"
    )
    assert helpdesk.timings_note(Answer(Outcome.REFUSE, "")) == "Durées : non mesurées"


def test_document_choices_sorted_by_title() -> None:
    docs = [IndexedDocument(DocumentInfo("b", "Zoo"), passages=1), IndexedDocument(DocumentInfo("a", "atelier"), 2)]
    assert helpdesk.document_choices(docs) == [("atelier", "a"), ("Zoo", "b")]


def test_history_keeps_last_entries_most_recent_first() -> None:
    history: list[dict[str, object]] = []
    for number in range(11):
        history = helpdesk.add_to_history(
            history, f"Question {number}", _answer(), size=10, authority=SHIPPED_AUTHORITY
        )
    history = helpdesk.add_to_history(
        history, "Question 11", _answer("Les extraits ?"), size=10, authority=SHIPPED_AUTHORITY
    )
    history = helpdesk.add_to_history(
        history, "carte grise", _answer("Ma carte grise ?"), size=10, authority=SHIPPED_AUTHORITY
    )
    assert len(history) == 10
    assert history[0]["question"] == "Question 3"
    lines = helpdesk.history_markdown(history).splitlines()
    assert lines[:3] == ["1. carte grise (refusée)", "2. Question 11 (extraits seuls)", "3. Question 10 (répondue)"]
    assert helpdesk.history_markdown([]) == "Aucune question pour l'instant."


def test_conseiller_feedback_maps_rating_and_origin() -> None:
    feedback = helpdesk.conseiller_feedback("Q ?", "R.", "👎 Pas utile", ["incorrect", "hors_sujet"], "  Faux  ")
    assert (feedback.rating, feedback.origin, feedback.comment) == ("down", "helpdesk", "Faux")
    assert feedback.reasons == (FeedbackReason.INCORRECT, FeedbackReason.OFF_TOPIC)
    with pytest.raises(ValueError, match="Choisissez"):
        helpdesk.conseiller_feedback("Q ?", "R.", None, [], "")


def test_build_helpdesk_builds_blocks(tmp_path: Path) -> None:
    settings = make_settings(feedback_db=tmp_path / "feedback.sqlite3")
    page = stub_helpdesk(settings)
    assert page.title == "Assistant CUA — espace conseillers"
