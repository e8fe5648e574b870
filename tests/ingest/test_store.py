"""IndexReader's dense search: exact on a small index, whatever the approximate index returns."""

from pathlib import Path

import numpy as np

from core.settings import Settings
from ingest.embeddings import E5Embedder
from ingest.store import ChromaStore, IndexReader
from tests.fixtures.factories import make_settings

QUESTION = "Combien de visiteurs au Numericamp 2024 ?"


class LossyStore:
    """The real Chroma store, except that its approximate search lost every passage."""

    def __init__(self, store: ChromaStore) -> None:
        self.store = store

    def vectors(self, name: str, ids: list[str]) -> dict[str, np.ndarray]:
        return self.store.vectors(name, ids)

    def query(self, name: str, vector: np.ndarray, k: int, doc_ids: list[str] | None) -> list[tuple[str, float]]:
        return []


def _settings(index_dir: Path, **overrides: object) -> Settings:
    return make_settings(embedding__backend="e5", index_dir=index_dir, **overrides)


def _brute_force(reader: IndexReader, vector: np.ndarray, k: int) -> list[str]:
    ids = [c.chunk_id for c in reader.chunks]
    stored = reader.store.vectors(reader.collection, ids)
    scores = {i: float(stored[i] @ vector / np.linalg.norm(stored[i]) / np.linalg.norm(vector)) for i in ids}
    return sorted(ids, key=lambda i: -scores[i])[:k]


def test_small_index_search_is_exact_even_when_the_approximate_index_misses(e5_corpus_index: Path) -> None:
    settings = _settings(e5_corpus_index)
    reader = IndexReader(settings, LossyStore(ChromaStore.from_settings(settings)))
    vector = E5Embedder().embed_query(QUESTION)
    hits = reader.dense(vector, 5)
    assert [c.chunk_id for c, _ in hits] == _brute_force(reader, vector, 5)
    assert hits[0][1] >= hits[-1][1] > 0


def test_document_filter_keeps_only_that_document(e5_corpus_index: Path) -> None:
    settings = _settings(e5_corpus_index)
    reader = IndexReader(settings)
    hits = reader.dense(E5Embedder().embed_query(QUESTION), 4, ["forum-ia-lambersart"])
    assert len(hits) == 4 and {c.doc_id for c, _ in hits} == {"forum-ia-lambersart"}


def test_large_index_uses_the_approximate_index(e5_corpus_index: Path) -> None:
    settings = _settings(e5_corpus_index, store__exact_search_max_passages=10)
    reader = IndexReader(settings, LossyStore(ChromaStore.from_settings(settings)))
    assert reader.dense(E5Embedder().embed_query(QUESTION), 5) == []
