"""The helpdesk (Gradio) takes no upload, and its login resists guessing and other sites (issue 30)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from stub_service import StubService

from tests.fixtures.asgi import send_body
from tests.fixtures.factories import make_settings
from ui.app import create_app
from ui.helpdesk_guard import LoginThrottle

pytestmark = pytest.mark.security

PASSWORD = "mot-de-passe-de-test"
SAME_SITE = {"Origin": "http://testserver"}
RIGHT = {"username": "conseiller", "password": PASSWORD}
WRONG = {"username": "conseiller", "password": "faux"}


def _client(tmp_path: Path, **settings: object) -> TestClient:
    config = make_settings(feedback_db=tmp_path / "f.sqlite3", analytics_db=tmp_path / "a.sqlite3", **settings)
    return TestClient(create_app(StubService(), config))


def test_an_anonymous_upload_is_refused_and_nothing_is_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    uploads = tmp_path / "gradio"
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(uploads))
    client = _client(tmp_path)
    assert client.get("/helpdesk/config").status_code == 200  # open: no password (the default)
    for path in ("/helpdesk/gradio_api/upload", "/helpdesk/upload", "/helpdesk/gradio_api/process_recording"):
        response = client.post(path, files={"files": ("a.txt", b"x" * 1000)})
        assert response.status_code == 404, path
        multipart = {"content-type": "multipart/form-data; boundary=limite"}
        sent = send_body(client.app, "POST", path, 32 * 1024, declare_length=False, headers=multipart)
        assert sent.status == 404 and sent.bytes_read == 0  # within the body limit: refused by the helpdesk's guard
    assert not uploads.exists() or not any(p.is_file() for p in uploads.rglob("*"))


def test_a_login_from_another_site_is_refused(tmp_path: Path) -> None:
    client = _client(tmp_path, access__helpdesk_password=PASSWORD)
    for headers in ({}, {"Origin": "https://pirate.example"}, {"Referer": "https://pirate.example/helpdesk"}):
        response = client.post("/helpdesk/login", data=RIGHT, headers=headers)
        assert response.status_code == 403 and "ce site" in response.json()["detail"]
    assert "set-cookie" not in response.headers
    referer = client.post("/helpdesk/login", data=RIGHT, headers={"Referer": "http://testserver/helpdesk/"})
    assert referer.status_code == 200


def test_failed_logins_make_the_client_wait(tmp_path: Path) -> None:
    client = _client(tmp_path, access__helpdesk_password=PASSWORD, security__login_delay_s=0.5)
    assert client.post("/helpdesk/login", data=WRONG, headers=SAME_SITE).status_code == 400
    waiting = client.post("/helpdesk/login", data=RIGHT, headers=SAME_SITE)  # even the right password
    assert waiting.status_code == 429 and waiting.headers["Retry-After"] == "1"
    assert "réessayez" in waiting.json()["detail"]
    time.sleep(0.6)
    assert client.post("/helpdesk/login", data=RIGHT, headers=SAME_SITE).status_code == 200


def test_the_wait_doubles_up_to_its_bound_and_a_success_clears_it() -> None:
    now = [0.0]
    throttle = LoginThrottle(first_s=1.0, max_s=5.0, clock=lambda: now[0])
    waits = []
    for _ in range(5):
        throttle.failed("198.51.100.1")
        waits.append(throttle.wait_s("198.51.100.1"))
    assert waits == [1.0, 2.0, 4.0, 5.0, 5.0]
    assert throttle.wait_s("198.51.100.2") == 0  # per client
    throttle.succeeded("198.51.100.1")
    assert throttle.wait_s("198.51.100.1") == 0


def test_the_session_cookie_is_same_site_lax(tmp_path: Path) -> None:
    client = _client(tmp_path, access__helpdesk_password=PASSWORD)
    response = client.post("/helpdesk/login", data=RIGHT, headers=SAME_SITE)
    cookies = response.headers.get_list("set-cookie")
    assert cookies and all("samesite=lax" in c.lower() and "samesite=none" not in c.lower() for c in cookies)


def test_logout_is_by_post_from_this_site_only(tmp_path: Path) -> None:
    client = _client(tmp_path, access__helpdesk_password=PASSWORD)
    assert client.post("/helpdesk/login", data=RIGHT, headers=SAME_SITE).status_code == 200
    by_get = client.get("/helpdesk/logout", follow_redirects=False)
    assert by_get.status_code == 405 and by_get.headers["Allow"] == "POST"
    assert client.post("/helpdesk/logout", follow_redirects=False).status_code == 403  # no Origin
    assert client.get("/helpdesk/config").status_code == 200  # still logged in
    logout = client.post("/helpdesk/logout", headers=SAME_SITE, follow_redirects=False)
    assert logout.status_code == 302
    client.cookies.clear()
    assert client.get("/helpdesk/config").status_code == 401


def test_the_bound_is_not_below_the_first_wait() -> None:
    with pytest.raises(ValidationError):
        make_settings(security__login_delay_s=10, security__login_max_delay_s=5)
