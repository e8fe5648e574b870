"""The bench's own arithmetic and its store measurements, on tiny inputs (the figures live in bench/)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bench.report import Figure, chart, markdown, percentile
from bench.retrieval_scale import TOP_K, dense_figures, exact_top, synthetic_vectors


def test_markdown_puts_each_figure_beside_its_baseline_with_the_ratio() -> None:
    figures = [Figure("Retrieval", "dense p50", 3.0, 1.5, "numpy exact", "ms")]
    table = markdown(figures, "## Bench")
    assert "### Retrieval" in table
    assert "| dense p50 | 3 ms | numpy exact: 1.5 ms | 2× |" in table


def test_percentile_interpolates() -> None:
    assert percentile([1.0, 2.0, 3.0, 4.0, 5.0], 50) == 3.0
    assert percentile([0.0, 10.0], 95) == 9.5


def test_synthetic_vectors_keep_the_corpus_and_add_perturbed_unit_copies() -> None:
    rng = np.random.default_rng(0)
    base = rng.normal(size=(5, 16)).astype(np.float32)
    base /= np.linalg.norm(base, axis=1, keepdims=True)
    vectors = synthetic_vectors(base, 3, rng)
    assert vectors.shape == (15, 16)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(vectors[:5], base, rtol=1e-5)
    assert not np.allclose(vectors[5:10], base)
    assert (vectors[5:10] * base).sum(axis=1).min() > 0.9  # a copy stays near its original


def test_exact_top_returns_the_best_rows() -> None:
    vectors = np.eye(TOP_K + 10, dtype=np.float32)
    query = np.zeros(TOP_K + 10, dtype=np.float32)
    query[3] = 1.0
    assert 3 in exact_top(vectors, query)


def test_dense_figures_measure_chroma_against_exact_search(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    base = rng.normal(size=(120, 32)).astype(np.float32)
    base /= np.linalg.norm(base, axis=1, keepdims=True)
    figures = dense_figures(base, base[:5], 1, tmp_path)
    p50, p95, recall = figures
    assert p50.baseline_label == "numpy exact" and p50.value > 0 and p50.baseline > 0
    assert p95.value >= p50.value
    assert recall.value > 0.9  # 120 vectors: HNSW finds (nearly) every exact neighbour


def test_chart_writes_a_png(tmp_path: Path) -> None:
    path = tmp_path / "bench.png"
    chart([Figure("Memory", "peak RSS", 2000.0, 1500.0, "models alone", "MiB")], path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
