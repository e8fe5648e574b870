"""X-Forwarded-For is believed only from the configured proxies: a client cannot spoof a fresh budget (issue 30)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from stub_service import StubService

from tests.fixtures.factories import make_settings
from tests.fixtures.live_server import live_server
from ui.app import SERVER_OPTIONS, create_app

pytestmark = pytest.mark.security

QUESTION = {"question": "Combien de visiteurs au Numericamp ?"}
PROXY = ("10.0.0.1", 40000)


def _client(tmp_path: Path, client: tuple[str, int], **settings: object) -> TestClient:
    config = make_settings(
        feedback_db=tmp_path / "f.sqlite3",
        analytics_db=tmp_path / "a.sqlite3",
        admission__rate_limit="2/minute",
        **settings,
    )
    return TestClient(create_app(StubService(), config), client=client)


def _statuses(client: TestClient, forwarded_for: list[str]) -> list[int]:
    return [client.post("/api/ask", json=QUESTION, headers={"X-Forwarded-For": ip}).status_code for ip in forwarded_for]


@pytest.mark.parametrize("peer", [("127.0.0.1", 40000), ("198.51.100.9", 40000)])
def test_a_spoofed_header_does_not_change_the_bucket(tmp_path: Path, peer: tuple[str, int]) -> None:
    client = _client(tmp_path, peer)  # no proxy trusted (the default), loopback included
    assert _statuses(client, ["203.0.113.1", "203.0.113.2", "203.0.113.3"]) == [200, 200, 429]


def test_a_spoofed_header_from_a_client_beside_the_proxy_does_not_count(tmp_path: Path) -> None:
    client = _client(tmp_path, ("198.51.100.9", 40000), security__trusted_proxies=["10.0.0.0/24"])
    assert _statuses(client, ["203.0.113.1", "203.0.113.2", "203.0.113.3"]) == [200, 200, 429]


def test_the_trusted_proxy_gives_each_resident_a_budget(tmp_path: Path) -> None:
    client = _client(tmp_path, PROXY, security__trusted_proxies=["10.0.0.0/24"])
    assert _statuses(client, ["203.0.113.1", "203.0.113.2", "203.0.113.1", "203.0.113.2"]) == [200] * 4
    # The proxy appends the address it saw: what the resident wrote before it is not believed
    spoofed = ["1.1.1.1, 203.0.113.1", "2.2.2.2, 203.0.113.1"]
    assert _statuses(client, spoofed) == [429, 429]


def test_trusted_proxies_are_addresses() -> None:
    with pytest.raises(ValidationError):
        make_settings(security__trusted_proxies=["proxy.local"])


def test_cuabot_serve_does_not_believe_loopback_either(tmp_path: Path) -> None:
    """Under uvicorn as `cuabot serve` runs it, from 127.0.0.1: uvicorn alone would believe the header."""
    config = make_settings(
        feedback_db=tmp_path / "f.sqlite3", analytics_db=tmp_path / "a.sqlite3", admission__rate_limit="2/minute"
    )
    with live_server(create_app(StubService(), config), **SERVER_OPTIONS) as url, httpx.Client(base_url=url) as http:
        statuses = [
            http.post("/api/ask", json=QUESTION, headers={"X-Forwarded-For": ip}).status_code
            for ip in ("203.0.113.1", "203.0.113.2", "203.0.113.3")
        ]
    assert statuses == [200, 200, 429]
