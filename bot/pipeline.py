"""ask(question) -> Answer, evidence first.

    injection check -> passages (dense + BM25) -> evidence sentences ranked -> evidence event
    -> answerability (answer | evidence only | refuse) -> the model phrases the best sentences
    -> each of its sentences verified against the evidence -> the structured Answer

The system decides which facts the resident reads (the evidence); the model only phrases
them. If the model is slow, busy or wrong, the resident still gets the evidence.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from bot.answerability import decide
from bot.evidence import EvidenceRanker
from bot.generation import GenerationError, Generator, build_generator
from bot.prompts import FIXED_PREFIX, NOT_FOUND_PHRASE, build_messages
from bot.retrieval import Retriever
from bot.schemas import DocumentSummary, Turn
from bot.verification import parse_citations, verify
from core.injection import looks_like_injection
from core.privacy import mask_personal_data
from core.settings import Settings, get_settings
from core.text import analyse, expected_answer_kind, fold
from core.types import Answer, Evidence, Outcome, Passage
from ingest.embeddings import Embedder, get_embedder
from ingest.store import POINTER, IndexReader

log = logging.getLogger("cuabot.pipeline")


@dataclass
class StreamEvent:
    kind: Literal["evidence", "token", "done"]
    evidence: list[Evidence] = field(default_factory=list)
    passages: list[Passage] = field(default_factory=list)
    text: str = ""
    answer: Answer | None = None


class Pipeline:
    def __init__(
        self, settings: Settings, embedder: Embedder, generator: Generator, reader: IndexReader | None = None
    ) -> None:
        self.settings = settings
        self.embedder = embedder
        self.generator = generator
        self._pointer_mtime = 0.0
        self._use(reader or self._load_reader())

    def _use(self, reader: IndexReader) -> None:
        self.reader = reader
        self.retriever = Retriever(reader, self.settings)
        self.ranker = EvidenceRanker(reader, self.settings)

    def _load_reader(self) -> IndexReader:
        self._pointer_mtime = self._pointer_path.stat().st_mtime if self._pointer_path.exists() else 0.0
        return IndexReader(self.settings)

    @property
    def _pointer_path(self) -> Path:
        return self.settings.index_dir / POINTER

    def reload_if_reindexed(self) -> None:
        """Pick up a new index generation written by `cuabot ingest` while serving."""
        if self._pointer_path.exists() and self._pointer_path.stat().st_mtime != self._pointer_mtime:
            self._use(self._load_reader())

    def documents(self) -> list[DocumentSummary]:
        counts: dict[str, int] = {}
        for chunk in self.reader.chunks:
            counts[chunk.doc_id] = counts.get(chunk.doc_id, 0) + 1
        return [
            DocumentSummary(
                document=doc_id,
                title=info.get("title", doc_id),
                publisher=info.get("publisher", ""),
                date=info.get("date", ""),
                chunks=counts.get(doc_id, 0),
            )
            for doc_id, info in sorted(self.reader.documents.items())
        ]

    def ask(self, question: str, history: list[Turn] | None = None, documents: list[str] | None = None) -> Answer:
        answer = None
        for event in self.stream(question, history, documents):
            if event.kind == "done":
                answer = event.answer
        assert answer is not None
        return answer

    def stream(
        self, question: str, history: list[Turn] | None = None, documents: list[str] | None = None
    ) -> Iterator[StreamEvent]:
        started = time.perf_counter()
        answer = self.gather(question, history, documents, started)
        if not answer.injection:
            yield StreamEvent("evidence", evidence=answer.evidence, passages=answer.passages)
        if answer.outcome is Outcome.ANSWER:
            yield from self.phrase(question, answer, started)
        yield StreamEvent("done", answer=self.finish(answer, started))

    def gather(self, question: str, history: list[Turn] | None, documents: list[str] | None, started: float) -> Answer:
        """The evidence phase, without the model: injection check, passages, evidence, decision.

        Public so that the API can queue the phrasing phase (bot/admission.py) after it.
        """
        self.reload_if_reindexed()
        log.info("question: %s", mask_personal_data(question))
        if looks_like_injection(question) or any(looks_like_injection(t.content) for t in history or []):
            return Answer(Outcome.REFUSE, "instruction adressée à l'assistant", injection=True)
        query = self._retrieval_query(question, history)
        vector = self.embedder.embed_query(query)
        passages = self.retriever.search(query, vector, documents)
        terms = self.ranker.terms(analyse(query), expected_answer_kind(question))
        evidence = self.ranker.rank(terms, vector, passages)[: self.settings.evidence_shown]
        timings = {"evidence_s": time.perf_counter() - started}
        # the numbers the resident asked about now, not those of an earlier turn searched with it
        decision = decide(analyse(question), terms, evidence, self.settings)
        return Answer(
            decision.outcome,
            decision.reason,
            evidence,
            passages=passages,
            timings=timings,
            strong_evidence=decision.strong,
        )

    def phrase(self, question: str, answer: Answer, started: float) -> Iterator[StreamEvent]:
        """The phrasing phase: the model phrases the evidence, then what the evidence supports is kept."""
        messages = build_messages(question, answer.evidence)
        answer.prompt_tokens = self.generator.count_tokens(messages[len(FIXED_PREFIX) :])
        draft = ""
        try:
            for token in self.generator.stream(messages):
                answer.timings.setdefault("first_token_s", time.perf_counter() - started)
                draft += token
                yield StreamEvent("token", text=token)
        except GenerationError as exc:
            log.warning("generation failed, evidence only: %s", exc)
            answer.outcome, answer.reason = Outcome.EVIDENCE_ONLY, f"le modèle n'a pas répondu ({exc})"
            return
        answer.draft = draft
        if fold(NOT_FOUND_PHRASE) in fold(draft) and not parse_citations(draft):
            answer.outcome = Outcome.EVIDENCE_ONLY if answer.strong_evidence else Outcome.REFUSE
            shown_alone = (
                "preuve forte montrée seule" if answer.strong_evidence else "preuve trop faible pour la montrer seule"
            )
            answer.reason = f"le modèle ne trouve pas la réponse dans les phrases, {shown_alone}"
            return
        verdict = verify(
            draft, analyse(question), expected_answer_kind(question), answer.evidence, self.settings.min_claim_support
        )
        answer.sentences = verdict.kept
        answer.dropped = [f"{sentence} — {reason}" for sentence, reason in verdict.dropped]
        if not verdict.kept:
            reason = verdict.dropped[0][1] if verdict.dropped else "réponse vide"
            answer.outcome, answer.reason = Outcome.EVIDENCE_ONLY, f"phrase du modèle non vérifiée ({reason})"

    def _retrieval_query(self, question: str, history: list[Turn] | None) -> str:
        """A short follow-up ("et en 2025 ?") is searched together with the previous question."""
        previous = [t.content for t in (history or []) if t.role == "user"]
        if previous and len(question.split()) <= 8:
            return f"{previous[-1]} {question}"
        return question

    def finish(self, answer: Answer, started: float) -> Answer:
        """Total time, and which passages the resident reads."""
        answer.timings["total_s"] = time.perf_counter() - started
        for passage in answer.passages:
            passage.cited = any(e.chunk.chunk_id == passage.chunk.chunk_id for e in answer.cited)
        return answer


def build_pipeline(settings: Settings | None = None) -> Pipeline:
    settings = settings or get_settings()
    return Pipeline(settings, get_embedder(settings), build_generator(settings, FIXED_PREFIX))
