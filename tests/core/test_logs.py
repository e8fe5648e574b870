"""Server logs: JSON lines (or text), and personal data masked on every path, `cuabot serve` included."""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bench.servers import free_port, served
from core import privacy
from core.logs import configure_logging
from core.settings import REPO_ROOT
from tests.fixtures.factories import make_settings
from tests.fixtures.live_server import served_api_env

EMAIL = "jeanne.durand@example.fr"
PHONE = "06 12 34 56 78"
NIR = "1 85 05 78 006 084 36"
IBAN = "FR76 3000 6000 0112 3456 7890 189"
STREET = "12 rue Victor Hugo"
QUESTION = f"Je suis {EMAIL}, tél. {PHONE}, NIR {NIR}, IBAN {IBAN}, au {STREET} : horaires de la médiathèque ?"
SECRETS = [EMAIL, EMAIL.replace("@", "%40"), PHONE, PHONE.replace(" ", ""), NIR, IBAN, "Victor Hugo"]
START_TIMEOUT_S = 180.0
# What QUESTION holds, as the masking writes it
QUESTION_LABELS = (privacy.EMAIL, privacy.PHONE, privacy.NIR, privacy.IBAN, privacy.ADDRESS)


def _json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def _access(args: tuple[Any, ...]) -> None:
    logging.getLogger("uvicorn.access").info('%s - "%s %s HTTP/%s" %d', *args)


ACCESS_ARGS = ("127.0.0.1:40000", "GET", f"/api/health?courriel={EMAIL}&tel={PHONE.replace(' ', '+')}", "1.1", 200)


def test_json_access_line_has_request_fields(restore_logging: None, capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(make_settings(privacy__log_json=True))
    _access(ACCESS_ARGS)
    out, err = capsys.readouterr()
    (line,) = _json_lines(out)
    assert list(line)[:4] == ["time", "level", "logger", "message"]
    assert line["logger"] == "uvicorn.access" and line["level"] == "INFO"
    assert (line["client"], line["method"], line["status"]) == ("127.0.0.0", "GET", 200)
    assert line["path"] == "/api/health?courriel=[masqué]&tel=[masqué]"
    assert "Logging error" not in err


def test_text_access_line_is_written_and_masked(restore_logging: None, capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(make_settings(privacy__log_json=False))
    _access(ACCESS_ARGS)
    out, err = capsys.readouterr()
    assert 'uvicorn.access: 127.0.0.0 - "GET /api/health?courriel=[masqué]&tel=[masqué] HTTP/1.1" 200 OK' in out
    assert "Logging error" not in err and "Traceback" not in err


@pytest.mark.parametrize("log_json", [True, False])
def test_exception_traceback_is_masked(
    restore_logging: None, capsys: pytest.CaptureFixture[str], log_json: bool
) -> None:
    configure_logging(make_settings(privacy__log_json=log_json))
    try:
        raise RuntimeError(f"échec pour {EMAIL}, {PHONE}, {NIR}, {IBAN}, {STREET}")
    except RuntimeError:
        logging.getLogger("uvicorn.error").exception("Exception in ASGI application")
    err = capsys.readouterr().err
    assert "RuntimeError: échec pour [courriel], [téléphone], [NIR], [IBAN], [adresse]" in (
        _json_lines(err)[0]["exc_info"] if log_json else err
    )
    assert not any(secret in err for secret in SECRETS)


# What `cuabot serve` does (configure_logging, then uvicorn with the same config), with the API
# alone and one route that fails with personal data in its exception.
SERVER = """
import sys
import uvicorn
from bot.api.app import create_api
from bot.answer.service import build_service
from core.logs import configure_logging
from core.privacy import LABELS
from core.settings import get_settings

settings = get_settings()
log_config = configure_logging(settings)
app = create_api(build_service(settings), settings)

def boom() -> None:
    raise RuntimeError(sys.argv[2])

app.add_api_route("/boom", boom)
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_config=log_config)
"""


@pytest.fixture
def served_logs(tmp_path: Path, e5_corpus_index: Path) -> Iterator[tuple[str, Path, Path]]:
    """The API (mock generator, e5 index) served on a free port; yields its URL, stdout and stderr files."""
    port = free_port()
    env = served_api_env(tmp_path, e5_corpus_index, CUABOT_PRIVACY__LOG_JSON="true")
    stdout, stderr = tmp_path / "stdout.log", tmp_path / "stderr.log"
    command = [sys.executable, "-c", SERVER, str(port), f"échec pour {EMAIL}, {PHONE}, {NIR}, {IBAN}, {STREET}"]
    with (
        stdout.open("wb") as out,
        stderr.open("wb") as err,
        served(command, port, env, START_TIMEOUT_S, cwd=REPO_ROOT, stdout=out, stderr=err) as url,
    ):
        yield url, stdout, stderr


def test_served_requests_are_logged_masked(served_logs: tuple[str, Path, Path]) -> None:
    url, stdout, stderr = served_logs
    with httpx.Client(base_url=url, timeout=60) as client:
        assert client.get("/api/health", params={"courriel": EMAIL, "tel": PHONE}).status_code == 200
        assert client.get(f"/inconnu/{EMAIL}/{PHONE.replace(' ', '')}").status_code == 404
        assert client.post("/api/ask", json={"question": QUESTION}).status_code == 200
        assert client.get("/boom").status_code == 500
    time.sleep(0.5)  # the access line is written after the response
    out, err = stdout.read_text(encoding="utf-8"), stderr.read_text(encoding="utf-8")
    assert "Logging error" not in err
    assert not [line for line in err.splitlines() if line.startswith("Traceback")], "a traceback outside JSON"
    access = [line for line in _json_lines(out) if line["logger"] == "uvicorn.access"]
    requests = {(line["method"], line["path"].partition("?")[0], line["status"]) for line in access}
    assert {("GET", "/api/health", 200), ("GET", "/inconnu/[courriel]/[téléphone]", 404)} <= requests
    assert {("POST", "/api/ask", 200), ("GET", "/boom", 500)} <= requests
    health = next(line for line in access if line["path"].startswith("/api/health?"))
    assert health["path"] == "/api/health?courriel=[masqué]&tel=[masqué]"
    assert {line["client"] for line in access} == {"127.0.0.0"}
    logs = _json_lines(err)
    questions = [line["message"] for line in logs if line["logger"] == "cuabot.service"]
    assert any(
        message.startswith("question:") and all(label in message for label in QUESTION_LABELS) for message in questions
    )
    (failure,) = [line for line in logs if "exc_info" in line]
    assert failure["logger"] == "uvicorn.error"
    assert "RuntimeError: échec pour [courriel], [téléphone], [NIR], [IBAN], [adresse]" in failure["exc_info"]
    assert not [secret for secret in SECRETS if secret in out or secret in err]
