"""One request id per question: in its response's `X-Request-ID` header and in every log line written for it."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bot.answer.generation import GenerationError
from bot.api.app import create_api
from bot.api.request_id import accepted_id
from core.logs import RequestIdFilter, configure_logging, request_scope
from ingest.embeddings import E5Embedder
from tests.fixtures.asgi import send_body
from tests.fixtures.doubles import ScriptedGenerator, build_small_index
from tests.fixtures.factories import make_service, make_settings

QUESTION = "Quand la déchetterie de Dainville est-elle ouverte ?"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The API over a one-document index and a model server that fails: its warning is written by the model's
    own thread, the question's lines by Starlette's thread pool."""
    index = build_small_index(tmp_path_factory.mktemp("request-id"))
    settings = make_settings(
        embedding__backend="e5",
        index_dir=index,
        feedback_db=index.parent / "fb.sqlite3",
        access__admin_token="admin-secret",
        answerability__min_evidence_score=0.0,
        answerability__min_question_coverage=0.0,
        answerability__strong_evidence_score=0.0,
    )
    failing = ScriptedGenerator(error=GenerationError("Connection error."))
    service = make_service(settings, generator=failing, embedder=E5Embedder())
    with TestClient(create_api(service, settings)) as test_client:
        yield test_client


def is_new_id(value: str) -> bool:
    return len(value) == 32 and all(c in "0123456789abcdef" for c in value)


def test_an_answer_a_streamed_answer_and_refusals_carry_a_new_id(client: TestClient) -> None:
    answered = client.post("/api/ask", json={"question": QUESTION})
    with client.stream("POST", "/api/ask/stream", json={"question": QUESTION}) as streamed:
        list(streamed.iter_lines())
    invalid = client.post("/api/ask", json={"question": ""})
    not_admin = client.get("/api/admin/documents")  # refused by a middleware, before any route
    assert (answered.status_code, streamed.status_code, invalid.status_code, not_admin.status_code) == (
        200,
        200,
        422,
        401,
    )
    ids = [r.headers["x-request-id"] for r in (answered, streamed, invalid, not_admin)]
    assert all(is_new_id(i) for i in ids) and len(set(ids)) == 4


def test_a_safe_incoming_id_is_kept_a_hostile_one_replaced(client: TestClient) -> None:
    kept = client.get("/api/health", headers={"X-Request-ID": "proxy-42.abc_DEF"})
    assert kept.headers["x-request-id"] == "proxy-42.abc_DEF"
    for hostile in ("a" * 129, "id\r\nX-Admin: 1", "id with spaces", "é"):
        sent = send_body(client.app, "GET", "/api/health", 0, headers={"X-Request-ID": hostile})
        assert sent.status == 200 and is_new_id(sent.headers["x-request-id"])
    assert accepted_id("a" * 128) and not accepted_id("") and not accepted_id(None)


@pytest.mark.parametrize("path", ["/api/ask", "/api/ask/stream"])
def test_every_log_line_of_a_question_carries_its_id(
    client: TestClient, caplog: pytest.LogCaptureFixture, path: str
) -> None:
    caplog.handler.addFilter(RequestIdFilter())  # as the server's handlers stamp their records (core/logs.py)
    caplog.set_level(logging.INFO, logger="cuabot")
    response = client.post(path, json={"question": QUESTION}, headers={"X-Request-ID": "trace-me"})
    response.read()
    assert response.headers["x-request-id"] == "trace-me"
    lines = {r.getMessage().split(":")[0]: r.request_id for r in caplog.records}  # type: ignore[attr-defined]
    # The question (Starlette's thread pool) and the model's failure (the model's own thread)
    assert lines["question"] == lines["generation failed, evidence alone or a refusal"] == "trace-me"
    assert set(lines.values()) == {"trace-me"}


@pytest.mark.parametrize("log_json", [True, False])
def test_the_server_log_lines_write_the_id(
    restore_logging: None, capsys: pytest.CaptureFixture[str], log_json: bool
) -> None:
    configure_logging(make_settings(privacy__log_json=log_json))
    with request_scope("trace-7"):
        logging.getLogger("cuabot.test").warning("inside")
    logging.getLogger("cuabot.test").warning("outside")
    inside, outside = capsys.readouterr().err.splitlines()[-2:]
    if log_json:
        assert json.loads(inside)["request_id"] == "trace-7" and json.loads(outside)["request_id"] == "-"
    else:
        assert "[trace-7] cuabot.test: inside" in inside and "[-] cuabot.test: outside" in outside


def test_an_unhandled_error_answers_500_with_the_id(tmp_path: Path) -> None:
    from fastapi import FastAPI

    from bot.api.request_id import RequestId

    app = FastAPI()

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("boom")

    app.add_middleware(RequestId)
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/boom", headers={"X-Request-ID": "trace-500"})
    assert response.status_code == 500 and response.headers["x-request-id"] == "trace-500"
    assert "X-Request-ID" in response.json()["detail"]
