"""Fault: the model server is killed in the middle of an answer, then comes back (issue 29).

llama.cpp's own OpenAI-compatible server runs the project's model on a free loopback port; the API
(CUABOT_GENERATION__BACKEND=openai, one generation slot and no queue) is served by uvicorn in this process over a
one-document e5 index. The server is killed (SIGKILL) while it streams an answer: that resident still gets a 200
with the evidence, /api/health says degraded, the next question gets its evidence at once, and once the server is
back on the same port the answers are phrased again, the API never restarted.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bench.load.run import llama_server_command
from bench.servers import free_port, wait_ready
from bot.answer.generation import build_generator
from bot.answer.prompts import fixed_prefix
from bot.api.app import create_api
from core.settings import Settings
from tests.fixtures.doubles import build_small_index
from tests.fixtures.factories import e5_index_settings, make_service
from tests.fixtures.live_server import live_server

pytestmark = pytest.mark.slow

QUESTION = "Quand la déchetterie de Dainville est-elle ouverte ?"
FACT = "samedi"
LOAD_TIMEOUT_S = 300.0  # the model's load, on a busy machine
GENERATION_TIMEOUT_S = 120.0
AT_ONCE_S = 2.0
RECOVERY_S = 10.0


class ModelServer:
    """llama.cpp's server on one port, which a test can kill and start again."""

    def __init__(self, log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self._log = log
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self._log.open("ab") as log:
            command = llama_server_command(self.port)
            self._process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        wait_ready(f"{self.url}/models", self._process, LOAD_TIMEOUT_S)

    def kill(self) -> None:
        """SIGKILL: the server stops mid-token, without closing its connections."""
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(signal.SIGKILL)
            self._process.wait()


@pytest.fixture(scope="module")
def model_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModelServer]:
    server = ModelServer(tmp_path_factory.mktemp("model-server") / "llama.log")
    server.start()
    yield server
    server.kill()


@pytest.fixture(scope="module")
def settings(model_server: ModelServer, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    root = tmp_path_factory.mktemp("model-fault")
    return e5_index_settings(
        root,
        build_small_index(root),
        generation__backend="openai",
        generation__base_url=model_server.url,
        generation__timeout_s=GENERATION_TIMEOUT_S,
        answerability__min_evidence_score=0.0,  # e5 is not what the thresholds are calibrated for
        answerability__min_question_coverage=0.0,
        admission__slots=1,
        admission__queue_size=0,
    )


@pytest.fixture(scope="module")
def api(settings: Settings) -> Iterator[str]:
    generator = build_generator(settings, fixed_prefix(settings.authority))
    with live_server(create_api(make_service(settings, generator=generator), settings)) as url:
        yield url


def ask(api: str) -> tuple[dict[str, Any], float]:
    """The answer to QUESTION on /api/ask, and the seconds it took."""
    started = time.perf_counter()
    response = httpx.post(f"{api}/api/ask", json={"question": QUESTION}, timeout=GENERATION_TIMEOUT_S * 2)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body, time.perf_counter() - started


def health(api: str) -> dict[str, Any]:
    body: dict[str, Any] = httpx.get(f"{api}/api/health", timeout=30).json()
    return body


def stream_killing_the_server(api: str, server: ModelServer) -> tuple[int, list[tuple[str, dict[str, Any]]]]:
    """The stream of QUESTION, the model server killed at the first token of the model's draft; its status and
    events in order."""
    events: list[tuple[str, dict[str, Any]]] = []
    timeout = GENERATION_TIMEOUT_S * 2
    with httpx.stream("POST", f"{api}/api/ask/stream", json={"question": QUESTION}, timeout=timeout) as response:
        kind = ""
        for line in response.iter_lines():
            if line.startswith("event:"):
                kind = line.removeprefix("event:").strip()
            elif line.startswith("data:"):
                events.append((kind, json.loads(line.removeprefix("data:"))))
                if kind == "token" and sum(k == "token" for k, _ in events) == 1:
                    server.kill()
        return response.status_code, events


def test_a_killed_model_server_leaves_the_evidence_then_answers_come_back(api: str, model_server: ModelServer) -> None:
    phrased, _ = ask(api)
    assert "first_token_s" in phrased["timings"] and FACT in phrased["answer"], phrased
    assert health(api)["status"] == "ok"

    status, events = stream_killing_the_server(api, model_server)
    kinds = [kind for kind, _ in events]
    assert status == 200 and kinds[0] == "evidence" and "token" in kinds and kinds[-1] == "done", kinds
    assert any(FACT in quote["text"] for quote in events[0][1]["evidence"])
    done = events[-1][1]
    assert done["outcome"] == "evidence_only" and FACT in done["answer"], done

    degraded = health(api)
    assert degraded["status"] == "degraded" and model_server.url in degraded["reason"]
    for _ in range(3):  # no slot left taken, no wait for the generation time-out
        body, seconds = ask(api)
        assert body["outcome"] == "evidence_only" and FACT in body["answer"] and seconds < AT_ONCE_S, (body, seconds)

    model_server.start()
    back = time.monotonic()
    while health(api)["status"] != "ok":
        assert time.monotonic() - back < RECOVERY_S
        time.sleep(0.5)
    phrased, _ = ask(api)
    assert "first_token_s" in phrased["timings"] and FACT in phrased["answer"], phrased
