"""Question statistics, counted in one place for every surface of the application.

`create_api` wraps the question service once in a `CountedService`: the widget's routes, the
OpenAI-compatible route and the helpdesk all ask through that wrapper, so each finished question
gives one analytics row (masked topic, outcome, latency) whichever surface asked it. A question
refused before any work (429, 503) or left by its client before the end is not counted.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Generator

from bot.answer.generation import Generator as AnswerGenerator
from bot.answer.service import Phrasing, QuestionService, StreamEvent, direct
from bot.stores.analytics import AnalyticsStore, question_topic
from core.types import Answer, IndexedDocument, Turn
from ingest.embeddings import Embedder
from ingest.store import IndexReader

log = logging.getLogger("cuabot.statistics")


class CountedService:
    """The question service, plus one analytics row per finished question when a store is given."""

    def __init__(self, service: QuestionService, store: AnalyticsStore | None) -> None:
        self.service = service
        self.store = store
        self._lock = threading.Lock()
        self._names: frozenset[str] = frozenset()
        self._names_of: IndexReader | None = None

    def stream(
        self,
        text: str,
        history: list[Turn] | None = None,
        documents: list[str] | None = None,
        phrasing: Phrasing = direct,
    ) -> Generator[StreamEvent, None, None]:
        """`QuestionService.stream`, the done event counted before it is passed on."""
        for event in self.service.stream(text, history, documents, phrasing):
            if event.answer is not None:
                self._count(text, event.answer)
            yield event

    def ask(
        self,
        text: str,
        history: list[Turn] | None = None,
        documents: list[str] | None = None,
        phrasing: Phrasing = direct,
    ) -> Answer:
        """`QuestionService.ask`, counted."""
        answer = self.service.ask(text, history, documents, phrasing)
        self._count(text, answer)
        return answer

    # What the routes read of the service itself

    @property
    def generator(self) -> AnswerGenerator:
        return self.service.generator

    @property
    def embedder(self) -> Embedder:
        return self.service.embedder

    @property
    def reader(self) -> IndexReader:
        return self.service.reader

    def documents(self) -> list[IndexedDocument]:
        return self.service.documents()

    def reload_if_reindexed(self) -> None:
        self.service.reload_if_reindexed()

    def _count(self, text: str, answer: Answer) -> None:
        if self.store is None:
            return
        try:
            topic = question_topic(text, self._known_names())
            self.store.record(topic, answer.outcome, answer.timings.get("total_s", 0.0))
        except Exception:  # statistics never cost a resident the answer
            log.exception("question not counted")

    def _known_names(self) -> frozenset[str]:
        """Proper names the documents hold (computed once per index generation): those a topic may keep."""
        reader = self.service.reader
        with self._lock:
            if self._names_of is not reader:
                self._names = frozenset(n for s in reader.sentences for n in s.names)
                self._names_of = reader
            return self._names
