"""Hybrid retrieval: dense (vector store) and lexical (French BM25) fused by reciprocal rank.

The fused rank orders passages; the dense cosine similarity is kept as the relevance score
because, unlike the fused score, it means the same thing from one question to the next and
can be thresholded (calibrated in eval/).
"""

from __future__ import annotations

import numpy as np

from core.settings import Settings
from core.types import Passage
from ingest.store import IndexReader


def reciprocal_rank_fusion(rankings: list[list[str]], k: int) -> dict[str, float]:
    """Sum of 1 / (k + rank) over the rankings each id appears in (Cormack et al., 2009)."""
    fused: dict[str, float] = {}
    for ranking in rankings:
        for rank, chunk_id in enumerate(ranking, start=1):
            fused[chunk_id] = fused.get(chunk_id, 0.0) + 1.0 / (k + rank)
    return fused


class Retriever:
    def __init__(self, reader: IndexReader, settings: Settings) -> None:
        self.reader = reader
        self.settings = settings

    def search(self, query: str, vector: np.ndarray, doc_ids: list[str] | None = None) -> list[Passage]:
        """The `retrieval.k` best passages for `query` (embedded as `vector`), fused rank order, deduplicated."""
        pool = min(len(self.reader.chunks), max(self.settings.retrieval.pool, self.settings.retrieval.k * 4))
        dense = self.reader.dense(vector, pool, doc_ids)
        lexical = self.reader.lexical(query, pool, doc_ids)
        dense_scores = {c.chunk_id: s for c, s in dense}
        lexical_scores = {c.chunk_id: s for c, s in lexical}
        fused = reciprocal_rank_fusion(
            [[c.chunk_id for c, _ in dense], [c.chunk_id for c, _ in lexical]], self.settings.retrieval.rrf_k
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
            if len(passages) == self.settings.retrieval.k:
                break
        return passages
