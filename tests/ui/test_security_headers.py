"""Security headers on every page: nosniff, a referrer policy, a CSP each page satisfies, who may frame it (issue 30)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from stub_service import StubService

from tests.fixtures.factories import make_settings
from ui.app import create_app

pytestmark = pytest.mark.security

PAGES = ["/", "/widget/index.html", "/admin/", "/docs", "/helpdesk/", "/api/health", "/widget/widget.js"]
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
INLINE_STYLE = re.compile(r"<style|\sstyle=", re.IGNORECASE)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    root = tmp_path_factory.mktemp("headers")
    settings = make_settings(
        feedback_db=root / "f.sqlite3",
        analytics_db=root / "a.sqlite3",
        security__frame_ancestors=["'self'", "https://www.exemple.fr"],
    )
    return TestClient(create_app(StubService(), settings))


def _policy(client: TestClient, path: str) -> dict[str, str]:
    response = client.get(path)
    assert response.status_code == 200, path
    csp = response.headers["Content-Security-Policy"]
    return dict(part.strip().split(" ", 1) for part in csp.split(";"))


@pytest.mark.parametrize("path", PAGES)
def test_every_page_has_the_security_headers(client: TestClient, path: str) -> None:
    headers = client.get(path).headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    policy = _policy(client, path)
    assert policy["default-src"] == "'self'" and policy["object-src"] == "'none'"
    assert "http" not in headers["Content-Security-Policy"].replace("https://www.exemple.fr", "")


def test_only_the_configured_sites_may_frame_the_widget_page(client: TestClient) -> None:
    for path in ("/", "/widget/index.html"):
        assert _policy(client, path)["frame-ancestors"] == "'self' https://www.exemple.fr"
    for path in ("/admin/", "/helpdesk/", "/docs"):
        assert _policy(client, path)["frame-ancestors"] == "'none'"
        assert client.get(path).headers["X-Frame-Options"] == "DENY"


def test_service_pages_allow_no_inline_script(client: TestClient) -> None:
    for path in ("/", "/admin/", "/docs"):
        assert "'unsafe-inline'" not in _policy(client, path)["script-src"]
        page = client.get(path).text
        assert not INLINE_SCRIPT.search(page), path
    for path in ("/", "/admin/"):
        assert _policy(client, path)["style-src"] == "'self'"
        assert not INLINE_STYLE.search(client.get(path).text), path


def test_the_api_documentation_loads_nothing_from_elsewhere(client: TestClient) -> None:
    page = client.get("/docs").text
    assert not re.search(r"(src|href)=\"(https?:)?//", page)
    for asset in re.findall(r"(?:src|href)=\"([^\"]+)\"", page):
        assert client.get(f"/{asset}").status_code == 200, asset
    assert client.get("/redoc").status_code == 404  # FastAPI's ReDoc page loads it from a CDN


@pytest.mark.parametrize("source", ["*", "https://x.fr; script-src *", "javascript:", "'unsafe-inline'"])
def test_frame_ancestors_are_sites_only(source: str) -> None:
    with pytest.raises(ValidationError):
        make_settings(security__frame_ancestors=[source])


def test_helpdesk_page_gets_its_own_policy(client: TestClient) -> None:
    policy = _policy(client, "/helpdesk/")
    assert "'unsafe-inline'" in policy["script-src"]  # Gradio's start-up scripts are inline
    assert policy["connect-src"] == "'self'"
