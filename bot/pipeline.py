"""ask(question) -> answer: retrieve, refuse, generate, check, fall back.

The generator only drafts; the system decides what the resident reads: sentences the
cited passages support, followed by a verbatim quote chosen by similarity, or a plain
refusal that points to a human channel.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from bot.generation import GenerationError, Generator, build_generator
from bot.grounding import CITATION, GroundingChecker, SentenceVectors, best_evidence, numbers_in, parse_citations
from bot.prompts import (
    EVIDENCE_PREFIX,
    FALLBACK_PREFIX,
    FIXED_PREFIX,
    INJECTION_MESSAGE,
    NOT_FOUND_PHRASE,
    REFUSAL_MESSAGE,
    build_messages,
    passage_label,
)
from bot.retrieval import Retriever, split_sentences
from bot.schemas import DocumentSummary, Turn
from core.injection import looks_like_injection
from core.privacy import mask_personal_data
from core.settings import Settings, get_settings
from core.types import AnswerResult, Passage
from ingest.embeddings import Embedder, get_embedder
from ingest.store import POINTER, IndexReader

log = logging.getLogger("cuabot.pipeline")

MAX_QUOTE_CHARS = 300
MIN_QUOTE_CHARS = 20
SHORT_QUOTE_CHARS = 120


@dataclass
class StreamEvent:
    kind: Literal["sources", "token", "done"]
    passages: list[Passage] = field(default_factory=list)
    text: str = ""
    result: AnswerResult | None = None


def with_context(sentence: str, passage_text: str) -> str:
    """A short sentence followed by the next one of its passage.

    A heading or a speaker line ("Nicolas DESFACHELLE") says little alone: what the
    resident needs (his role) is on the next line.
    """
    if len(sentence) >= SHORT_QUOTE_CHARS:
        return sentence
    sentences = split_sentences(passage_text)
    if sentence not in sentences or sentence == sentences[-1]:
        return sentence
    following = sentences[sentences.index(sentence) + 1]
    return f"{sentence} {following}" if len(sentence) + len(following) < MAX_QUOTE_CHARS else sentence


def quote(sentence: str) -> str:
    sentence = " ".join(sentence.split())
    if len(sentence) <= MAX_QUOTE_CHARS:
        return sentence
    return sentence[:MAX_QUOTE_CHARS].rsplit(" ", 1)[0] + " …"


class Pipeline:
    def __init__(
        self, settings: Settings, embedder: Embedder, generator: Generator, reader: IndexReader | None = None
    ) -> None:
        self.settings = settings
        self.embedder = embedder
        self.generator = generator
        self._pointer_mtime = 0.0
        self.reader = reader or self._load_reader()
        self.retriever = Retriever(self.reader, embedder, settings)
        self.sentence_vectors = SentenceVectors(embedder.embed_documents)
        self.checker = GroundingChecker(self.sentence_vectors, settings.support_threshold)

    def _load_reader(self) -> IndexReader:
        self._pointer_mtime = self._pointer_path.stat().st_mtime if self._pointer_path.exists() else 0.0
        return IndexReader(self.settings)

    @property
    def _pointer_path(self) -> Path:
        return self.settings.index_dir / POINTER

    def reload_if_reindexed(self) -> None:
        """Pick up a new index generation written by `cuabot ingest` while serving."""
        if self._pointer_path.exists() and self._pointer_path.stat().st_mtime != self._pointer_mtime:
            self.reader = self._load_reader()
            self.retriever = Retriever(self.reader, self.embedder, self.settings)

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

    def ask(self, question: str, history: list[Turn] | None = None, documents: list[str] | None = None) -> AnswerResult:
        result = None
        for event in self.stream(question, history, documents):
            if event.kind == "done":
                result = event.result
        assert result is not None
        return result

    def stream(
        self, question: str, history: list[Turn] | None = None, documents: list[str] | None = None
    ) -> Iterator[StreamEvent]:
        started = time.perf_counter()
        self.reload_if_reindexed()
        log.info("question: %s", mask_personal_data(question))
        if looks_like_injection(question):
            yield StreamEvent("sources")
            yield self._done(AnswerResult(INJECTION_MESSAGE, True, []), started)
            return
        retrieved = self.retriever.search(self._retrieval_query(question, history), documents)
        timings = {"retrieval_s": time.perf_counter() - started}
        context = retrieved[: self.settings.context_passages]
        if not context or max(p.dense_score for p in retrieved) < self.settings.refusal_threshold:
            yield StreamEvent("sources")
            yield self._done(AnswerResult(REFUSAL_MESSAGE, True, retrieved, timings=timings), started)
            return
        yield StreamEvent("sources", passages=context)
        texts = {p.rank: self.retriever.focus(p.chunk, question) for p in context}
        messages = build_messages(question, [(p.rank, p, texts[p.rank]) for p in context])
        draft, fallback = "", False
        try:
            for token in self.generator.stream(messages):
                timings.setdefault("first_token_s", time.perf_counter() - started)
                draft += token
                yield StreamEvent("token", text=token)
        except GenerationError as exc:
            log.warning("generation failed, extractive fallback: %s", exc)
            fallback = True
        timings["generation_s"] = time.perf_counter() - started - timings["retrieval_s"]
        result = self._finish(question, draft, fallback, retrieved, texts)
        result.timings = timings
        result.prompt_tokens = self.generator.count_tokens(messages)
        yield self._done(result, started)

    def _retrieval_query(self, question: str, history: list[Turn] | None) -> str:
        """A short follow-up ("et en 2025 ?") is searched together with the previous question."""
        previous = [t.content for t in (history or []) if t.role == "user"]
        if previous and len(question.split()) <= 8:
            return f"{previous[-1]} {question}"
        return question

    def _finish(
        self, question: str, draft: str, fallback: bool, retrieved: list[Passage], texts: dict[int, str]
    ) -> AnswerResult:
        if fallback:
            return self._extractive(question, retrieved, texts)
        if NOT_FOUND_PHRASE.lower() in draft.lower() and not parse_citations(draft):
            return AnswerResult(REFUSAL_MESSAGE, True, retrieved)
        labelled = {p.rank: f"{passage_label(p)}\n{p.chunk.text}" for p in retrieved if p.rank in texts}
        checked = self.checker.check(draft, question, labelled)
        if not checked.sentences:
            return AnswerResult(REFUSAL_MESSAGE, True, retrieved, dropped_sentences=checked.dropped)
        body = " ".join(checked.sentences)
        answer = body + "\n\n" + self._evidence(question, body, checked.cited, texts)
        return self._with_citations(
            AnswerResult(answer, False, retrieved, checked.cited, dropped_sentences=checked.dropped)
        )

    def _evidence(self, question: str, answer: str, cited: list[int], texts: dict[int, str]) -> str:
        """One or two verbatim source sentences, chosen by the system, not by the model.

        Sentences holding the answer's numbers come first; then closeness to question and answer.
        """
        candidates = [(n, s) for n in cited for s in split_sentences(texts[n])] or [(n, texts[n]) for n in cited]
        facts = numbers_in(CITATION.sub("", answer))
        candidates = (
            [(n, s) for n, s in candidates if facts and facts <= numbers_in(s)]
            or [(n, s) for n, s in candidates if len(s) > MIN_QUOTE_CHARS]
            or candidates
        )
        vectors = self.sentence_vectors([question, answer] + [s for _, s in candidates])
        ranked = best_evidence(vectors[0], vectors[1], candidates, vectors[2:])
        chosen = ranked[:1]
        if len(cited) > 1:
            chosen += [c for c in ranked[1:] if c[0] != chosen[0][0]][:1]
        quotes = " ".join(f"« {quote(with_context(s, texts[n]))} » [{n}]" for n, s in chosen)
        return f"{EVIDENCE_PREFIX} {quotes}"

    def _extractive(self, question: str, retrieved: list[Passage], texts: dict[int, str]) -> AnswerResult:
        candidates = [(n, s) for n, text in texts.items() for s in split_sentences(text) if len(s) > MIN_QUOTE_CHARS]
        if not candidates:
            return AnswerResult(REFUSAL_MESSAGE, True, retrieved, fallback=True)
        vectors = self.sentence_vectors([s for _, s in candidates])
        scores = vectors @ self.embedder.embed_query(question)
        best = [candidates[i] for i in np.argsort(-scores)[:2]]
        answer = FALLBACK_PREFIX + "\n" + "\n".join(f"« {quote(s)} » [{n}]" for n, s in best)
        cited = list(dict.fromkeys(n for n, _ in best))
        return self._with_citations(AnswerResult(answer, False, retrieved, cited, fallback=True))

    @staticmethod
    def _with_citations(result: AnswerResult) -> AnswerResult:
        for passage in result.passages:
            passage.cited = passage.rank in result.cited_ids
        return result

    @staticmethod
    def _done(result: AnswerResult, started: float) -> StreamEvent:
        result.timings["total_s"] = time.perf_counter() - started
        return StreamEvent("done", result=result)


def build_pipeline(settings: Settings | None = None) -> Pipeline:
    settings = settings or get_settings()
    return Pipeline(settings, get_embedder(settings), build_generator(settings, FIXED_PREFIX))
