"""Dense and lexical retrieval latency at 1x, 10x, 100x the corpus, against brute force in the same run.

The larger corpora are synthetic: the live index's own chunk vectors, duplicated and perturbed
(then renormalised), and its chunk texts duplicated for BM25. Queries are perturbed chunk vectors,
so no embedding model is needed and the figures measure the stores alone.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TypeVar

import bm25s
import chromadb
import numpy as np
from chromadb.config import Settings as ChromaSettings

from bench.report import Figure, percentile
from core.settings import Settings
from ingest.store import ChromaStore, IndexReader, tokenize

T = TypeVar("T")

SECTION = "Retrieval latency (synthetic corpora)"
QUERIES = 40
TOP_K = 50  # the retriever's candidate pool (bot/answer/retrieval.py)
NOISE = 0.02  # per-dimension perturbation of the duplicated vectors, before renormalising
ADD_BATCH = 4000  # below Chroma's maximum batch size


def synthetic_vectors(base: np.ndarray, scale: int, rng: np.random.Generator) -> np.ndarray:
    """`scale` perturbed copies of `base` (the first copy unperturbed), unit length."""
    copies = [base] + [base + rng.normal(0.0, NOISE, base.shape).astype(np.float32) for _ in range(scale - 1)]
    vectors = np.vstack(copies)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def clocked(call: Callable[[], T]) -> tuple[T, float]:
    """What `call` returns, and its wall time in milliseconds."""
    started = time.perf_counter()
    result = call()
    return result, (time.perf_counter() - started) * 1000


def exact_top(vectors: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Brute-force baseline: the TOP_K rows of highest dot product (unit vectors: cosine)."""
    return np.argpartition(-(vectors @ query), TOP_K)[:TOP_K]


def dense_figures(vectors: np.ndarray, queries: np.ndarray, scale: int, folder: Path) -> list[Figure]:
    """Chroma (HNSW) p50/p95 and recall@50 against exact numpy search over the same vectors."""
    client = chromadb.PersistentClient(
        path=str(folder / f"chroma-{scale}"), settings=ChromaSettings(anonymized_telemetry=False)
    )
    store = ChromaStore(client)
    store.create("bench")
    ids = [str(i) for i in range(len(vectors))]
    for start in range(0, len(ids), ADD_BATCH):
        end = start + ADD_BATCH
        store.add("bench", ids[start:end], vectors[start:end], ["doc"] * len(ids[start:end]))
    chroma_ms: list[float] = []
    numpy_ms: list[float] = []
    recalls: list[float] = []
    for query in queries:
        found, elapsed = clocked(partial(store.query, "bench", query, TOP_K, None))
        chroma_ms.append(elapsed)
        exact, elapsed = clocked(partial(exact_top, vectors, query))
        numpy_ms.append(elapsed)
        recalls.append(len({int(i) for i, _ in found} & set(exact.tolist())) / TOP_K)
    label = f"{scale}× ({len(vectors):,} passages)"
    return [
        Figure(
            SECTION,
            f"dense p50, Chroma HNSW, {label}",
            percentile(chroma_ms, 50),
            percentile(numpy_ms, 50),
            "numpy exact",
            "ms",
        ),
        Figure(
            SECTION,
            f"dense p95, Chroma HNSW, {label}",
            percentile(chroma_ms, 95),
            percentile(numpy_ms, 95),
            "numpy exact",
            "ms",
        ),
        Figure(SECTION, f"dense recall@{TOP_K}, Chroma HNSW, {label}", float(np.mean(recalls)), 1.0, "numpy exact", ""),
    ]


def bm25_ms(index: bm25s.BM25, tokens: object, k: int) -> float:
    return clocked(partial(index.retrieve, tokens, k=k, show_progress=False, n_threads=1))[1]


def lexical_figures(texts: list[str], questions: list[str], scale: int) -> list[Figure]:
    """BM25 as IndexReader.lexical calls it (every chunk ranked) against ranking only the pool."""
    corpus = texts * scale
    index = bm25s.BM25()
    index.index(tokenize(corpus), show_progress=False)
    tokens = [tokenize([q]) for q in questions]
    every = [bm25_ms(index, t, len(corpus)) for t in tokens]
    pool = [bm25_ms(index, t, TOP_K) for t in tokens]
    label = f"{scale}× ({len(corpus):,} passages)"
    return [
        Figure(
            SECTION,
            f"BM25 p50, k = all chunks (as served), {label}",
            percentile(every, 50),
            percentile(pool, 50),
            f"k={TOP_K}",
            "ms",
        ),
        Figure(
            SECTION,
            f"BM25 p95, k = all chunks (as served), {label}",
            percentile(every, 95),
            percentile(pool, 95),
            f"k={TOP_K}",
            "ms",
        ),
    ]


def run(settings: Settings, scales: list[int], questions: list[str]) -> list[Figure]:
    reader = IndexReader(settings)
    base_ids = [c.chunk_id for c in reader.chunks]
    stored = reader.store.vectors(reader.collection, base_ids)
    base = np.vstack([stored[i] for i in base_ids]).astype(np.float32)
    rng = np.random.default_rng(12)
    queries = synthetic_vectors(base[rng.choice(len(base), QUERIES)], 2, rng)[QUERIES:]
    texts = [c.embedded_text() for c in reader.chunks]
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory() as tmp:
        for scale in scales:
            figures += dense_figures(synthetic_vectors(base, scale, rng), queries, scale, Path(tmp))
            figures += lexical_figures(texts, questions, scale)
    return figures
