"""Feedback from residents (widget) and conseillers (helpdesk), kept in a local SQLite file.

Personal data is masked before anything is written, and questions are kept only when
the `privacy.store_questions` setting allows it. Rows older than `privacy.feedback_retention_days` are deleted
by `open_store` and by `cuabot purge`. One connection per call keeps it safe to use from
FastAPI's worker threads.
"""

from __future__ import annotations

import csv
import json
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

from core.privacy import mask_personal_data
from core.settings import Settings

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
);
CREATE INDEX IF NOT EXISTS feedback_created_at ON feedback (created_at);
"""


@dataclass(frozen=True)
class Feedback:
    """One opinion on one answer, as given (the store masks it before writing)."""

    rating: Literal["up", "down"]
    origin: Literal["widget", "helpdesk", "api"]
    question: str = ""
    answer: str = ""
    reasons: tuple[str, ...] = ()
    comment: str = ""


def _timestamp(moment: datetime) -> str:
    """UTC, to the second: the stored text sorts like the time it names."""
    return moment.astimezone(UTC).isoformat(timespec="seconds")


class FeedbackStore:
    """Append-only store of feedback rows, with a CSV export for the team."""

    def __init__(self, path: Path, store_questions: bool, retention_days: int | None = None) -> None:
        self.path = Path(path)
        self.store_questions = store_questions
        self.retention_days = retention_days

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(self.path)
        connection.executescript(_SCHEMA)
        return connection

    def purge(self, now: datetime | None = None) -> int:
        """Delete the rows older than the retention period (none without one); return how many."""
        if self.retention_days is None:
            return 0
        cutoff = (now or datetime.now(UTC)) - timedelta(days=self.retention_days)
        with closing(self._connect()) as connection, connection:
            cursor = connection.execute("DELETE FROM feedback WHERE created_at < ?", (_timestamp(cutoff),))
            return cursor.rowcount

    def _row(self, feedback: Feedback) -> tuple[str, ...]:
        question = mask_personal_data(feedback.question) if self.store_questions else ""
        return (
            _timestamp(datetime.now(UTC)),
            feedback.origin,
            feedback.rating,
            json.dumps(feedback.reasons, ensure_ascii=False),
            mask_personal_data(feedback.comment),
            question,
            mask_personal_data(feedback.answer),
        )

    def add(self, feedback: Feedback) -> int:
        """Store one feedback and return its id."""
        with closing(self._connect()) as connection, connection:
            cursor = connection.execute(
                "INSERT INTO feedback (created_at, origin, rating, reasons, comment, question, answer)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                self._row(feedback),
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


def open_store(settings: Settings) -> FeedbackStore:
    """The store the settings describe, its expired rows deleted (one indexed DELETE)."""
    store = FeedbackStore(
        settings.feedback_db, settings.privacy.store_questions, settings.privacy.feedback_retention_days
    )
    store.purge()
    return store


def purge(settings: Settings) -> int:
    """For `cuabot purge`: delete the expired rows; return how many (none when there is no store)."""
    if not settings.feedback_db.exists():
        return 0
    return FeedbackStore(
        settings.feedback_db, settings.privacy.store_questions, settings.privacy.feedback_retention_days
    ).purge()
