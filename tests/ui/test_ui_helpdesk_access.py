"""The helpdesk asks conseillers for a login once CUABOT_ACCESS__HELPDESK_PASSWORD is set."""

from __future__ import annotations

import time
from pathlib import Path

from fastapi.testclient import TestClient
from stub_service import StubService

from tests.fixtures.factories import make_settings
from ui.app import create_app

PASSWORD = "mot-de-passe-de-test"


def _client(tmp_path: Path, **settings: str) -> TestClient:
    config = make_settings(feedback_db=tmp_path / "feedback.sqlite3", analytics_db=tmp_path / "a.sqlite3", **settings)
    app = create_app(StubService(), config)
    return TestClient(app)


def test_helpdesk_without_password_is_open(tmp_path: Path) -> None:
    assert _client(tmp_path).get("/helpdesk/config").status_code == 200


def test_helpdesk_with_password_needs_login(tmp_path: Path) -> None:
    # The login form posts from this site; a failed login makes the next one wait (tests/ui/test_security_helpdesk.py)
    client = _client(tmp_path, access__helpdesk_password=PASSWORD, security__login_delay_s="0.05")
    client.headers["Origin"] = "http://testserver"
    assert client.get("/helpdesk/config").status_code == 401
    wrong = client.post("/helpdesk/login", data={"username": "conseiller", "password": "faux"})
    assert wrong.status_code == 400
    assert client.get("/helpdesk/config").status_code == 401
    time.sleep(0.1)
    login = client.post("/helpdesk/login", data={"username": "conseiller", "password": PASSWORD})
    assert login.status_code == 200
    assert client.get("/helpdesk/config").status_code == 200


def test_resident_pages_stay_open_when_helpdesk_is_locked(tmp_path: Path) -> None:
    client = _client(tmp_path, access__helpdesk_password=PASSWORD)
    assert client.get("/").status_code == 200
    assert client.get("/widget/widget.js").status_code == 200
