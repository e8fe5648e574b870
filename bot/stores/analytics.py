"""Question analytics for staff (off by default): outcome, latency and a masked topic per question.

No question is stored: only its topic, the sorted content lemmas of the question once personal
data are masked, numbers left out, and only the words the documents hold ("Numericamp" stays, a
resident's own name goes, even written in lower case or not recognised as a name).
"Comment s'inscrire au Numericamp ?" and "S'inscrire au Numericamp, comment ?" are one topic, and
nobody can be recognised in it.
Rows older than `privacy.analytics_retention_days` are purged on open and by `purge()`.
"""

from __future__ import annotations

import csv
import io
import sqlite3
import threading
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from core.privacy import LABELS, mask_personal_data
from core.settings import Settings
from core.text import analyse
from core.types import Outcome

TOPIC_LEMMAS = 4
TOP_TOPICS = 10
# One row: UTC ISO time, outcome, latency in seconds, topic
Row = tuple[str, str, float, str]
CSV_COLUMNS = ["date", "heure", "resultat", "latence_s", "sujet"]
_SCHEMA = """
CREATE TABLE IF NOT EXISTS questions (
    at TEXT NOT NULL,          -- UTC ISO time
    outcome TEXT NOT NULL,     -- answer | evidence_only | refuse
    latency_s REAL NOT NULL,
    topic TEXT NOT NULL        -- masked, lemmatised
)
"""


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
    """SQLite rows (one per answered question); safe to share between request threads."""

    def __init__(self, path: Path, retention_days: int) -> None:
        self.path = path
        self.retention_days = retention_days
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=10)

    def record(self, topic: str, outcome: Outcome, latency_s: float, at: datetime | None = None) -> None:
        row = ((at or datetime.now(UTC)).isoformat(), outcome.value, round(latency_s, 3), topic)
        with self._lock, closing(self._connect()) as db, db:
            db.execute("INSERT INTO questions VALUES (?, ?, ?, ?)", row)

    def purge(self, now: datetime | None = None) -> int:
        """Delete rows older than the retention period; returns how many."""
        cutoff = ((now or datetime.now(UTC)) - timedelta(days=self.retention_days)).isoformat()
        with self._lock, closing(self._connect()) as db, db:
            return db.execute("DELETE FROM questions WHERE at < ?", (cutoff,)).rowcount

    def rows(self) -> list[Row]:
        with closing(self._connect()) as db:
            return db.execute("SELECT at, outcome, latency_s, topic FROM questions ORDER BY at").fetchall()

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


def open_store(settings: Settings) -> AnalyticsStore:
    """The store the settings describe, its rows past retention deleted."""
    store = AnalyticsStore(settings.analytics_db, settings.privacy.analytics_retention_days)
    store.purge()
    return store


def purge(settings: Settings) -> int:
    """For `cuabot purge`: delete analytics rows past retention; return how many (none without a store)."""
    if not settings.analytics_db.exists():
        return 0
    return AnalyticsStore(settings.analytics_db, settings.privacy.analytics_retention_days).purge()
