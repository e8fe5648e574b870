"""Feedback from residents (widget) and conseillers (helpdesk), kept in a local SQLite file or, when
`database.url` is set, in PostgreSQL (bot/stores/database.py).

Personal data is masked before anything is written, and questions are kept only when
the `privacy.store_questions` setting allows it. The reasons are a closed list of codes
(`FeedbackReason`): nothing personal can be written in them. Rows older than
`privacy.feedback_retention_days` are deleted by `open_store` and by `cuabot purge` (in SQLite,
overwritten on disk: secure_delete). A SQLite store written before the reason codes is
migrated when it opens. Every call takes its own connection: safe from FastAPI's worker threads.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import Column, Engine, Index, Integer, MetaData, Table, Text, func, select, text

from bot.stores.database import Database, DatabaseUnavailable, sqlite_url
from core.privacy import mask_personal_data
from core.settings import Settings
from core.text import fold

log = logging.getLogger("cuabot.stores")

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


_METADATA = MetaData()
# Times are UTC ISO texts to the second (`_timestamp`): they sort like the times they name, in any database
FEEDBACK = Table(
    "feedback",
    _METADATA,
    Column("id", Integer, primary_key=True),
    *(Column(name, Text, nullable=False) for name in _COLUMNS[1:]),
    Index("feedback_created_at", "created_at"),
    sqlite_autoincrement=True,  # a purged row's id is never given again
)
_TEXTS = (FEEDBACK.c.reasons, FEEDBACK.c.comment, FEEDBACK.c.question, FEEDBACK.c.answer)


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
    """Append-only store of feedback rows, with a CSV export for the team.

    The SQLite file at `path` unless `url` names another database (PostgreSQL)."""

    def __init__(
        self, path: Path, store_questions: bool, retention_days: int | None = None, url: str | None = None
    ) -> None:
        self.path = Path(path)
        self.store_questions = store_questions
        self.retention_days = retention_days
        if url is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # The copy earlier versions' export left beside the database, out of reach of the retention purge
            self.path.with_suffix(".export.csv").unlink(missing_ok=True)
        self.database = Database(url or sqlite_url(self.path), _METADATA, prepare=_migrate)

    def purge(self, now: datetime | None = None) -> int:
        """Delete the rows older than the retention period (none without one); return how many."""
        if self.retention_days is None:
            return 0
        cutoff = (now or datetime.now(UTC)) - timedelta(days=self.retention_days)
        with self.database.begin() as connection:
            return connection.execute(FEEDBACK.delete().where(FEEDBACK.c.created_at < _timestamp(cutoff))).rowcount

    def _row(self, feedback: Feedback) -> dict[str, str]:
        question = masked(feedback.question, MAX_QUESTION_CHARS) if self.store_questions else ""
        reasons = reasons_from_codes(feedback.reasons)
        return {
            "created_at": _timestamp(datetime.now(UTC)),
            "origin": feedback.origin,
            "rating": feedback.rating,
            "reasons": json.dumps([reason.value for reason in reasons]),
            "comment": masked(feedback.comment, MAX_COMMENT_CHARS),
            "question": question,
            "answer": masked(feedback.answer, MAX_ANSWER_CHARS),
        }

    def add(self, feedback: Feedback) -> int:
        """Store one feedback and return its id (DatabaseUnavailable when the database does not answer)."""
        row = self._row(feedback)
        with self.database.begin() as connection:
            return int(connection.execute(FEEDBACK.insert().values(row).returning(FEEDBACK.c.id)).scalar_one())

    def rows(self) -> Iterator[tuple[Any, ...]]:
        """Every row in order, read a page at a time (one short connection per page)."""
        last = 0
        while True:
            query = select(FEEDBACK).where(FEEDBACK.c.id > last).order_by(FEEDBACK.c.id).limit(_PAGE_ROWS)
            with self.database.begin() as connection:
                page = [tuple(row) for row in connection.execute(query)]
            yield from page
            if len(page) < _PAGE_ROWS:
                return
            last = page[-1][0]

    def check(self) -> None:
        """Raise DatabaseUnavailable unless the database answers: before an export starts streaming."""
        self.database.check()

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
        """For `cuabot feedback export`: write the export to `dest` (UTF-8); return the number of rows. The file
        appears whole or not at all (the database lost half-way leaves no truncated export)."""
        dest = Path(dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        partial = dest.with_name(f".{dest.name}.partial")
        try:
            with partial.open("w", encoding="utf-8", newline="") as handle:
                handle.writelines(self.csv_lines())
            rows = self.count()
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        partial.replace(dest)
        return rows

    def count(self) -> int:
        with self.database.begin() as connection:
            return int(connection.execute(select(func.count()).select_from(FEEDBACK)).scalar_one())


def _export_rows(rows: Iterable[tuple[Any, ...]]) -> Iterator[tuple[Any, ...]]:
    yield _COLUMNS
    for row in rows:
        codes = json.loads(row[4])
        reasons = " ; ".join(_REASON_OF[fold(code)].label for code in codes if fold(code) in _REASON_OF)
        yield tuple(spreadsheet_safe(value) for value in (*row[:4], reasons, *row[5:]))


def _migrate(engine: Engine) -> None:
    """Bring a SQLite store written by an earlier version to `_VERSION`: reasons as codes (a free-text reason goes,
    masked, to the comment), every text masked by today's masking and cut to today's bounds; then the file is
    rewritten (VACUUM) so that no earlier text stays in its free pages. A PostgreSQL store starts at `_VERSION`."""
    if engine.dialect.name != "sqlite":
        return
    with engine.begin() as connection:
        if connection.execute(text("PRAGMA user_version")).scalar_one() >= _VERSION:
            return
        rows = connection.execute(select(FEEDBACK.c.id, *_TEXTS)).all()
        for row_id, *texts in rows:
            values = dict(zip((column.name for column in _TEXTS), _migrated(*texts), strict=True))
            connection.execute(FEEDBACK.update().where(FEEDBACK.c.id == row_id).values(values))
        connection.execute(text(f"PRAGMA user_version = {_VERSION}"))
    if rows:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM"))


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


def _store(settings: Settings) -> FeedbackStore:
    return FeedbackStore(
        settings.feedback_db,
        settings.privacy.store_questions,
        settings.privacy.feedback_retention_days,
        url=settings.database.url,
    )


def open_store(settings: Settings) -> FeedbackStore:
    """The store the settings describe, its expired rows deleted (one indexed DELETE). A database that does not
    answer yet is logged: the store creates its tables and purges on its first use that reaches it."""
    store = _store(settings)
    try:
        store.purge()
    except DatabaseUnavailable as exc:
        log.warning("feedback store unreachable at start-up, retention purge skipped: %s", exc)
    return store


def purge(settings: Settings) -> int:
    """For `cuabot purge`: delete the expired rows; return how many (none when there is no SQLite store)."""
    if settings.database.url is None and not settings.feedback_db.exists():
        return 0
    return _store(settings).purge()
