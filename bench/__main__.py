"""`python -m bench` (`make bench`): every bench figure beside its same-run baseline.

Writes bench/results/bench.md (tables) and bench/results/bench.png (ratios to the baselines).
Needs the live index (`make index`) and the installed models; the load average is recorded
because the figures depend on what else the machine runs.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

from rich.console import Console

from bench import ingest_throughput, latency, retrieval_scale, service_rss
from bench.report import Figure, chart, markdown
from core.settings import Settings, get_settings
from eval.runner import load_items

SECTIONS = ("ingest", "retrieval", "latency", "memory")
RESULTS = Path(__file__).parent / "results"


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", choices=SECTIONS, default=list(SECTIONS))
    parser.add_argument("--scales", default="1,10,100", help="corpus multiples for retrieval latency")
    parser.add_argument("--sample", type=int, default=32, help="passages and contexts embedded per variant")
    parser.add_argument("--questions", type=int, default=5, help="dev questions for latency and memory")
    parser.add_argument("--out", type=Path, default=RESULTS)
    return parser.parse_args()


def _header() -> str:
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"## Bench, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}\n\n"
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores; load average at start {load}"
    )


def _ingest(settings: Settings, sample: int) -> list[Figure]:
    figures = ingest_throughput.pdf_figures(sorted(settings.corpus_dir.rglob("*.pdf")))
    figures += ingest_throughput.embedding_figures(settings, sample)
    return figures + ingest_throughput.reindex_figures(settings, ingest_throughput.corpus_build_s(figures))


def main() -> None:
    args = _arguments()
    settings = get_settings()
    console = Console()
    header = _header()
    questions = [i["question"] for i in load_items(kind="factual", split="dev")]
    figures: list[Figure] = []
    steps = {
        "ingest": lambda: _ingest(settings, args.sample),
        "retrieval": lambda: retrieval_scale.run(settings, [int(s) for s in args.scales.split(",")], questions[:20]),
        "latency": lambda: latency.run(settings, args.questions),
        "memory": lambda: service_rss.run(questions[: args.questions]),
    }
    for name in args.only:
        console.print(f"[bold]{name}[/bold]…")
        new = steps[name]()
        print(markdown(new, ""), flush=True)
        figures += new
        _write(figures, header, args.out)  # after each section: a later failure keeps the earlier tables
    console.print(f"Résultats : {args.out / 'bench.md'}")


def _write(figures: list[Figure], header: str, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench.md").write_text(markdown(figures, header) + "\n![ratios](bench.png)\n", encoding="utf-8")
    chart(figures, out / "bench.png")


if __name__ == "__main__":
    main()
