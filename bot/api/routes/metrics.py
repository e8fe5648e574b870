"""`GET /metrics` for Prometheus, and the listener that counts each finished question in it.

A scrape answers the metrics the questions updated (bot/api/metrics.py: this process's, or every worker's
under PROMETHEUS_MULTIPROC_DIR) and what is read from the application there and then: the generation of the
index that answers and its age, the last re-index's duration, whether the model server answers. While
CUABOT_ACCESS__METRICS_TOKEN is set, a scrape must present it as a bearer token; it is open otherwise, and the
reverse proxy must not route /metrics from outside (docs/operations.md#metrics-and-request-ids).
"""

from __future__ import annotations

import hmac
import os
import time
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, InfoMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import State

from bot.answer.generation import generator_problem
from bot.answer.service import QuestionService
from bot.api.admission import REASON_FAILED, REASON_LATE
from bot.api.deps import SettingsDep
from bot.api.metrics import (
    ANSWER_SECONDS,
    EVIDENCE_SECONDS,
    FIRST_TOKEN_SECONDS,
    MODEL_ERRORS,
    QUESTIONS,
    current_surface,
)
from bot.api.routes.staff import ReindexJob
from core.types import Answer

router = APIRouter()

_LATENCIES = (
    (EVIDENCE_SECONDS, "evidence_s"),
    (FIRST_TOKEN_SECONDS, "first_token_s"),
    (ANSWER_SECONDS, "total_s"),
)


@router.get("/metrics", include_in_schema=False)
async def metrics(
    request: Request, settings: SettingsDep, authorization: Annotated[str | None, Header()] = None
) -> Response:
    token = settings.access.metrics_token
    if token and not hmac.compare_digest((authorization or "").encode(), f"Bearer {token}".encode()):
        raise HTTPException(401, "Jeton des métriques manquant ou invalide.", {"WWW-Authenticate": "Bearer"})
    body = await run_in_threadpool(generate_latest, Scrape(request.app.state))
    return Response(body, media_type=CONTENT_TYPE_LATEST)


def count_question(_: str, answer: Answer) -> None:
    """A listener of the question service: one finished question in the metrics, for the surface it came from."""
    surface = current_surface()
    QUESTIONS.labels(surface, answer.outcome.value).inc()
    for histogram, timing in _LATENCIES:
        if timing in answer.timings:
            histogram.labels(surface).observe(answer.timings[timing])
    if kind := model_failure(answer.reason):
        MODEL_ERRORS.labels(kind).inc()


def model_failure(reason: str) -> str | None:
    """Why the answer went without the model: "timeout" (it ran past its deadline), "error" (it failed: the queue's
    reason, and the service's « le modèle n'a pas répondu (…) »), or None, a busy model included."""
    if reason.startswith(REASON_LATE):
        return "timeout"
    if reason.startswith(REASON_FAILED):
        return "error"
    return None


class Scrape(Collector):
    """Everything one scrape answers."""

    def __init__(self, state: State) -> None:
        self.state = state

    def collect(self) -> Iterable[Metric]:
        yield from updated_metrics().collect()
        yield from index_metrics(self.state.service)
        yield from reindex_metrics(self.state.reindex_job)
        yield _model_server_up(self.state.service)


def updated_metrics() -> CollectorRegistry:
    """This process's metrics, or under several workers every worker's, from their files."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    registry = CollectorRegistry()
    MultiProcessCollector(registry)
    return registry


def index_metrics(service: QuestionService) -> Iterator[Metric]:
    """The generation that answers, and how long ago it was built."""
    generation = service.reader.generation_dir
    yield InfoMetricFamily(
        "cuabot_index_generation", "The index generation answering.", {"generation": generation.name}
    )
    try:
        built = (generation / "manifest.json").stat().st_mtime
    except OSError:  # removed by two later builds, while this process still answers from it
        return
    yield GaugeMetricFamily("cuabot_index_age_seconds", "Seconds since that generation was built.", time.time() - built)


def reindex_metrics(job: ReindexJob) -> Iterator[Metric]:
    """Whether a re-index (started from the staff page) runs, and how long the last one took, by how it ended."""
    yield GaugeMetricFamily("cuabot_reindex_running", "1 while a re-index runs.", float(job.running))
    if job.started_at and job.finished_at:
        seconds = (datetime.fromisoformat(job.finished_at) - datetime.fromisoformat(job.started_at)).total_seconds()
        last = GaugeMetricFamily(
            "cuabot_reindex_last_duration_seconds", "Duration of the last re-index, by how it ended.", labels=["state"]
        )
        last.add_metric([job.state], seconds)
        yield last


def _model_server_up(service: QuestionService) -> Metric:
    up = generator_problem(service.generator) is None
    return GaugeMetricFamily("cuabot_model_server_up", "0 while the model server does not answer.", float(up))
