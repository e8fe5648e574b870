"""The draft verified sentence by sentence as it streams: only kept sentences are shown, and they are the ones the
whole draft's verification keeps."""

from dataclasses import dataclass

import pytest

from bot.answer.service import read_question
from bot.answer.streamed_verification import StreamedVerification
from bot.answer.verification import Verdict, parse_draft, verify
from core.types import Chunk, Evidence
from ingest.sentences import sentences_of

MIN_SUPPORT = 0.6
VISITORS = "Combien de visiteurs au Numericamp ?"
REMOVED = "Le Numericamp aura lieu tous les ans à Lille."


def evidence(number: int, text: str) -> Evidence:
    chunk = Chunk(chunk_id=f"d:{number}", doc_id="d", title="Livre blanc — Numericamp", text=text, section="Chiffres")
    (sentence,) = sentences_of([chunk], context_chars=60, max_chars=320)
    return Evidence(number, sentence, chunk, score=1.0)


EVIDENCE = [
    evidence(1, "Le Numericamp a réuni 450 visiteurs et 36 partenaires exposants."),
    evidence(2, "La CUA n'a jamais facturé les ateliers aux habitants."),
]


@dataclass
class Streamed:
    while_writing: list[str]  # the sentences shown before the draft ended
    at_the_end: list[str]  # those shown once it ended
    verdict: Verdict


def stream(draft: str, question: str = VISITORS, cut: bool = False, by_character: bool = False) -> Streamed:
    """The draft fed word by word (or character by character), as a model streams it."""
    checked = StreamedVerification(read_question(question, [], 8), EVIDENCE, MIN_SUPPORT)
    tokens = list(draft) if by_character else [f"{word} " for word in draft.split(" ")]
    while_writing = [s.text for token in tokens for s in checked.add(token)]
    verdict = checked.verdict(cut)
    return Streamed(while_writing, [s.text for s in checked.rest(verdict)], verdict)


def whole_draft_verdict(draft: str, question: str = VISITORS, cut: bool = False) -> Verdict:
    return verify(parse_draft(draft, cut), read_question(question, [], 8), EVIDENCE, MIN_SUPPORT)


FREE = "Les ateliers sont-ils payants ?"


@pytest.mark.parametrize(
    ("draft", "question", "cut"),
    [
        (
            f"{REMOVED} Le Numericamp a réuni 450 visiteurs [1]. La CUA n'a jamais facturé les ateliers [2].",
            VISITORS,
            False,
        ),
        ("Le Numericamp a réuni 450 visiteurs [1]. Il a aussi réuni 900 partenaires [1]. Il a duré", VISITORS, True),
        (
            "Le Numericamp a réuni des visiteurs [1]. Il y en avait 450 [1]. Voici les exposants : 36 exposants",
            VISITORS,
            True,
        ),
        ("La CUA n'a jamais facturé les ateliers [2]. Les ateliers sont gratuits.", FREE, False),
    ],
)
def test_the_sentences_shown_are_those_the_whole_drafts_verification_keeps(
    draft: str, question: str, cut: bool
) -> None:
    streamed = stream(draft, question, cut)
    assert streamed.verdict == whole_draft_verdict(draft, question, cut)
    assert streamed.while_writing + streamed.at_the_end == [s.text for s in streamed.verdict.kept]


def test_a_verified_sentence_shows_while_the_model_writes_and_a_removed_one_never() -> None:
    streamed = stream(f"{REMOVED} Le Numericamp a réuni 450 visiteurs [1]. La CUA n'a jamais facturé les ateliers [2].")
    assert streamed.while_writing == ["Le Numericamp a réuni 450 visiteurs."]
    assert streamed.at_the_end == ["La CUA n'a jamais facturé les ateliers."]
    assert [d.text for d in streamed.verdict.dropped] == [REMOVED]


def test_sentences_wait_for_the_asked_fact_which_may_drop_them_all() -> None:
    draft = "Le Numericamp a réuni des visiteurs et des partenaires exposants [1]. Il y avait des stands [1]. Fin."
    streamed = stream(draft)
    assert streamed.while_writing == [] and streamed.verdict.kept == []
    given = stream("Le Numericamp a réuni des visiteurs [1]. Il y en avait 450 [1]. La CUA n'a jamais facturé [2].")
    assert given.while_writing == ["Le Numericamp a réuni des visiteurs.", "Il y en avait 450."]


def test_nothing_shows_before_the_draft_cites_a_source() -> None:
    streamed = stream("Le Numericamp a réuni 450 visiteurs. Il a réuni 36 partenaires exposants. Merci.")
    assert streamed.while_writing == [] and streamed.at_the_end


def test_a_sentence_announcing_a_cut_off_one_is_never_shown() -> None:
    streamed = stream("Le Numericamp a réuni 450 visiteurs [1]. Voici les exposants :\nLes partenaires du", cut=True)
    assert streamed.while_writing == ["Le Numericamp a réuni 450 visiteurs."] and streamed.at_the_end == []
    assert [d.text for d in streamed.verdict.dropped] == ["Voici les exposants :", "Les partenaires du"]


def test_a_citation_still_being_written_stays_with_its_sentence() -> None:
    draft = "Le Numericamp aura lieu à Lille. [1] Le Numericamp a réuni 450 visiteurs. [1]"
    streamed = stream(draft, by_character=True)
    assert streamed.verdict == whole_draft_verdict(draft)
    assert [d.text for d in streamed.verdict.dropped] == ["Le Numericamp aura lieu à Lille. [1]"]


NUMBERED = (
    "Voici les chiffres :\n1. Le Numericamp a réuni 450 visiteurs [1].\n36. La CUA n'a jamais facturé les ateliers [2]."
)


@pytest.mark.parametrize("by_character", [False, True])
def test_a_numbered_lists_markers_are_never_shown_as_sentences(by_character: bool) -> None:
    """« 36. » read alone was a sentence, kept since the evidence holds a 36, and shown as « 36 [1]. »."""
    streamed = stream(NUMBERED, by_character=by_character)
    assert streamed.verdict == whole_draft_verdict(NUMBERED)
    assert streamed.while_writing + streamed.at_the_end == [
        "Le Numericamp a réuni 450 visiteurs.",
        "La CUA n'a jamais facturé les ateliers.",
    ]
