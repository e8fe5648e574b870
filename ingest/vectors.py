"""The vectors a build computes: each new passage's, and each sentence's, with the pace staff see.

Two ways to get sentence vectors (setting `embedding.sentence_vectors`):

- "separate" (default): each passage whose embedded text the previous generation has no vector for, then each
  distinct sentence context not embedded before (under its passage's heading line with
  `embedding.sentence_heading`: `embedded_context`), is embedded on a pass of its own.
- "late": late chunking. One transformer pass over a passage's embedded text gives the passage's
  vector and, by pooling the token embeddings over each sentence's context span, every sentence's
  vector (GemmaEmbedder.embed_with_spans). A sentence's vector then also reads the passage around
  it. 2-3x fewer tokens go through the transformer; evidence@1 came out lower than with separate
  passes on aptitude (docs/benchmarks.md), hence not the default.

An embedder without `embed_with_spans` (e5, a server) always takes the separate path.

Passages are handled in groups of `embedding.batch_size`, shortest first: each group's sentences are cut and
analysed (spaCy, one group ahead, in a thread of its own, beside the embedding of the group before), then the
group's passages and sentences are embedded in one call, then `on_progress(done, total, rate, eta_s)` is
called: passages done out of those this build computes, passages per second since the first group began, and
the seconds left (from the characters left, since groups grow longer). It is first called before any group,
with done, rate and seconds left at 0: the total is known, the pace not yet.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np
from rich.progress import Progress, TextColumn

from core.settings import Settings
from core.types import Chunk, Sentence
from ingest.embeddings import Embedder, SpanEmbedder
from ingest.sentences import sentences_of

# on_progress(done, total, rate, eta_s): passages done, passages to do in all, passages/s, seconds left
ProgressCallback = Callable[[int, int, float, float], None]
Group = TypeVar("Group")
Cut = TypeVar("Cut")


@dataclass
class Previous:
    """What the live generation already holds for chunks kept as they were."""

    sentences: dict[str, list[Sentence]] = field(default_factory=dict)  # by chunk id
    vectors: dict[str, np.ndarray] = field(default_factory=dict)  # by sentence id
    by_context: dict[str, np.ndarray] = field(default_factory=dict)  # separate path: by embedded_context
    by_text: dict[str, np.ndarray] = field(default_factory=dict)  # separate path: passages' by embedded_text


@dataclass
class Vectors:
    passages: dict[str, np.ndarray]  # chunk id -> vector, for the chunks to embed
    sentences: list[Sentence]  # every sentence of the generation, in chunk order
    sentence_vectors: np.ndarray  # row i belongs to sentences[i]
    embedded_sentences: int  # sentence vectors computed in this build
    reused: int  # vectors of fresh passages found in `Previous.by_text`, not computed
    mode: str  # "late" or "separate", as this build ran
    analysed: int  # passages cut, analysed and embedded in this build (fresh, or without sentences before)
    analysed_per_s: float  # their pace, passages per second (0 when none)


@contextmanager
def timed(timings: dict[str, float], stage: str) -> Iterator[None]:
    """Add the block's wall time to `timings[stage]`."""
    started = time.perf_counter()
    try:
        yield
    finally:
        timings[stage] = timings.get(stage, 0.0) + time.perf_counter() - started


class Pace:
    """Passages per second and seconds left, from the passages and characters done so far."""

    def __init__(self, chunks: list[Chunk]) -> None:
        self.total, self.done, self.rate = len(chunks), 0, 0.0
        self._chars_total, self._chars_done = sum(len(c.text) for c in chunks), 0
        self._started = time.perf_counter()

    def advance(self, group: list[Chunk]) -> tuple[float, float]:
        self.done += len(group)
        self._chars_done += sum(len(c.text) for c in group)
        elapsed = max(time.perf_counter() - self._started, 1e-9)
        self.rate = self.done / elapsed
        left = self._chars_total - self._chars_done
        eta = elapsed * left / self._chars_done if self._chars_done else 0.0
        return self.rate, eta


def embedded_context(chunk: Chunk, sentence: Sentence, with_heading: bool) -> str:
    """What a sentence's vector is computed from (separate path): its context, under its passage's heading line
    `with_heading` (setting `embedding.sentence_heading`).

    A short sentence leans on its heading (« Combien coûte la carte ? » › « Elle est gratuite. ») and a
    case's sentence is told from its sibling case's only by the heading path (« … › Vous avez fait votre
    JDC en France »): with it, the vector reads both, as the passage's own vector does.
    """
    return f"{chunk.heading_line()}\n{sentence.context}" if with_heading else sentence.context


