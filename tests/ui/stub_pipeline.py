"""Test double of `bot.pipeline.Pipeline`: deterministic answers over two fake passages.

It lets the widget and helpdesk tests run without models or an index. A question that
mentions "carte grise" is refused, every other one gets the same cited answer.
"""

from __future__ import annotations

from collections.abc import Iterator

from bot.pipeline import StreamEvent
from bot.schemas import DocumentSummary, Turn
from core.types import AnswerResult, Chunk, Passage

REFUSAL_TRIGGER = "carte grise"

REFUSAL_TEXT = (
    "Les documents de la Communauté Urbaine d'Arras ne répondent pas à cette question. "
    "Adressez-vous à votre mairie, à un espace France Services ou à un conseiller numérique."
)

ANSWER_TEXT = (
    "Le Numericamp a accueilli 450 visiteurs [1]. Les ateliers du conseiller numérique sont gratuits [2].\n\n"
    "« Le Numericamp a réuni 450 visiteurs » [1]"
)

# Streamed before the grounding check removes it: the final answer must not show it.
DROPPED_SENTENCE = "Le Numericamp aura lieu tous les ans."

CHUNKS = (
    Chunk(
        chunk_id="bilan-numericamp-0001",
        doc_id="bilan-numericamp",
        title="Bilan du Numericamp 2024",
        text="Le Numericamp a réuni 450 visiteurs à la Citadelle d'Arras.",
        page=12,
    ),
    Chunk(
        chunk_id="guide-inclusion-0003",
        doc_id="guide-inclusion",
        title="Guide de l'inclusion numérique",
        text="Les ateliers du conseiller numérique sont gratuits et ouverts à tous.",
        section="Ateliers",
    ),
)


def _passages(refused: bool) -> list[Passage]:
    scores = (0.21, 0.12) if refused else (0.82, 0.64)
    return [
        Passage(chunk=chunk, score=score, rank=rank, cited=not refused)
        for rank, (chunk, score) in enumerate(zip(CHUNKS, scores, strict=False), start=1)
    ]


def _is_refused(question: str) -> bool:
    return REFUSAL_TRIGGER in question.lower()


class StubPipeline:
    """Answers every question the same way, without models."""

    def __init__(self) -> None:
        self.questions: list[str] = []

    def ask(self, question: str, history: list[Turn] | None = None, documents: list[str] | None = None) -> AnswerResult:
        self.questions.append(question)
        if _is_refused(question):
            return AnswerResult(answer=REFUSAL_TEXT, refused=True, passages=_passages(refused=True))
        return AnswerResult(
            answer=ANSWER_TEXT,
            refused=False,
            passages=_passages(refused=False),
            cited_ids=[1, 2],
            dropped_sentences=[DROPPED_SENTENCE],
            timings={"retrieve": 0.01, "generate": 0.02},
        )

    def stream(
        self, question: str, history: list[Turn] | None = None, documents: list[str] | None = None
    ) -> Iterator[StreamEvent]:
        result = self.ask(question, history, documents)
        yield StreamEvent(kind="sources", passages=result.passages)
        streamed = result.answer if result.refused else f"{DROPPED_SENTENCE} {result.answer}"
        for word in streamed.split(" "):
            yield StreamEvent(kind="token", text=word + " ")
        yield StreamEvent(kind="done", result=result)

    def documents(self) -> list[DocumentSummary]:
        return [
            DocumentSummary(document=chunk.doc_id, title=chunk.title, publisher="CUA", date="2024", chunks=1)
            for chunk in CHUNKS
        ]
