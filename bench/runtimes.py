"""Embedding runtimes on every corpus: whole builds from scratch by the float ONNX runtime (the baseline) and by
the int8 one, then the retrieval and evidence figures of each index (`cuabot eval --retrieval-only`), same run.

`python -m bench.runtimes` builds the shipped corpus and the evaluation corpora (`make eval-corpora`) into a
scratch cache per runtime (the models linked from the real cache), each build in a process of its own, evaluates
each index without the language model, and writes bench/results/runtimes-<date>.md. A build or evaluation whose
result is already in the work folder is not run again (`--work`, to resume a run that was stopped).
"""

from __future__ import annotations

import argparse
import json
from datetime import date
from pathlib import Path
from typing import Any

from bench.ingest_throughput import run_sampled
from bench.report import Figure, markdown
from core.settings import get_settings
from eval.corpora import CORPORA, DEFAULT_CORPUS, DOCUMENTS

BASELINE = "onnx"
RESULTS = Path(__file__).resolve().parent / "results"
QUALITY = ("recall@5", "mrr", "fact_recall@5", "evidence@1", "evidence@3")
SECTION_BUILD = "Whole build from scratch (cuabot ingest)"
SECTION_QUALITY = "Retrieval and evidence (cuabot eval --retrieval-only, both splits)"

_BUILD = """
import json, sys
from pathlib import Path
from core.settings import get_settings
from eval.corpora import index_corpus
from ingest.build import build_index
corpus, out = sys.argv[1], Path(sys.argv[2])
settings = get_settings()
report = build_index(settings) if corpus == "cua" else index_corpus(corpus, settings)[1]
out.write_text(json.dumps({"passages": report.embedded_chunks, "seconds": report.seconds,
    "rate": report.passages_per_s, "sentences": report.embedded_sentences, "timings": report.timings}))
"""

_EVAL = """
import json, sys
from pathlib import Path
from bot.answer.service import build_service
from core.settings import get_settings
from eval.corpora import corpus_settings
from eval.metrics import summarise
from eval.runner import load_items, run_pipeline
corpus, out = sys.argv[1], Path(sys.argv[2])
settings = corpus_settings(corpus, get_settings()).changed(generation__backend="mock")
summary = summarise(run_pipeline(load_items(corpus), build_service(settings)))
out.write_text(json.dumps(summary, default=str))
"""


def runtime_env(work: Path, runtime: str) -> dict[str, str]:
    """A scratch cache of its own for `runtime`, its models folder linked to the real one."""
    cache = work / runtime
    cache.mkdir(parents=True, exist_ok=True)
    models = cache / "models"
    if not models.exists():
        models.symlink_to(get_settings().models_dir)
    return {
        "CUABOT_CACHE_DIR": str(cache),
        "CUABOT_INDEX_DIR": str(cache / "cua-index"),
        "CUABOT_EMBEDDING__RUNTIME": runtime,
    }


def measured(code: str, corpus: str, out: Path, env: dict[str, str]) -> dict[str, Any]:
    """`code` run for `corpus` in a process of its own, once: its JSON (read back when already there)."""
    if not out.exists():
        peak, wall, cpu = run_sampled(code, [corpus, str(out.with_suffix(".partial"))], env)
        result = json.loads(out.with_suffix(".partial").read_text())
        out.write_text(json.dumps({**result, "peak_rss": peak, "wall_s": wall, "cpu_s": cpu}))
    return dict(json.loads(out.read_text()))


def documents_of(corpus: str) -> int:
    """How many documents a corpus indexes (fiches: one JSON file each)."""
    folder = get_settings().corpus_dir if corpus == DEFAULT_CORPUS else DOCUMENTS / corpus
    return sum(1 for path in folder.rglob("*") if path.is_file())


def corpus_figures(corpus: str, runtime: str, build: dict[str, Any], base: dict[str, Any]) -> list[Figure]:
    label = f"{corpus} ({build['passages']} passages), {runtime}"
    per_100 = 100 / documents_of(corpus)
    return [
        Figure(SECTION_BUILD, f"{label}: whole build", build["rate"], base["rate"], BASELINE, "passages/s"),
        Figure(
            SECTION_BUILD,
            f"{label}: seconds per 100 documents",
            build["seconds"] * per_100,
            base["seconds"] * per_100,
            BASELINE,
            "s",
        ),
        Figure(
            SECTION_BUILD, f"{label}: embedding", build["timings"]["embed"], base["timings"]["embed"], BASELINE, "s"
        ),
        Figure(
            SECTION_BUILD,
            f"{label}: analysis (spaCy)",
            build["timings"]["analyse"],
            base["timings"]["analyse"],
            BASELINE,
            "s",
        ),
    ]


def quality_figures(corpus: str, runtime: str, summary: dict[str, Any], base: dict[str, Any]) -> list[Figure]:
    return [
        Figure(SECTION_QUALITY, f"{corpus}, {runtime}: {metric}", summary[metric], base[metric], BASELINE, "")
        for metric in QUALITY
    ]


def run(work: Path, runtimes: list[str], corpora: list[str]) -> list[Figure]:
    builds: dict[tuple[str, str], dict[str, Any]] = {}
    summaries: dict[tuple[str, str], dict[str, Any]] = {}
    for runtime in [BASELINE, *runtimes]:
        env = runtime_env(work, runtime)
        for corpus in corpora:
            builds[runtime, corpus] = measured(_BUILD, corpus, work / runtime / f"{corpus}.build.json", env)
        for corpus in corpora:
            summaries[runtime, corpus] = measured(_EVAL, corpus, work / runtime / f"{corpus}.eval.json", env)
    figures: list[Figure] = []
    for runtime in runtimes:
        for corpus in corpora:
            figures += corpus_figures(corpus, runtime, builds[runtime, corpus], builds[BASELINE, corpus])
        for corpus in corpora:
            figures += quality_figures(corpus, runtime, summaries[runtime, corpus], summaries[BASELINE, corpus])
    return figures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.runtimes", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runtimes", nargs="+", default=["int8"], help="compared with onnx (default: int8)")
    parser.add_argument("--corpora", nargs="+", default=list(CORPORA), choices=CORPORA)
    parser.add_argument("--work", type=Path, default=get_settings().cache_dir / "bench-runtimes" / str(date.today()))
    args = parser.parse_args(argv)
    figures = run(args.work, args.runtimes, args.corpora)
    RESULTS.mkdir(exist_ok=True)
    target = RESULTS / f"runtimes-{date.today()}.md"
    header = f"## Embedding runtimes on every corpus ({date.today()}, `python -m bench.runtimes`)"
    target.write_text(markdown(figures, header), encoding="utf-8")
    print(target.read_text())


if __name__ == "__main__":
    main()