def context_span(chunk: Chunk, sentence: Sentence) -> tuple[int, int] | None:
    """Where the sentence's context lies in `chunk.text`: the offsets ingest/sentences.py records, or
    (a generation written before they existed: both 0) the context found in the text, else None."""
    if sentence.end > sentence.start:
        return sentence.start, sentence.end
    start = chunk.text.find(sentence.context)
    return (start, start + len(sentence.context)) if start >= 0 else None


def compute_vectors(
    settings: Settings,
    chunks: list[Chunk],
    fresh: set[str],
    previous: Previous,
    embedder: Callable[[], Embedder],
    timings: dict[str, float],
    on_progress: ProgressCallback | None = None,
) -> Vectors:
    """Vectors of the `fresh` chunks, and every sentence of `chunks` with its vector.

    Sentences (and vectors) of a chunk kept as it was come from `previous`; the others are cut,
    analysed and embedded here. `embedding.backend` is called only if something needs embedding.
    """
    to_do = [c for c in chunks if c.chunk_id in fresh or c.chunk_id not in previous.sentences]
    job = _Job(settings, fresh, previous, embedder, timings)
    pace = Pace(to_do)
    columns = (*Progress.get_default_columns()[:-1], TextColumn("{task.fields[pace]}"))
    with Progress(*columns) as progress:
        task = progress.add_task("Analyse et embeddings des passages", total=len(to_do), pace="")
        if on_progress:
            on_progress(0, pace.total, 0.0, 0.0)
        ordered = sorted(to_do, key=lambda c: len(c.embedded_text()))
        size = settings.embedding.batch_size
        groups = [ordered[start : start + size] for start in range(0, len(ordered), size)]
        for group, cut in _analysed_ahead(groups, job.cut):
            job.embed(group, cut)
            rate, eta = pace.advance(group)
            pace_text = f"{rate:.2f} passages/s, reste ~{eta:.0f} s".replace(".", ",")
            progress.update(task, advance=len(group), pace=pace_text)
            if on_progress:
                on_progress(pace.done, pace.total, rate, eta)
    sentences = [s for c in chunks for s in job.sentences.get(c.chunk_id, previous.sentences.get(c.chunk_id, []))]
    rows = [
        job.vectors[s.sentence_id] if s.sentence_id in job.vectors else previous.vectors[s.sentence_id]
        for s in sentences
    ]
    matrix = np.vstack(rows).astype(np.float32) if rows else np.zeros((0, 0), dtype=np.float32)
    mode = job.mode or ("late" if late_chunked(settings) else "separate")
    return Vectors(job.passages, sentences, matrix, job.embedded, job.reused, mode, pace.done, pace.rate)


def late_chunked(settings: Settings) -> bool:
    """Whether the settings ask for late-chunked sentence vectors (gemma only): each read from its whole passage."""
    return settings.embedding.sentence_vectors == "late" and settings.embedding.backend == "gemma"


