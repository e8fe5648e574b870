"""Hybrid retrieval: dense (vector store) and lexical (French BM25) fused by reciprocal rank.

The fused rank orders passages; the dense cosine similarity is kept as the relevance score
because, unlike the fused score, it means the same thing from one question to the next and
can be thresholded (calibrated in eval/).
"""

from __future__ import annotations

import math
import re

from core.settings import Settings
from core.types import Chunk, Passage
from ingest.embeddings import Embedder
from ingest.store import IndexReader, tokenize

_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+(?=[«\"(A-ZÀÂÉÈÊÎÔÛÇ0-9])|\n+")


def reciprocal_rank_fusion(rankings: list[list[str]], k: int) -> dict[str, float]:
    """Sum of 1 / (k + rank) over the rankings each id appears in (Cormack et al., 2009)."""
    fused: dict[str, float] = {}
    for ranking in rankings:
        for rank, chunk_id in enumerate(ranking, start=1):
            fused[chunk_id] = fused.get(chunk_id, 0.0) + 1.0 / (k + rank)
    return fused


# Question and linking words that the stop list keeps but that carry no fact.
FUNCTION_STEMS = {"jusqu", "lorsqu", "puisqu", "quel", "quell", "combien", "comment", "pourquoi", "quand", "quoi"}


class Retriever:
    def __init__(self, reader: IndexReader, embedder: Embedder, settings: Settings) -> None:
        self.reader = reader
        self.embedder = embedder
        self.settings = settings
        self.stem_weights = rarity_weights(reader.chunks, FUNCTION_STEMS)

    def focus(self, chunk: Chunk, question: str) -> str:
        """The slice of `chunk` given to the model (see `focus_window`)."""
        return focus_window(chunk, question, self.settings.context_chars, self.stem_weights)

    def search(self, query: str, doc_ids: list[str] | None = None) -> list[Passage]:
        """The `retrieve_k` best passages, fused rank order, deduplicated by text."""
        pool = min(len(self.reader.chunks), max(50, self.settings.retrieve_k * 4))
        vector = self.embedder.embed_query(query)
        dense = self.reader.dense(vector, pool, doc_ids)
        lexical = self.reader.lexical(query, pool, doc_ids)
        dense_scores = {c.chunk_id: s for c, s in dense}
        lexical_scores = {c.chunk_id: s for c, s in lexical}
        fused = reciprocal_rank_fusion(
            [[c.chunk_id for c, _ in dense], [c.chunk_id for c, _ in lexical]], self.settings.rrf_k
        )
        passages: list[Passage] = []
        seen_texts: set[str] = set()
        for chunk_id in sorted(fused, key=fused.__getitem__, reverse=True):
            chunk = self.reader.by_id[chunk_id]
            if chunk.text in seen_texts:
                continue
            seen_texts.add(chunk.text)
            passages.append(
                Passage(
                    chunk=chunk,
                    score=dense_scores.get(chunk_id, 0.0),
                    dense_score=dense_scores.get(chunk_id, 0.0),
                    lexical_score=lexical_scores.get(chunk_id, 0.0),
                    rank=len(passages) + 1,
                )
            )
            if len(passages) == self.settings.retrieve_k:
                break
        return passages


def split_sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip()]


def content_stems(text: str) -> set[str]:
    """Stemmed French words without stop words (what BM25 sees)."""
    tokens = tokenize([text])
    vocab = {v: k for k, v in tokens.vocab.items()}
    return {vocab[i] for i in tokens.ids[0]}


def focus_window(chunk: Chunk, question: str, max_chars: int, weights: dict[str, float]) -> str:
    """The contiguous run of sentences, within `max_chars`, sharing the rarest words with the question.

    A verbatim slice of the passage: fewer prompt tokens (the main latency cost on CPU) while the
    resident can still find it word for word in the source. A budget in characters rather than
    sentences keeps a PDF page's short lines ("450 visiteurs") together, and weighting words by
    rarity makes "visiteurs" count for more than "2024".
    """
    if len(chunk.text) <= max_chars:
        return chunk.text
    sentences = split_sentences(chunk.text)
    wanted = content_stems(question)
    scores = [sum(weights.get(stem, 0.0) for stem in wanted & content_stems(s)) for s in sentences]
    best_score, best_start, best_end = -1.0, 0, 1
    for start in range(len(sentences)):
        end, length = start + 1, len(sentences[start])
        while end < len(sentences) and length + 1 + len(sentences[end]) <= max_chars:
            length += 1 + len(sentences[end])
            end += 1
        score = sum(scores[start:end])
        if score > best_score:
            best_score, best_start, best_end = score, start, end
    first, last = sentences[best_start], sentences[best_end - 1]
    begin = chunk.text.find(first)
    return chunk.text[begin : chunk.text.find(last, begin) + len(last)]


def rarity_weights(chunks: list[Chunk], ignored: set[str]) -> dict[str, float]:
    """Inverse document frequency of each stem over the indexed passages; `ignored` stems weigh 0."""
    frequency: dict[str, int] = {}
    for chunk in chunks:
        for stem in content_stems(chunk.text):
            frequency[stem] = frequency.get(stem, 0) + 1
    return {stem: 0.0 if stem in ignored else math.log(1 + len(chunks) / n) for stem, n in frequency.items()}
