"""What operators measure (Prometheus): the metrics updated as questions are answered, and their surface.

The objects live in prometheus_client's default registry, created once per process whatever the number of
applications built in it; `GET /metrics` (bot/api/routes/metrics.py) exposes them with what is read at scrape
time (index, re-index, model server). Under several worker processes (`uvicorn --workers N`) each process
writes its values to files in PROMETHEUS_MULTIPROC_DIR, and a scrape sums them (docs/operations.md#metrics).

A question's surface is the route it came through (`SurfaceLabel`), or the helpdesk, which asks outside any
request of the API (`asked_from`): it labels the questions and the shed ones.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Literal

from prometheus_client import Counter, Gauge, Histogram
from starlette.types import ASGIApp, Receive, Scope, Send

from bot.api.refusal import route_path

Surface = Literal["widget", "openai", "helpdesk", "other"]
# The widget's routes (also what partners call), the OpenAI-compatible ones
_SURFACE_PREFIXES: tuple[tuple[str, Surface], ...] = (("/api/ask", "widget"), ("/v1/", "openai"))
_surface: ContextVar[Surface] = ContextVar("cuabot_surface", default="other")

# Seconds: the evidence comes within 0.5 s, a model's first token within seconds, a whole answer within a minute
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0, 120.0)

QUESTIONS = Counter("cuabot_questions", "Questions answered, by surface and outcome.", ["surface", "outcome"])
SHED = Counter("cuabot_questions_shed", "Questions refused (503) because the model's queue was full.", ["surface"])
IN_FLIGHT = Gauge(
    "cuabot_questions_in_flight",
    "Questions admitted and not finished (being answered or waiting for the model).",
    multiprocess_mode="livesum",
)
WAITING = Gauge(
    "cuabot_questions_waiting_for_model",
    "Questions whose evidence is ready, waiting for a free slot of the model.",
    multiprocess_mode="livesum",
)
EVIDENCE_SECONDS = Histogram(
    "cuabot_evidence_seconds", "From the question to its evidence.", ["surface"], buckets=LATENCY_BUCKETS
)
FIRST_TOKEN_SECONDS = Histogram(
    "cuabot_first_token_seconds", "From the question to the model's first token.", ["surface"], buckets=LATENCY_BUCKETS
)
ANSWER_SECONDS = Histogram(
    "cuabot_answer_seconds", "From the question to its whole answer.", ["surface"], buckets=LATENCY_BUCKETS
)
MODEL_ERRORS = Counter(
    "cuabot_model_errors", "Answers given without the model because it failed (error) or ran late (timeout).", ["kind"]
)


def current_surface() -> Surface:
    return _surface.get()


@contextmanager
def asked_from(surface: Surface) -> Iterator[None]:
    """The questions asked inside are counted for `surface`."""
    token = _surface.set(surface)
    try:
        yield
    finally:
        _surface.reset(token)


def surface_of(path: str) -> Surface:
    return next((surface for prefix, surface in _SURFACE_PREFIXES if path.startswith(prefix)), "other")


class SurfaceLabel:
    """ASGI middleware: the questions of a request are counted for the surface its path belongs to."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        with asked_from(surface_of(route_path(scope))):
            await self.app(scope, receive, send)
