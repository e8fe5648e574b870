"""Question analytics for staff (off by default): outcome, latency and a masked topic per question.

No question is stored: only its topic, the sorted content lemmas of the question once personal
data are masked, numbers left out, and only the words the documents hold ("Numericamp" stays, a
resident's own name goes, even written in lower case or not recognised as a name).
"Comment s'inscrire au Numericamp ?" and "S'inscrire au Numericamp, comment ?" are one topic, and
nobody can be recognised in it.
Rows older than `privacy.analytics_retention_days` are purged on open and by `purge()`.
The rows live in a SQLite file, or in PostgreSQL when `database.url` is set (bot/stores/database.py).
"""

from __future__ import annotations

import csv
import io
import logging
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from sqlalchemy import Column, Float, MetaData, Table, Text, select

from bot.stores.database import Database, DatabaseUnavailable, sqlite_url
from core.privacy import LABELS, mask_personal_data
from core.settings import Settings
from core.text import analyse
from core.types import Outcome

log = logging.getLogger("cuabot.stores")

TOPIC_LEMMAS = 4
TOP_TOPICS = 10
# One row: UTC ISO time, outcome, latency in seconds, topic
Row = tuple[str, str, float, str]
CSV_COLUMNS = ["date", "heure", "resultat", "latence_s", "sujet"]
_METADATA = MetaData()
QUESTIONS = Table(
    "questions",
    _METADATA,
    Column("at", Text, nullable=False),  # UTC ISO time
    Column("outcome", Text, nullable=False),  # answer | evidence_only | refuse
    Column("latency_s", Float, nullable=False),
    Column("topic", Text, nullable=False),  # masked, lemmatised
)


def question_topic(question: str, vocabulary: frozenset[str]) -> str:
    """The question's masked content lemmas, sorted: a grouping key. Only the lemmas in `vocabulary` (the
    documents' lemmas and names) count: a surname is a word the documents do not hold."""
    analysis = analyse(_without_labels(mask_personal_data(question)))
    kept = sorted(
        lemma for lemma in (analysis.lemmas & vocabulary) - analysis.numbers if lemma.replace("-", "").isalpha()
    )
    return " ".join(kept[:TOPIC_LEMMAS]) or "(sans mot-clé)"


def _without_labels(masked: str) -> str:
    """core/privacy.py's labels ([courriel], [date de naissance]…) removed: their words are never a topic."""
    for label in LABELS:
        masked = masked.replace(label, " ")
    return masked


@dataclass(frozen=True)
class DayCount:
    day: str
    questions: int


@dataclass(frozen=True)
class TopicCount:
    topic: str
    questions: int


@dataclass(frozen=True)
class AnalyticsSummary:
    """What staff read: volume, how often the assistant could not answer, and what about."""

    enabled: bool
    retention_days: int
    questions: int
    per_day: list[DayCount]
    refusal_rate: float
    evidence_only_rate: float
    latency_p50_s: float | None
    latency_p95_s: float | None
    unanswered_topics: list[TopicCount]


class AnalyticsStore:
    """Rows (one per answered question) in the SQLite file at `path`, or in the database of `url`; safe to share
    between request threads."""

    def __init__(self, path: Path, retention_days: int, url: str | None = None) -> None:
        self.path = path
        self.retention_days = retention_days
        self._lock = threading.Lock()
        if url is None:
            path.parent.mkdir(parents=True, exist_ok=True)
        self.database = Database(url or sqlite_url(path), _METADATA)

    def record(self, topic: str, outcome: Outcome, latency_s: float, at: datetime | None = None) -> None:
        """One row (DatabaseUnavailable when the database does not answer)."""
        row = {
            "at": (at or datetime.now(UTC)).isoformat(),
            "outcome": outcome.value,
            "latency_s": round(latency_s, 3),
            "topic": topic,
        }
        with self._lock, self.database.begin() as connection:
            connection.execute(QUESTIONS.insert().values(row))

    def purge(self, now: datetime | None = None) -> int:
        """Delete rows older than the retention period; returns how many."""
        cutoff = ((now or datetime.now(UTC)) - timedelta(days=self.retention_days)).isoformat()
        with self._lock, self.database.begin() as connection:
            return connection.execute(QUESTIONS.delete().where(QUESTIONS.c.at < cutoff)).rowcount

    def rows(self) -> list[Row]:
        with self.database.begin() as connection:
            result = connection.execute(select(QUESTIONS).order_by(QUESTIONS.c.at))
            return [(at, outcome, latency, topic) for at, outcome, latency, topic in result]

    def summary(self, enabled: bool = True) -> AnalyticsSummary:
        return summarise(self.rows(), enabled, self.retention_days)


def summarise(rows: list[Row], enabled: bool, retention_days: int) -> AnalyticsSummary:
    """The staff summary of analytics rows (at, outcome, latency, topic)."""
    total = len(rows)
    days: dict[str, int] = {}
    unanswered: dict[str, int] = {}
    for at, outcome, _latency, topic in rows:
        days[at[:10]] = days.get(at[:10], 0) + 1
        if outcome != Outcome.ANSWER.value:
            unanswered[topic] = unanswered.get(topic, 0) + 1
    latencies = np.array([r[2] for r in rows], dtype=float)
    top = sorted(unanswered.items(), key=lambda item: (-item[1], item[0]))[:TOP_TOPICS]
    return AnalyticsSummary(
        enabled=enabled,
        retention_days=retention_days,
        questions=total,
        per_day=[DayCount(day=d, questions=n) for d, n in sorted(days.items())],
        refusal_rate=_share(rows, Outcome.REFUSE),
        evidence_only_rate=_share(rows, Outcome.EVIDENCE_ONLY),
        latency_p50_s=round(float(np.percentile(latencies, 50)), 3) if total else None,
        latency_p95_s=round(float(np.percentile(latencies, 95)), 3) if total else None,
        unanswered_topics=[TopicCount(topic=t, questions=n) for t, n in top],
    )


def csv_text(rows: list[Row]) -> str:
    """Rows as CSV (French headers), for a spreadsheet."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for at, outcome, latency, topic in rows:
        writer.writerow([at[:10], at[11:19], outcome, latency, topic])
    return out.getvalue()


def _share(rows: list[Row], outcome: Outcome) -> float:
    return round(sum(r[1] == outcome.value for r in rows) / len(rows), 4) if rows else 0.0


def _store(settings: Settings) -> AnalyticsStore:
    return AnalyticsStore(settings.analytics_db, settings.privacy.analytics_retention_days, url=settings.database.url)


def recorded(settings: Settings) -> bool:
    """Whether the settings name a store that may hold rows: always in a database, else once its file exists."""
    return settings.database.url is not None or settings.analytics_db.exists()


def open_store(settings: Settings) -> AnalyticsStore:
    """The store the settings describe, its rows past retention deleted (skipped, logged, while the database
    does not answer: its tables are created on its first use that reaches it)."""
    store = _store(settings)
    try:
        store.purge()
    except DatabaseUnavailable as exc:
        log.warning("analytics store unreachable at start-up, retention purge skipped: %s", exc)
    return store


def purge(settings: Settings) -> int:
    """For `cuabot purge`: delete analytics rows past retention; return how many (none without a store)."""
    if not recorded(settings):
        return 0
    return _store(settings).purge()
