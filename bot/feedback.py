"""Feedback from residents (widget) and conseillers (helpdesk), kept in a local SQLite file.

Personal data is masked before anything is written, and questions are kept only when
the `store_questions` setting allows it. One connection per call keeps it safe to use
from FastAPI's worker threads.
"""

from __future__ import annotations

import csv
import json
import sqlite3
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

from bot.schemas import FeedbackRequest
from core.privacy import mask_personal_data

_COLUMNS = ("id", "created_at", "origin", "rating", "reasons", "comment", "question", "answer")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at TEXT NOT NULL,
    origin TEXT NOT NULL,
    rating TEXT NOT NULL,
    reasons TEXT NOT NULL,
    comment TEXT NOT NULL,
    question TEXT NOT NULL,
    answer TEXT NOT NULL
)
"""


class FeedbackStore:
    """Append-only store of feedback rows, with a CSV export for the team."""

    def __init__(self, path: Path, store_questions: bool) -> None:
        self.path = Path(path)
        self.store_questions = store_questions

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(self.path)
        connection.execute(_SCHEMA)
        return connection

    def _row(self, req: FeedbackRequest) -> tuple[str, ...]:
        question = mask_personal_data(req.question) if self.store_questions else ""
        return (
            datetime.now(UTC).isoformat(timespec="seconds"),
            req.origin,
            req.rating,
            json.dumps(req.reasons, ensure_ascii=False),
            mask_personal_data(req.comment),
            question,
            mask_personal_data(req.answer),
        )

    def add(self, req: FeedbackRequest) -> int:
        """Store one feedback and return its id."""
        with closing(self._connect()) as connection, connection:
            cursor = connection.execute(
                "INSERT INTO feedback (created_at, origin, rating, reasons, comment, question, answer)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                self._row(req),
            )
            return int(cursor.lastrowid or 0)

    def export_csv(self, dest: Path) -> int:
        """Write every row (with a header) to `dest` as UTF-8 CSV; return the number of rows."""
        with closing(self._connect()) as connection:
            rows = connection.execute(f"SELECT {', '.join(_COLUMNS)} FROM feedback ORDER BY id").fetchall()
        dest = Path(dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        with dest.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(_COLUMNS)
            writer.writerows(rows)
        return len(rows)
