"""Hybrid retrieval: dense (vector store) and lexical (French BM25) fused by reciprocal rank.

The fused rank orders passages; the dense cosine similarity is kept as the relevance score
because, unlike the fused score, it means the same thing from one question to the next and
can be thresholded (calibrated in eval/).
"""

from __future__ import annotations

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


class Retriever:
    def __init__(self, reader: IndexReader, embedder: Embedder, settings: Settings) -> None:
        self.reader = reader
        self.embedder = embedder
        self.settings = settings

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


def focus_window(chunk: Chunk, question: str, max_sentences: int) -> str:
    """The contiguous run of sentences around the ones sharing most words with the question.

    A verbatim slice of the passage: fewer prompt tokens (the main latency cost on CPU)
    while the resident can still find it word for word in the source.
    """
    sentences = split_sentences(chunk.text)
    if len(sentences) <= max_sentences:
        return chunk.text
    wanted = content_stems(question)
    overlaps = [len(wanted & content_stems(s)) for s in sentences]
    best_start = max(
        range(len(sentences) - max_sentences + 1),
        key=lambda i: (sum(overlaps[i : i + max_sentences]), -i),
    )
    window = sentences[best_start : best_start + max_sentences]
    start = chunk.text.find(window[0])
    end = chunk.text.find(window[-1], start) + len(window[-1])
    return chunk.text[start:end]
