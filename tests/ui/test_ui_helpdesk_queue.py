"""A conseiller's question goes the way a resident's does: the same model queue, the same statistics.

The whole app (API, widget, helpdesk) under uvicorn, one model slot and one waiting place; a
resident's question holds the model. The helpdesk is asked over HTTP, through Gradio's API.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.answer.generation import Tokens
from bot.answer.prompts import Prompt
from bot.api.admission import BUSY_MESSAGE, REASON_BUSY
from tests.fixtures.doubles import build_small_index
from tests.fixtures.factories import e5_index_settings, make_service
from tests.fixtures.live_server import live_server
from ui.app import create_app

QUESTION = "Quand la déchetterie de Dainville est-elle ouverte ?"
WAIT_S = 10.0


class HeldGenerator:
    """TEST DOUBLE of bot.answer.generation.Generator: holds the model until the test releases it."""

    name = "held"

    def __init__(self) -> None:
        self.started = threading.Event()
        self.release = threading.Event()

    def stream(self, prompt: Prompt) -> Tokens:
        self.started.set()
        self.release.wait(timeout=60)
        yield "La déchetterie de Dainville est ouverte le samedi [1]."
        return False

    def judge(self, prompt: Prompt) -> float | None:
        return None

    def count_tokens(self, messages: list[dict[str, str]]) -> int:
        return 1


@pytest.fixture
def app_with_one_slot(tmp_path: Path) -> Iterator[dict[str, Any]]:
    settings = e5_index_settings(
        tmp_path,
        build_small_index(tmp_path),
        privacy__analytics_enabled=True,
        answerability__min_evidence_score=0.0,
        answerability__min_question_coverage=0.0,
        answerability__strong_evidence_score=0.0,  # a busy model gives the evidence alone, never a refusal
        admission__slots=1,
        admission__queue_size=1,
        admission__queue_wait_s=3.0,
    )
    generator = HeldGenerator()
    app = create_app(make_service(settings, generator=generator), settings)
    with live_server(app) as url:
        yield {"url": url, "app": app, "generator": generator}
    generator.release.set()


def ask_helpdesk(url: str, question: str) -> tuple[str, Any]:
    """A conseiller's question through Gradio's HTTP API: ("complete", outputs) or ("error", {"error": message})."""
    with httpx.Client(base_url=f"{url}/helpdesk/gradio_api", timeout=60) as http:
        event_id = http.post("/call/ask", json={"data": [question, []]}).json()["event_id"]
        with http.stream("GET", f"/call/ask/{event_id}") as response:
            kind = ""
            for line in response.iter_lines():
                if line.startswith("event:"):
                    kind = line.removeprefix("event:").strip()
                elif line.startswith("data:") and kind in ("complete", "error"):
                    return kind, json.loads(line.removeprefix("data:"))
    raise AssertionError("the helpdesk did not answer")


def wait_until(condition: Any, what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.02)


def test_a_conseillers_question_waits_in_the_residents_queue_and_is_counted(app_with_one_slot: dict[str, Any]) -> None:
    url, app, generator = app_with_one_slot["url"], app_with_one_slot["app"], app_with_one_slot["generator"]
    admission = app.state.admission
    with ThreadPoolExecutor(2) as pool, httpx.Client(base_url=url, timeout=60) as http:
        resident = pool.submit(http.post, "/api/ask", json={"question": QUESTION})
        wait_until(generator.started.is_set, "the resident's question never reached the model")

        conseiller = pool.submit(ask_helpdesk, url, QUESTION)
        wait_until(lambda: admission.in_flight == 2, "the conseiller's question never took the waiting place")

        turned_away = http.post("/api/ask", json={"question": QUESTION})  # the conseiller holds the last place
        assert turned_away.status_code == 503 and turned_away.json()["detail"] == BUSY_MESSAGE
        kind, refusal = ask_helpdesk(url, QUESTION)  # the conseiller too, with the residents' message
        assert kind == "error" and refusal["error"] == BUSY_MESSAGE

        kind, outputs = conseiller.result(timeout=30)  # no slot within generator_queue_wait_s: the evidence alone
        assert kind == "complete" and "samedi" in outputs[0]
        assert "Extraits seuls" in outputs[1] and REASON_BUSY in outputs[1]
        generator.release.set()
        assert resident.result(timeout=30).status_code == 200

    # Both questions that reached the service are counted, the conseiller's (evidence only) with the resident's
    outcomes = [outcome for _, outcome, _, _ in app.state.analytics_store.rows()]
    assert len(outcomes) == 2 and "evidence_only" in outcomes, outcomes
    assert admission.in_flight == 0
