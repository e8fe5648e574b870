"""Feedback from residents (widget) and conseillers (helpdesk), kept in a local SQLite file.

Personal data is masked before anything is written, and questions are kept only when
the `privacy.store_questions` setting allows it. The reasons are a closed list of codes
(`FeedbackReason`): nothing personal can be written in them. Rows older than
`privacy.feedback_retention_days` are deleted by `open_store` and by `cuabot purge`, and
overwritten on disk (SQLite's secure_delete). A store written before the reason codes is
migrated when it opens. One connection per call keeps it safe to use from FastAPI's worker threads.
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

from core.privacy import mask_personal_data
from core.settings import Settings
from core.text import fold

_COLUMNS = ("id", "created_at", "origin", "rating", "reasons", "comment", "question", "answer")
# Longest texts kept of one feedback (the API refuses longer ones; other senders are cut)
MAX_COMMENT_CHARS = 2000
MAX_QUESTION_CHARS = 1000
MAX_ANSWER_CHARS = 8000
# The store's format: 1 = reasons as codes, every text masked by the masking of its version
_VERSION = 1
_PAGE_ROWS = 500
# A spreadsheet runs a cell starting with one of these as a formula (« =HYPERLINK(…) »)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

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


class FeedbackReason(StrEnum):
    """Why an answer helped or not: a closed list of codes, shown with their French label."""

    CLEAR = "clair"
    COMPLETE = "complet"
    RELIABLE_SOURCES = "sources_fiables"
    INCORRECT = "incorrect"
    INCOHERENT = "incoherent"
    MISSING_SOURCES = "sources_manquantes"
    OFF_TOPIC = "hors_sujet"

    @property
    def label(self) -> str:
        return REASON_LABELS[self]


REASON_LABELS = {
    FeedbackReason.CLEAR: "clair",
    FeedbackReason.COMPLETE: "complet",
    FeedbackReason.RELIABLE_SOURCES: "sources fiables",
    FeedbackReason.INCORRECT: "incorrect",
    FeedbackReason.INCOHERENT: "incohérent",
    FeedbackReason.MISSING_SOURCES: "manque de sources",
    FeedbackReason.OFF_TOPIC: "hors sujet",
}
POSITIVE_REASONS = (FeedbackReason.CLEAR, FeedbackReason.COMPLETE, FeedbackReason.RELIABLE_SOURCES)
NEGATIVE_REASONS = tuple(reason for reason in FeedbackReason if reason not in POSITIVE_REASONS)
# What a reason was stored as before the codes (its label, any case or accent) or since (its code)
_REASON_OF = {fold(label): reason for reason, label in REASON_LABELS.items()} | {
    fold(reason.value): reason for reason in FeedbackReason
}


def reasons_from_codes(codes: Iterable[str]) -> tuple[FeedbackReason, ...]:
    """The reasons named by `codes`, each once; raises ValueError (French message) for an unknown code."""
    try:
        reasons = [FeedbackReason(code) for code in codes]
    except ValueError:
        raise ValueError("Motif inconnu : choisissez parmi les motifs proposés.") from None
    return tuple(dict.fromkeys(reasons))


@dataclass(frozen=True)
class Feedback:
    """One opinion on one answer, as given (the store masks it before writing)."""

    rating: Literal["up", "down"]
    origin: Literal["widget", "helpdesk", "api"]
    question: str = ""
    answer: str = ""
    reasons: tuple[FeedbackReason, ...] = ()
    comment: str = ""


def masked(text: str, limit: int) -> str:
    """`text` masked, then cut to `limit` characters (masking only reads twice that, whatever was sent)."""
    return mask_personal_data(text[: 2 * limit])[:limit]


def spreadsheet_safe(value: Any) -> Any:
    """A text a spreadsheet would run as a formula, with a leading apostrophe so that it is shown as text."""
    return f"'{value}" if isinstance(value, str) and value.startswith(_FORMULA_START) else value


def _timestamp(moment: datetime) -> str:
    """UTC, to the second: the stored text sorts like the time it names."""
    return moment.astimezone(UTC).isoformat(timespec="seconds")


class FeedbackStore:
    """Append-only store of feedback rows, with a CSV export for the team."""

    def __init__(self, path: Path, store_questions: bool, retention_days: int | None = None) -> None:
        self.path = Path(path)
        self.store_questions = store_questions
        self.retention_days = retention_days
        with closing(self._connect()) as connection:
            _migrate(connection)
        # The copy earlier versions' export left beside the database, out of reach of the retention purge
        self.path.with_suffix(".export.csv").unlink(missing_ok=True)

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(self.path)
        connection.execute("PRAGMA secure_delete = ON")  # a purged row is overwritten, not left in free pages
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
        question = masked(feedback.question, MAX_QUESTION_CHARS) if self.store_questions else ""
        reasons = reasons_from_codes(feedback.reasons)
        return (
            _timestamp(datetime.now(UTC)),
            feedback.origin,
            feedback.rating,
            json.dumps([reason.value for reason in reasons]),
            masked(feedback.comment, MAX_COMMENT_CHARS),
            question,
            masked(feedback.answer, MAX_ANSWER_CHARS),
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

    def rows(self) -> Iterator[tuple[Any, ...]]:
        """Every row in order, read a page at a time (one short connection per page)."""
        last = 0
        while True:
            with closing(self._connect()) as connection:
                page = connection.execute(
                    f"SELECT {', '.join(_COLUMNS)} FROM feedback WHERE id > ? ORDER BY id LIMIT ?", (last, _PAGE_ROWS)
                ).fetchall()
            yield from page
            if len(page) < _PAGE_ROWS:
                return
            last = page[-1][0]

    def csv_lines(self) -> Iterator[str]:
        """The export for the team, line by line (header first): reasons as French labels, no cell a
        spreadsheet would run as a formula. Streamed, never written beside the database."""
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        for row in _export_rows(self.rows()):
            writer.writerow(row)
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()

    def export_csv(self, dest: Path) -> int:
        """For `cuabot feedback export`: write the export to `dest` (UTF-8); return the number of rows."""
        dest = Path(dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        with dest.open("w", encoding="utf-8", newline="") as handle:
            handle.writelines(self.csv_lines())
        return self.count()

    def count(self) -> int:
        with closing(self._connect()) as connection:
            return int(connection.execute("SELECT COUNT(*) FROM feedback").fetchone()[0])


def _export_rows(rows: Iterable[tuple[Any, ...]]) -> Iterator[tuple[Any, ...]]:
    yield _COLUMNS
    for row in rows:
        codes = json.loads(row[4])
        reasons = " ; ".join(_REASON_OF[fold(code)].label for code in codes if fold(code) in _REASON_OF)
        yield tuple(spreadsheet_safe(value) for value in (*row[:4], reasons, *row[5:]))


def _migrate(connection: sqlite3.Connection) -> None:
    """Bring a store written by an earlier version to `_VERSION`: reasons as codes (a free-text reason goes,
    masked, to the comment), every text masked by today's masking and cut to today's bounds; then the file is
    rewritten (VACUUM) so that no earlier text stays in its free pages."""
    if connection.execute("PRAGMA user_version").fetchone()[0] >= _VERSION:
        return
    rows = connection.execute("SELECT id, reasons, comment, question, answer FROM feedback").fetchall()
    with connection:
        for row_id, reasons, comment, question, answer in rows:
            connection.execute(
                "UPDATE feedback SET reasons = ?, comment = ?, question = ?, answer = ? WHERE id = ?",
                (*_migrated(reasons, comment, question, answer), row_id),
            )
        connection.execute(f"PRAGMA user_version = {_VERSION}")
    if rows:
        connection.execute("VACUUM")


def _migrated(reasons: str, comment: str, question: str, answer: str) -> tuple[str, str, str, str]:
    try:
        given = [str(reason) for reason in json.loads(reasons)]
    except (ValueError, TypeError):
        given = [reasons]
    known = [_REASON_OF[fold(reason)] for reason in given if fold(reason) in _REASON_OF]
    others = [reason[:MAX_COMMENT_CHARS] for reason in given if fold(reason) not in _REASON_OF]
    if others:
        comment = " ".join(filter(None, [comment[:MAX_COMMENT_CHARS], f"Autres motifs : {' ; '.join(others)}"]))
    return (
        json.dumps([reason.value for reason in dict.fromkeys(known)]),
        masked(comment, MAX_COMMENT_CHARS),
        masked(question, MAX_QUESTION_CHARS),
        masked(answer, MAX_ANSWER_CHARS),
    )


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
