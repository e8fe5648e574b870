"""The API contract built from the domain's objects (bot/api/convert.py)."""

from dataclasses import replace

from bot.api.convert import evidence_source
from core.types import Chunk, Evidence, Sentence

QUOTE = "Le Numericamp a réuni 450 visiteurs à la Citadelle d'Arras les 12 et 13 mai."
OTHER = "Les ateliers du conseiller numérique sont gratuits et ouverts à tous."


def _evidence(text: str) -> Evidence:
    chunk = Chunk(chunk_id="c1", doc_id="d1", title="Bilan du Numericamp", text=text)
    sentence = Sentence(sentence_id="s1", chunk_id="c1", position=0, text=text, context=text, end=len(text))
    return Evidence(number=1, sentence=sentence, chunk=chunk, score=0.8)


def test_steps_read_past_their_passage_are_their_sources_excerpt() -> None:
    """A sentence's source shows its passage; steps read on past it (a procedure's chapters) show themselves, so
    that the cited source holds what the answer says."""
    alone = _evidence(QUOTE)
    assert evidence_source(alone).excerpt == QUOTE
    steps = f"{QUOTE}\n{OTHER}"
    read_on = replace(alone, sentence=replace(alone.sentence, text=steps, context=steps, end=len(steps)))
    assert evidence_source(read_on).excerpt == steps
