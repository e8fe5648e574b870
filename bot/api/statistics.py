"""Question statistics, counted in one place for every surface of the application.

`create_api` hands the question service one `AnswerCounter` as a listener: the widget's routes,
the OpenAI-compatible route and the helpdesk all ask the same service, so each finished question
gives one analytics row (masked topic, outcome, latency) whichever surface asked it. A question
refused before any work (429, 503) or left by its client before the end is not counted, nor one answered
while the analytics database does not answer (logged once per outage: the answer goes on).
"""

from __future__ import annotations

import logging
import threading

from bot.answer.service import QuestionService
from bot.stores.analytics import AnalyticsStore, question_topic
from bot.stores.database import DatabaseUnavailable
from core.types import Answer
from ingest.store import IndexReader

log = logging.getLogger("cuabot.statistics")


class AnswerCounter:
    """One analytics row per finished question of `service`."""

    def __init__(self, service: QuestionService, store: AnalyticsStore) -> None:
        self.service = service
        self.store = store
        self._lock = threading.Lock()
        self._words: frozenset[str] = frozenset()
        self._words_of: IndexReader | None = None
        self._unreachable = False

    def __call__(self, text: str, answer: Answer) -> None:
        try:
            topic = question_topic(text, self._vocabulary())
            self.store.record(topic, answer.outcome, answer.timings.get("total_s", 0.0))
        except DatabaseUnavailable as exc:
            self._log_outage(exc)
        except Exception:  # statistics never cost a resident the answer
            log.exception("question not counted")
        else:
            self._log_return()

    def _log_outage(self, exc: DatabaseUnavailable) -> None:
        if not self._unreachable:
            log.warning("analytics database unreachable, questions are not counted until it returns: %s", exc)
        self._unreachable = True

    def _log_return(self) -> None:
        if self._unreachable:
            log.warning("analytics database reachable again, questions are counted")
        self._unreachable = False

    def _vocabulary(self) -> frozenset[str]:
        """The lemmas and names the documents hold (computed once per index generation): the words a topic
        may keep."""
        reader = self.service.reader
        with self._lock:
            if self._words_of is not reader:
                self._words = frozenset(
                    word
                    for s in reader.sentences
                    for words in (s.lemmas, s.names, s.heading_lemmas, s.heading_names)
                    for word in words
                )
                self._words_of = reader
            return self._words
