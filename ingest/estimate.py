"""What an indexing will cost before it starts (its French words: bot/api/display.py).

- Passages of a file: the build's own count, its loader and splitter run without analysis or vectors (a
  265-page PDF reads in about a second, well under 1 % of its build). A file they cannot read is counted by its
  size in bytes, `PASSAGE_FILL` of `chunk_size - chunk_overlap` characters a passage (more passages than it
  holds: the estimate errs long, never fails).
- Seconds: those passages at this installation's pace, passages analysed and embedded per second, as the
  last build that computed at least `MIN_MEASURED_PASSAGES` of them measured it (`pace.json` beside the
  index, one entry per embedder and sentence-vector mode), else `ingestion.estimate_default_passages_per_s`.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from langchain_core.documents import Document

from core.settings import Settings
from core.types import DocumentInfo
from ingest.chunking import chunk_units, make_splitter
from ingest.loaders import load_file
from ingest.store import embedder_identity, write_json_atomically

log = logging.getLogger("cuabot.ingest")

PACE_FILE = "pace.json"
# Fewer passages than this measure the first group's start-up more than the pace
MIN_MEASURED_PASSAGES = 10
# Passages end at pages and sections: on the shipped corpus they hold 450-630 new characters of 750
PASSAGE_FILL = 0.75


@dataclass(frozen=True)
class Estimate:
    """How long indexing `documents` files should take, and whether staff are asked to confirm first."""

    documents: int
    passages: int
    passages_per_s: float
    measured: bool  # the pace was measured on this installation (else the settings' default)
    confirm_above_s: float

    @property
    def seconds(self) -> float:
        return self.passages / self.passages_per_s

    @property
    def long(self) -> bool:
        return self.seconds > self.confirm_above_s


def estimate(settings: Settings, paths: list[Path]) -> Estimate:
    """The estimate for indexing these files with this installation's pace."""
    return _at_pace(settings, len(paths), sum(file_passages(path, settings) for path in paths))


def estimate_read(settings: Settings, units: list[Document]) -> Estimate:
    """The estimate for one file already read by the loader (an upload, checked that way before it is kept)."""
    return _at_pace(settings, 1, unit_passages(units, settings))


def _at_pace(settings: Settings, documents: int, passages: int) -> Estimate:
    pace = measured_pace(settings)
    return Estimate(
        documents=documents,
        passages=passages,
        passages_per_s=pace or settings.ingestion.estimate_default_passages_per_s,
        measured=pace is not None,
        confirm_above_s=settings.api.reindex_confirm_above_s,
    )


def unit_passages(units: list[Document], settings: Settings) -> int:
    """The passages the build's splitter makes of a file's loaded units."""
    ingestion = settings.ingestion
    splitter = make_splitter(ingestion.chunk_size, ingestion.chunk_overlap)
    return max(1, len(chunk_units(units, DocumentInfo(doc_id="estimate", title="estimate"), splitter)))


def file_passages(path: Path, settings: Settings) -> int:
    """The passages the build will make of a file (by its size when it cannot be read)."""
    try:
        return unit_passages(load_file(path), settings)
    except Exception as exc:  # an estimate must never cost the file: the build reads it, or says why not
        log.warning("count failed for %s (%s): counted by size", path.name, exc.__class__.__name__)
    ingestion = settings.ingestion
    step = PASSAGE_FILL * max(ingestion.chunk_size - ingestion.chunk_overlap, 1)
    return max(1, math.ceil(path.stat().st_size / step))


# --- This installation's pace ----------------------------------------------------------------


def _pace_key(settings: Settings) -> str:
    return f"{embedder_identity(settings)}:{settings.embedding.sentence_vectors}"


def _read_paces(index_dir: Path) -> dict[str, Any]:
    try:
        paces = json.loads((index_dir / PACE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return paces if isinstance(paces, dict) else {}


def measured_pace(settings: Settings) -> float | None:
    """Passages per second the last large enough build measured with these settings' embedder, or None."""
    entry = _read_paces(settings.index_dir).get(_pace_key(settings), {})
    rate = entry.get("passages_per_s") if isinstance(entry, dict) else None
    return float(rate) if isinstance(rate, int | float) and rate > 0 else None


def record_pace(settings: Settings, passages: int, passages_per_s: float) -> None:
    """Keep a build's pace for the next estimates, when it computed enough passages to measure it."""
    if passages < MIN_MEASURED_PASSAGES or passages_per_s <= 0:
        return
    paces = _read_paces(settings.index_dir)
    paces[_pace_key(settings)] = {
        "passages_per_s": round(passages_per_s, 4),
        "passages": passages,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    write_json_atomically(paces, settings.index_dir / PACE_FILE)
