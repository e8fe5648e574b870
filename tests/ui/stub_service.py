"""TEST DOUBLE of `bot.answer.service.QuestionService`: deterministic evidence-first answers, without models.

It lets the widget and helpdesk tests run without models or an index. The question picks
the outcome: "carte grise" is refused, "extraits" gets the evidence alone, every other
question gets the same cited answer. "lentement" delays each token, so a test can see the
evidence before the model's words, and each verified sentence before the answer is done.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import gradio as gr

from bot.answer.service import QuestionService, StreamEvent
from bot.api.admission import Admission
from bot.api.ratelimit import QuestionBudget
from bot.stores.feedback import FeedbackStore
from core.settings import Settings
from core.text import Analysis
from core.types import (
    Answer,
    AnswerSentence,
    Chunk,
    DocumentInfo,
    DroppedSentence,
    Evidence,
    IndexedDocument,
    Outcome,
    Passage,
    Question,
    Sentence,
    Turn,
)
from ui import helpdesk

REFUSAL_TRIGGER = "carte grise"
EVIDENCE_ONLY_TRIGGER = "extraits"
SLOW_TRIGGER = "lentement"
SLOW_TOKEN_DELAY_S = 0.4

REFUSE_REASON = "preuves trop faibles (meilleur score 0.21 < 0.45)"
EVIDENCE_ONLY_REASON = "phrase du modèle non vérifiée (nombre absent des preuves)"
ANSWER_REASON = "phrase du modèle vérifiée sur les preuves"

# In the draft's tokens, then removed by the check: the widget must never show it.
DROPPED_SENTENCE = "Le Numericamp aura lieu tous les ans."
DROPPED_REASON = "aucune preuve ne le dit"
ANSWER_SENTENCES = (
    AnswerSentence("Le Numericamp a accueilli 450 visiteurs", [1]),
    AnswerSentence("Les ateliers du conseiller numérique sont gratuits", [2]),
)
DRAFT = f"{DROPPED_SENTENCE} Le Numericamp a accueilli 450 visiteurs [1]. Les ateliers sont gratuits [2]."
# The draft's words after which the check lets each kept sentence show (as the service's `sentence` events)
VERIFIED_AFTER = {"[1].": ANSWER_SENTENCES[0], "[2].": ANSWER_SENTENCES[1]}

CHUNKS = (
    Chunk(
        chunk_id="bilan-numericamp-0001",
        doc_id="bilan-numericamp",
        title="Bilan du Numericamp 2024",
        text="Le Numericamp a réuni 450 visiteurs à la Citadelle d'Arras. Il a duré deux jours.",
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
# The stub reads the question's words only
UNANALYSED = Analysis(frozenset(), frozenset(), frozenset(), negated=False)

QUOTES = (
    "Le Numericamp a réuni 450 visiteurs à la Citadelle d'Arras.",
    "Les ateliers du conseiller numérique sont gratuits et ouverts à tous.",
)


@dataclass
class StubGenerator:
    """What /api/health reads from the generator."""

    name: str = "stub"


@dataclass
class StubEmbedder:
    name: str = "stub"


@dataclass
class StubReader:
    """What /api/health and the statistics read of the index."""

    chunks: tuple[Chunk, ...] = CHUNKS
    documents: tuple[str, ...] = tuple(chunk.doc_id for chunk in CHUNKS)
    sentences: tuple[Sentence, ...] = ()
    store: None = None  # an embedded store: never unreachable (ingest.store.store_problem)


def _evidence(weak: bool) -> list[Evidence]:
    scores = (0.21, 0.12) if weak else (0.82, 0.64)
    return [
        Evidence(
            number=number,
            sentence=Sentence(f"{chunk.chunk_id}-s0", chunk.chunk_id, 0, text, text),
            chunk=chunk,
            score=score,
            dense_score=score - 0.05,
            lexical_score=score / 2,
        )
        for number, (chunk, text, score) in enumerate(zip(CHUNKS, QUOTES, scores, strict=True), start=1)
    ]


def _passages(weak: bool) -> list[Passage]:
    scores = (0.21, 0.12) if weak else (0.82, 0.64)
    return [
        Passage(chunk=chunk, score=score, dense_score=score, rank=rank)
        for rank, (chunk, score) in enumerate(zip(CHUNKS, scores, strict=True), start=1)
    ]


class StubService(QuestionService):
    """Same evidence for every question; the question's words choose the outcome.

    The real service's `stream` and `ask` run the stub's steps (gather, phrase, finish): the phrasing step
    goes through `phrasing` (the API's Admission in the app), and a `PhrasingUnavailable` from it gives the
    evidence alone.
    """

    def __init__(self) -> None:  # no settings, models or index to load: nothing of QuestionService.__init__
        self.questions: list[str] = []
        self.generator = StubGenerator()
        self.embedder = StubEmbedder()
        self.reader = StubReader()
        self.listeners = []

    def watch_index(self) -> None:
        """No index folder to watch."""

    def documents(self) -> list[IndexedDocument]:
        return [
            IndexedDocument(DocumentInfo(chunk.doc_id, chunk.title, publisher="CUA", date="2024"), passages=1)
            for chunk in CHUNKS
        ]

    def gather(self, text: str, history: list[Turn], documents: list[str] | None, started: float) -> Answer:
        self.questions.append(text)
        refused = REFUSAL_TRIGGER in text.lower()
        outcome, reason = (Outcome.REFUSE, REFUSE_REASON) if refused else (Outcome.ANSWER, ANSWER_REASON)
        timings = {"evidence_s": 0.012}
        evidence, passages = _evidence(refused), _passages(refused)
        question = Question(text, text, UNANALYSED, UNANALYSED)
        return Answer(
            outcome, reason, evidence, question, passages=passages, timings=timings, strong_evidence=not refused
        )

    def phrase(self, answer: Answer, started: float) -> Iterator[StreamEvent]:
        assert answer.question is not None
        text = answer.question.text.lower()
        delay = SLOW_TOKEN_DELAY_S if SLOW_TRIGGER in text else 0.0
        answer.timings["first_token_s"] = 0.034
        evidence_only = EVIDENCE_ONLY_TRIGGER in text
        for word in DRAFT.split(" "):
            time.sleep(delay)
            yield StreamEvent("token", text=word + " ")
            if word in VERIFIED_AFTER and not evidence_only:
                yield StreamEvent("sentence", sentence=VERIFIED_AFTER[word])
        answer.draft = DRAFT
        answer.prompt_tokens = 321
        if evidence_only:
            answer.outcome, answer.reason = Outcome.EVIDENCE_ONLY, EVIDENCE_ONLY_REASON
            answer.dropped = [DroppedSentence(DRAFT, "nombre absent des preuves")]
            return
        answer.sentences = list(ANSWER_SENTENCES)
        answer.dropped = [DroppedSentence(DROPPED_SENTENCE, DROPPED_REASON)]

    def finish(self, answer: Answer, started: float) -> Answer:
        answer = super().finish(answer, started)
        answer.timings["total_s"] = 0.056
        return answer


def stub_helpdesk(settings: Settings) -> gr.Blocks:
    """The conseillers' page around a StubService: the model queue, question budget and feedback database of
    `settings` (feedback without its question)."""
    return helpdesk.build_helpdesk(
        StubService(),
        Admission(settings),
        QuestionBudget(settings.admission.rate_limit),
        FeedbackStore(settings.feedback_db, False),
        settings,
    )
