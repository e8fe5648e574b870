"""What the model reads of each piece of evidence: its section, a heading path by its last levels; and what its
verdict reads."""

from dataclasses import replace

from bot.answer.prompts import user_message, verdict_prompt
from core.types import Chunk, Evidence, Sentence

CASE = "Demande en France › Pièces à fournir › Votre carte est périmée depuis plus de 5 ans"


def _evidence(section: str) -> Evidence:
    text = "- Photo d'identité de moins de 6 mois"
    chunk = Chunk(chunk_id="F1341:3", doc_id="F1341", title="Carte d'identité d'un majeur", text=text, section=section)
    return Evidence(1, Sentence("F1341:3:0", chunk.chunk_id, 0, text, text), chunk, 1.0)


def test_a_long_heading_path_keeps_the_case_the_sentence_belongs_to() -> None:
    assert "[1] (… › Votre carte est périmée depuis plus de 5 ans) - Photo" in user_message(
        "Quels papiers ?", [_evidence(CASE)]
    )


def test_a_short_heading_path_is_read_whole() -> None:
    assert "[1] (Demande en France › Coût) - Photo" in user_message(
        "Combien ?", [_evidence("Demande en France › Coût")]
    )


def test_the_verdict_reads_each_sentence_as_ranked_the_answer_as_read_on() -> None:
    """The verdict's threshold was chosen on the ranked sentences: a best sentence read on past its own context
    (EvidenceRanker.completed) is judged on its own context, and phrased by the model from the whole."""
    ranked = _evidence("Demande en France › Pièces à fournir")
    read_on = replace(
        ranked,
        sentence=replace(ranked.sentence, context=ranked.sentence.text + " - Justificatif de domicile"),
        own_context=ranked.sentence.context,
    )
    judged = verdict_prompt("Quels papiers ?", [read_on]).messages[-1]["content"]
    assert "Photo d'identité" in judged and "Justificatif de domicile" not in judged
    assert "Justificatif de domicile" in user_message("Quels papiers ?", [read_on])
