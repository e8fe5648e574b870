"""A bounded queue in front of the generator, and the async walk of one question through it.

The model phrases one answer at a time (`generator_slots`). A question is admitted only while
fewer than `generator_slots + generator_queue_size` are in flight, else the route answers 503
before any retrieval work. An admitted question waits for the model on the event loop (no server
thread held); after `generator_queue_wait_s`, or when the model runs past `llm_timeout_s`, the
resident gets the evidence alone. Retrieval runs in Starlette's thread pool, phrasing on the
generator's own threads, so /api/health and static files keep answering while the model works.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

from starlette.concurrency import run_in_threadpool

from bot.pipeline import Pipeline, StreamEvent
from bot.schemas import Turn
from core.settings import Settings
from core.types import Answer, Outcome

log = logging.getLogger("cuabot.admission")

BUSY_MESSAGE = "Le service est très sollicité : réessayez dans quelques secondes."
REASON_BUSY = "le modèle est occupé par d'autres questions : voici les passages trouvés"
REASON_LATE = "le modèle a dépassé le délai de réponse : voici les passages trouvés"
REASON_FAILED = "le modèle n'a pas répondu : voici les passages trouvés"


class QueueFull(Exception):
    """More questions in flight than the model and its queue can hold: the route answers 503."""

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(BUSY_MESSAGE)
        self.retry_after_s = retry_after_s


class Ticket:
    """One admitted question's place; released once, whichever of the route or the stream ends first."""

    def __init__(self, admission: Admission) -> None:
        self._admission = admission
        self._released = False

    def release(self) -> None:
        if not self._released:
            self._released = True
            self._admission.in_flight -= 1


class Admission:
    """The generator's slots and queue. Every counter is touched on the event loop only."""

    def __init__(self, settings: Settings) -> None:
        self.capacity = settings.generator_slots + settings.generator_queue_size
        self.wait_s = settings.generator_queue_wait_s
        self.timeout_s = settings.llm_timeout_s
        self.retry_after_s = settings.busy_retry_after_s
        self.in_flight = 0
        self._free = asyncio.Semaphore(settings.generator_slots)
        self._threads = ThreadPoolExecutor(max_workers=settings.generator_slots, thread_name_prefix="generation")

    def admit(self) -> Ticket:
        """A place for one question, or QueueFull (decided before any retrieval work)."""
        if self.in_flight >= self.capacity:
            raise QueueFull(self.retry_after_s)
        self.in_flight += 1
        return Ticket(self)

    async def phrase(self, pipe: Pipeline, question: str, answer: Answer, started: float) -> AsyncIterator[StreamEvent]:
        """Token events, then a done event with the answer (the evidence alone when busy or late)."""
        try:
            await asyncio.wait_for(self._free.acquire(), self.wait_s)
        except TimeoutError:
            yield StreamEvent("done", answer=evidence_only(answer, REASON_BUSY))
            return
        loop = asyncio.get_running_loop()
        events: asyncio.Queue[StreamEvent | BaseException | None] = asyncio.Queue()
        stop = threading.Event()
        work = loop.run_in_executor(self._threads, _drain, pipe.phrase(question, answer, started), events, loop, stop)
        work.add_done_callback(lambda _: self._free.release())  # the slot frees when the model really stops
        deadline = loop.time() + self.timeout_s
        try:
            while (event := await asyncio.wait_for(events.get(), max(deadline - loop.time(), 0))) is not None:
                if isinstance(event, BaseException):
                    log.error("phrasing failed, evidence only", exc_info=event)
                    yield StreamEvent("done", answer=evidence_only(answer, REASON_FAILED))
                    return
                yield event
        except TimeoutError:
            log.warning("generation ran past %.0f s, evidence only", self.timeout_s)
            yield StreamEvent("done", answer=evidence_only(answer, REASON_LATE))
            return
        finally:
            stop.set()
        yield StreamEvent("done", answer=answer)


def _drain(
    phrasing: Iterator[StreamEvent],
    events: asyncio.Queue[StreamEvent | BaseException | None],
    loop: asyncio.AbstractEventLoop,
    stop: threading.Event,
) -> None:
    """On a generation thread: hand each event to the loop; stop (closing the model's stream) when told."""
    try:
        for event in phrasing:
            if stop.is_set():
                break
            loop.call_soon_threadsafe(events.put_nowait, event)
    except Exception as exc:  # reported to the waiting request, which answers with the evidence
        loop.call_soon_threadsafe(events.put_nowait, exc)
    finally:
        phrasing.close()  # type: ignore[attr-defined]
        loop.call_soon_threadsafe(events.put_nowait, None)


def evidence_only(answer: Answer, reason: str) -> Answer:
    """A copy, so that a phrasing thread still running cannot change what the resident reads."""
    timings = dict(answer.timings)
    return replace(answer, outcome=Outcome.EVIDENCE_ONLY, reason=reason, sentences=[], timings=timings)


async def answer_events(
    pipe: Pipeline, admission: Admission, question: str, history: list[Turn], documents: list[str] | None
) -> AsyncIterator[StreamEvent]:
    """Pipeline.stream, awaited: evidence (thread pool), tokens (queued for the model), done."""
    started = time.perf_counter()
    answer = await run_in_threadpool(pipe.gather, question, history, documents, started)
    if not answer.injection:
        yield StreamEvent("evidence", evidence=answer.evidence, passages=answer.passages)
    if answer.outcome is Outcome.ANSWER:
        async for event in admission.phrase(pipe, question, answer, started):
            if event.answer is None:
                yield event
            else:
                answer = event.answer
    yield StreamEvent("done", answer=pipe.finish(answer, started))


async def answer_question(
    pipe: Pipeline, admission: Admission, question: str, history: list[Turn], documents: list[str] | None
) -> Answer:
    """The final answer of answer_events."""
    final: Any = None
    async for event in answer_events(pipe, admission, question, history, documents):
        final = event.answer or final
    assert isinstance(final, Answer)
    return final