class _Job:
    """One group of passages at a time: sentences cut and analysed (`cut`), then passages and sentences embedded
    (`embed`)."""

    def __init__(
        self,
        settings: Settings,
        fresh: set[str],
        previous: Previous,
        embedder: Callable[[], Embedder],
        timings: dict[str, float],
    ) -> None:
        self.settings, self.fresh, self.previous, self.timings = settings, fresh, previous, timings
        self._embedder = embedder
        self.passages: dict[str, np.ndarray] = {}
        self.sentences: dict[str, list[Sentence]] = {}
        self.vectors: dict[str, np.ndarray] = {}  # by sentence id
        self.known = dict(previous.by_context)  # separate path: each distinct context embedded once
        self.embedded = 0
        self.reused = 0
        self.mode = ""
        self._loaded: Embedder | None = None

    def embedder(self) -> Embedder:
        """The embedder, loaded on first use (timed apart: "model")."""
        if self._loaded is None:
            with timed(self.timings, "model"):
                self._loaded = self._embedder()
            late = self.settings.embedding.sentence_vectors == "late" and isinstance(self._loaded, SpanEmbedder)
            self.mode = "late" if late else "separate"
        return self._loaded

    def cut(self, group: list[Chunk]) -> list[Sentence]:
        """The group's sentences, cut and analysed (spaCy)."""
        with timed(self.timings, "analyse"):
            return sentences_of(
                group, self.settings.ingestion.sentence_context_chars, self.settings.ingestion.quote_max_chars
            )

    def embed(self, group: list[Chunk], cut: list[Sentence]) -> None:
        for sentence in cut:
            self.sentences.setdefault(sentence.chunk_id, []).append(sentence)
        embedder = self.embedder()
        with timed(self.timings, "embed"):
            if self.mode == "late" and isinstance(embedder, SpanEmbedder):
                self._late(group, embedder)
            else:
                self._separate(group, embedder)

    def _late(self, group: list[Chunk], embedder: SpanEmbedder) -> None:
        spans, alone = [], []
        for chunk in group:
            offset = len(chunk.embedded_text()) - len(chunk.text)  # the title line before the text
            found = []
            for sentence in self.sentences.get(chunk.chunk_id, []):
                span = context_span(chunk, sentence)
                if span is None:
                    alone.append(sentence)
                else:
                    found.append((sentence, (offset + span[0], offset + span[1])))
            spans.append(found)
        passages, pooled = embedder.embed_with_spans(
            [c.embedded_text() for c in group], [[span for _, span in found] for found in spans]
        )
        for chunk, vector in zip(group, passages, strict=True):
            if chunk.chunk_id in self.fresh:
                self.passages[chunk.chunk_id] = vector
        for found, rows in zip(spans, pooled, strict=True):
            for (sentence, _), row in zip(found, rows, strict=True):
                if np.isnan(row).any():
                    alone.append(sentence)
                else:
                    self.vectors[sentence.sentence_id] = row
        self.embedded += sum(len(found) for found in spans) - len(alone)
        if alone:  # contexts not found in their passage's text, or cut off by the length limit
            chunks = {c.chunk_id: c for c in group}
            heading = self.settings.embedding.sentence_heading
            texts = [embedded_context(chunks[s.chunk_id], s, heading) for s in alone]
            vectors = _embed(embedder, texts)
            self.vectors.update(zip((s.sentence_id for s in alone), vectors, strict=True))
            self.embedded += len(alone)

    def _separate(self, group: list[Chunk], embedder: Embedder) -> None:
        """The group's fresh passages and its sentence contexts not embedded before, in one call."""
        texts_of = {c.chunk_id: c.embedded_text() for c in group if c.chunk_id in self.fresh}
        by_text = self.previous.by_text
        found = {chunk_id: by_text[text] for chunk_id, text in texts_of.items() if text in by_text}
        fresh = [c for c in group if c.chunk_id in texts_of and c.chunk_id not in found]
        self.passages.update(found)
        self.reused += len(found)
        heading = self.settings.embedding.sentence_heading
        texts = {
            s.sentence_id: embedded_context(c, s, heading) for c in group for s in self.sentences.get(c.chunk_id, [])
        }
        missing = [t for t in dict.fromkeys(texts.values()) if t not in self.known]
        vectors = _embed(embedder, [texts_of[c.chunk_id] for c in fresh] + missing)
        self.passages.update(zip((c.chunk_id for c in fresh), vectors[: len(fresh)], strict=True))
        self.known.update(zip(missing, vectors[len(fresh) :], strict=True))
        self.embedded += len(missing)
        self.vectors.update((sentence_id, self.known[text]) for sentence_id, text in texts.items())


def _analysed_ahead(groups: list[Group], cut: Callable[[Group], Cut]) -> Iterator[tuple[Group, Cut]]:
    """Each group with its sentences, the next group being cut and analysed while the caller embeds this one.

    spaCy's analysis keeps to one core; onnxruntime's runs leave Python's lock: analysed one group ahead, the
    analysis takes its share of the cores beside the embedding instead of leaving them idle while it runs.
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="analyse") as ahead:
        following = [ahead.submit(cut, group) for group in groups[:1]]
        for position, group in enumerate(groups):
            sentences = following.pop().result()
            if position + 1 < len(groups):
                following.append(ahead.submit(cut, groups[position + 1]))
            yield group, sentences


def _embed(embedder: Embedder, texts: list[str]) -> np.ndarray:
    """Embed in one call, longest first, returned in the original order.

    Each embedder batches as its runtime wants (sentence-transformers and the OpenAI-compatible client by
    `embedding.batch_size`, the ONNX runtimes one text per run): longest first, the last runs to finish are the
    shortest, so no core waits long for another at the group's end.
    """
    if not texts:
        return np.zeros((0, 0), dtype=np.float32)
    order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
    embedded = embedder.embed_documents([texts[i] for i in order])
    result = np.empty_like(embedded)
    result[order] = embedded
    return result
