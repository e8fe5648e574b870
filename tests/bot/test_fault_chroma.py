"""Fault: the Chroma server holding the index goes down, then comes back (issue 29).

A real `chroma run` on a free loopback port holds a one-document index built against it; the API is served by
uvicorn in this process, with the mock generator. Dense search goes to the server for every question
(`store.exact_search_max_passages=0`, as for an index past the exact-search size). While the server is down,
every asking route answers a 503 with a French message and Retry-After, and /api/health says degraded naming it;
once it is back on the same port with the same data, questions are answered again within 10 s, the API never
restarted. One slot and no queue: a question place left taken by the outage would turn the next question away.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from bench.servers import free_port, wait_ready
from bot.api.app import create_api
from bot.api.display import STORE_UNAVAILABLE_MESSAGE
from core.settings import Settings
from ingest.build import build_index
from ingest.embeddings import E5Embedder
from ingest.store import POINTER
from tests.fixtures.doubles import write_small_corpus
from tests.fixtures.factories import make_service, make_settings
from tests.fixtures.live_server import live_server

pytestmark = pytest.mark.slow

CHROMA = Path(sys.executable).parent / "chroma"
START_TIMEOUT_S = 60.0
RECOVERY_S = 10.0
QUESTION = "Quand la déchetterie de Dainville est-elle ouverte ?"


class ChromaServer:
    """`chroma run` on one port and data folder, which a test can kill and start again."""

    def __init__(self, data: Path, log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._command = [str(CHROMA), "run", "--path", str(data), "--host", "127.0.0.1", "--port", str(self.port)]
        self._log = log
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self._log.open("ab") as log:
            self._process = subprocess.Popen(
                self._command, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "ANONYMIZED_TELEMETRY": "False"}
            )
        wait_ready(f"{self.url}/api/v2/heartbeat", self._process, START_TIMEOUT_S)

    def kill(self) -> None:
        """SIGKILL: the server goes without closing anything, as in a crash."""
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(signal.SIGKILL)
            self._process.wait()


@pytest.fixture(scope="module")
def chroma(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChromaServer]:
    root = tmp_path_factory.mktemp("chroma-fault")
    server = ChromaServer(root / "data", root / "chroma.log")
    server.start()
    yield server
    server.kill()


@pytest.fixture(scope="module")
def settings(chroma: ChromaServer, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A one-document index whose vectors live on the server, searched there for every question."""
    root = tmp_path_factory.mktemp("chroma-fault-index")
    corpus = write_small_corpus(root)
    settings = make_settings(
        embedding__backend="e5",
        index_dir=root / "index",
        feedback_db=root / "fb.sqlite3",
        analytics_db=root / "analytics.sqlite3",
        store__chroma_url=chroma.url,
        store__exact_search_max_passages=0,
        answerability__min_evidence_score=0.0,  # e5 is not what the thresholds are calibrated for
        answerability__min_question_coverage=0.0,
        admission__slots=1,
        admission__queue_size=0,
        admission__rate_limit="100000/minute",
    )
    build_index(settings, corpus, lambda _s: E5Embedder())
    return settings


@pytest.fixture(scope="module")
def app(settings: Settings) -> FastAPI:
    return create_api(make_service(settings), settings)


@pytest.fixture(scope="module")
def api(app: FastAPI) -> Iterator[str]:
    with live_server(app) as url:
        yield url


def ask(api: str) -> httpx.Response:
    return httpx.post(f"{api}/api/ask", json={"question": QUESTION}, timeout=60)


def stream(api: str) -> httpx.Response:
    return httpx.post(f"{api}/api/ask/stream", json={"question": QUESTION}, timeout=60)


def chat(api: str, streamed: bool = False) -> httpx.Response:
    body = {"model": "cuabot", "messages": [{"role": "user", "content": QUESTION}], "stream": streamed}
    return httpx.post(f"{api}/v1/chat/completions", json=body, timeout=60)


def health(api: str) -> dict[str, Any]:
    body: dict[str, Any] = httpx.get(f"{api}/api/health", timeout=30).json()
    return body


def assert_answered(api: str) -> None:
    body = ask(api).json()
    assert body["outcome"] == "answer" and "samedi" in body["answer"], body
    assert "event: evidence" in stream(api).text
    assert "samedi" in chat(api).json()["choices"][0]["message"]["content"]


def test_questions_are_answered_through_the_chroma_server(api: str) -> None:
    assert health(api)["status"] == "ok"
    assert_answered(api)


def test_chroma_down_is_a_french_503_then_answers_come_back_without_restart(
    api: str, app: FastAPI, chroma: ChromaServer, settings: Settings
) -> None:
    chroma.kill()
    reader = app.state.service.reader
    os.utime(settings.index_dir / POINTER)  # a re-index switched generations: its load needs the server
    for response in (ask(api), stream(api), chat(api), chat(api, streamed=True)):
        assert response.status_code == 503, response.text
        assert response.json() == {"detail": STORE_UNAVAILABLE_MESSAGE}
        assert int(response.headers["retry-after"]) > 0
    degraded = health(api)
    assert degraded["status"] == "degraded" and "Chroma" in degraded["reason"] and chroma.url in degraded["reason"]
    assert app.state.admission.in_flight == 0

    chroma.start()
    back = time.monotonic()
    while (response := ask(api)).status_code != 200:
        assert response.status_code == 503 and time.monotonic() - back < RECOVERY_S, response.text
        time.sleep(0.5)
    assert time.monotonic() - back < RECOVERY_S
    assert health(api)["status"] == "ok"
    assert app.state.service.reader is not reader  # the new generation, whose load failed during the outage
    assert_answered(api)
