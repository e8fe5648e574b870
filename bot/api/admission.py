"""A bounded queue in front of the generator: how the API's questions reach the model.

The model phrases `admission.slots` answers at once. A question is admitted only while fewer
than `admission.slots + admission.queue_size` are in flight, else the route answers 503 before
any retrieval work. An admitted question's phrasing step (`QuestionService.phrase`) waits for a
slot, then runs on the generator's own threads while the question's thread relays its events;
after `admission.queue_wait_s` without a slot, or when the model runs past `generation.timeout_s`,
the service answers with the evidence alone (`PhrasingUnavailable`). The widget's API, the
OpenAI-compatible API and the helpdesk all hand their questions' phrasing to the same Admission. The questions
in flight, those waiting for the model and those shed are in the metrics (bot/api/metrics.py).
"""

from __future__ import annotations

import contextvars
import logging
import queue
import threading
import time
from collections.abc import Generator, Iterator
from concurrent.futures import ThreadPoolExecutor

from bot.answer.service import PhrasingUnavailable, StreamEvent
from bot.api.metrics import IN_FLIGHT, SHED, WAITING, current_surface
from core.settings import Settings

log = logging.getLogger("cuabot.admission")

BUSY_MESSAGE = "Le service est très sollicité : réessayez dans quelques secondes."
REASON_BUSY = "le modèle est occupé par d'autres questions"
REASON_LATE = "le modèle a dépassé le délai de réponse"
REASON_FAILED = "le modèle n'a pas répondu"

_Relayed = StreamEvent | BaseException | None


class QueueFull(Exception):
    """More questions in flight than the model and its queue can hold: the route answers 503."""

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(BUSY_MESSAGE)
        self.retry_after_s = retry_after_s


class Ticket:
    """One admitted question's place; released once, whichever of the route or the stream ends first.

    `with admission.admit():` releases it at the end of the block.
    """

    def __init__(self, admission: Admission) -> None:
        self._admission = admission
        self._released = False

    def release(self) -> None:
        with self._admission.lock:
            if not self._released:
                self._released = True
                self._admission.in_flight -= 1
                IN_FLIGHT.dec()

    def __enter__(self) -> Ticket:
        return self

    def __exit__(self, *_: object) -> None:
        self.release()


class Admission:
    """The generator's slots and queue."""

    def __init__(self, settings: Settings) -> None:
        self.capacity = settings.admission.slots + settings.admission.queue_size
        self.wait_s = settings.admission.queue_wait_s
        self.timeout_s = settings.generation.timeout_s
        self.retry_after_s = settings.admission.busy_retry_after_s
        self.in_flight = 0
        self.lock = threading.Lock()
        self._free = threading.Semaphore(settings.admission.slots)
        self._threads = ThreadPoolExecutor(max_workers=settings.admission.slots, thread_name_prefix="generation")

    def admit(self) -> Ticket:
        """A place for one question, or QueueFull (decided before any retrieval work)."""
        with self.lock:
            if self.in_flight >= self.capacity:
                SHED.labels(current_surface()).inc()
                raise QueueFull(self.retry_after_s)
            self.in_flight += 1
            IN_FLIGHT.inc()
        return Ticket(self)

    def phrasing(self, steps: Iterator[StreamEvent]) -> Iterator[StreamEvent]:
        """The phrasing step's events, once a slot is free, relayed from a generation thread until the deadline."""
        with WAITING.track_inprogress():
            free = self._free.acquire(timeout=self.wait_s)
        if not free:
            raise PhrasingUnavailable(REASON_BUSY)
        events: queue.Queue[_Relayed] = queue.Queue()
        stop = threading.Event()
        # In the question's context: the model's log lines carry its request id
        work = self._threads.submit(contextvars.copy_context().run, _drain, steps, events, stop)
        work.add_done_callback(lambda _: self._free.release())  # the slot frees when the model really stops
        deadline = time.monotonic() + self.timeout_s
        try:
            while (event := _next(events, deadline)) is not None:
                if isinstance(event, BaseException):
                    log.error("phrasing failed, evidence only", exc_info=event)
                    raise PhrasingUnavailable(REASON_FAILED)
                yield event
        finally:
            stop.set()


def _next(events: queue.Queue[_Relayed], deadline: float) -> _Relayed:
    try:
        return events.get(timeout=max(deadline - time.monotonic(), 0))
    except queue.Empty:
        log.warning("generation ran past its deadline, evidence only")
        raise PhrasingUnavailable(REASON_LATE) from None


def _drain(steps: Iterator[StreamEvent], events: queue.Queue[_Relayed], stop: threading.Event) -> None:
    """On a generation thread: hand each event over; stop (closing the model's stream) when told."""
    try:
        for event in steps:
            if stop.is_set():
                break
            events.put(event)
    except Exception as exc:  # reported to the waiting question, which answers with the evidence
        events.put(exc)
    finally:
        if isinstance(steps, Generator):
            steps.close()
        events.put(None)
