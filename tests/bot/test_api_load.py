"""Under load: a real uvicorn server on 127.0.0.1, a slow model, concurrent httpx clients."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient

from bench.servers import free_port
from bot.api.admission import BUSY_MESSAGE, REASON_BUSY, REASON_LATE
from bot.api.app import create_api
from core.settings import Settings
from ingest.embeddings import E5Embedder
from tests.fixtures.doubles import SlowGenerator, build_small_index
from tests.fixtures.factories import make_service, make_settings

QUESTION = "Quand la déchetterie de Dainville est-elle ouverte ?"


@pytest.fixture(scope="module")
def small_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_small_index(tmp_path_factory.mktemp("load"))


@pytest.fixture(scope="module")
def embedder() -> E5Embedder:
    return E5Embedder()


def load_settings(index: Path, **load: object) -> Settings:
    return make_settings(
        embedding__backend="e5",
        index_dir=index,
        feedback_db=index.parent / "fb.sqlite3",
        answerability__min_evidence_score=0.0,
        answerability__min_question_coverage=0.0,
        answerability__strong_evidence_score=0.0,  # without the model, the evidence is shown alone, never refused
        **load,
    )


@contextmanager
def serve(settings: Settings, embedder: E5Embedder, seconds: float) -> Iterator[str]:
    """The API with a model taking `seconds` per answer, served by uvicorn in a thread."""
    service = make_service(settings, generator=SlowGenerator(seconds), embedder=embedder)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_api(service, settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


async def ask_many(base: str, count: int) -> tuple[list[httpx.Response], list[float]]:
    """`count` questions at once, and /api/health timed every 200 ms while they are in flight."""
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        asks = [asyncio.create_task(client.post("/api/ask", json={"question": QUESTION})) for _ in range(count)]
        health_times = []
        await asyncio.sleep(0.3)
        while not all(task.done() for task in asks):
            started = time.perf_counter()
            assert (await client.get("/api/health")).status_code == 200
            health_times.append(time.perf_counter() - started)
            await asyncio.sleep(0.2)
        return [await task for task in asks], health_times


def test_full_queue_gets_503_waiters_get_the_evidence_and_health_answers(
    small_index: Path, embedder: E5Embedder
) -> None:
    # one answer at a time, two may wait 1 s; the model takes 3 s: 3 admitted, 3 turned away
    settings = load_settings(
        small_index, admission__queue_size=2, admission__queue_wait_s=1.0, generation__timeout_s=20
    )
    with serve(settings, embedder, seconds=3.0) as base:
        responses, health_times = asyncio.run(ask_many(base, 6))
    busy = [r for r in responses if r.status_code == 503]
    answered = [r.json() for r in responses if r.status_code == 200]
    assert len(busy) == 3 and len(answered) == 3
    assert all(r.json()["detail"] == BUSY_MESSAGE and int(r.headers["Retry-After"]) > 0 for r in busy)
    waited = [a for a in answered if a["reason"].startswith(REASON_BUSY)]
    assert len(waited) == 2
    assert all(a["outcome"] == "evidence_only" and "samedi" in a["answer"] and a["evidence"] for a in waited)
    assert health_times and max(health_times) < 0.1, health_times


def test_a_model_past_its_timeout_gives_the_evidence(small_index: Path, embedder: E5Embedder) -> None:
    settings = load_settings(small_index, generation__timeout_s=1.0)
    with serve(settings, embedder, seconds=6.0) as base:
        started = time.perf_counter()
        response = httpx.post(f"{base}/api/ask", json={"question": QUESTION}, timeout=60)
        elapsed = time.perf_counter() - started
    body = response.json()
    assert response.status_code == 200 and body["outcome"] == "evidence_only" and body["reason"].startswith(REASON_LATE)
    assert "samedi" in body["answer"] and elapsed < 5


def test_too_many_questions_from_one_client_get_429_in_french(small_index: Path, embedder: E5Embedder) -> None:
    """One budget for every asking route: /api/ask, its stream and the OpenAI-compatible route."""
    settings = load_settings(small_index, admission__rate_limit="2/minute")
    service = make_service(settings, generator=SlowGenerator(0.0), embedder=embedder)
    chat = {"messages": [{"role": "user", "content": QUESTION}]}
    with TestClient(create_api(service, settings)) as client:
        codes = [client.post("/api/ask", json={"question": QUESTION}).status_code for _ in range(2)]
        third = client.post("/api/ask", json={"question": QUESTION})
        streamed = client.post("/api/ask/stream", json={"question": QUESTION})
        chatted = client.post("/v1/chat/completions", json=chat)
        health = client.get("/api/health")
    assert codes == [200, 200] and health.status_code == 200
    assert [third.status_code, streamed.status_code, chatted.status_code] == [429, 429, 429]
    assert "patientez" in third.json()["detail"] and int(third.headers["Retry-After"]) > 0
