"""Ingest throughput (chunks embedded per second) of the shipped corpus, for each embedder.

Run: `.venv/bin/python -m bench.ingest_throughput [e5] [gemma]` (throw-away indexes in a temp folder).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from core.settings import Settings
from ingest.build import build_index
from ingest.embeddings import get_embedder


def measure(embedder: str, root: Path) -> tuple[int, float, float]:
    """(chunks, seconds for the whole build, seconds to load the model)."""
    settings = Settings(embedder=embedder, index_dir=root / embedder, _env_file=None)  # type: ignore[call-arg]
    started = time.perf_counter()
    get_embedder(settings)
    load_s = time.perf_counter() - started
    report = build_index(settings)
    return report.embedded_chunks, report.seconds, load_s


def main() -> None:
    table = Table(title="Ingest throughput, shipped corpus")
    for column in ("embedder", "chunks", "build s", "model load s", "chunks/s"):
        table.add_column(column)
    with tempfile.TemporaryDirectory() as tmp:
        for embedder in sys.argv[1:] or ["e5", "gemma"]:
            chunks, seconds, load_s = measure(embedder, Path(tmp))
            table.add_row(embedder, str(chunks), f"{seconds:.1f}", f"{load_s:.1f}", f"{chunks / seconds:.1f}")
    Console().print(table)


if __name__ == "__main__":
    main()
