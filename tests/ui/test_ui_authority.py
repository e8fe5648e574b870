"""Another authority than the shipped CUA: the demo page, the widget's texts and the helpdesk name it, never the CUA."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Page, expect
from stub_service import StubService, stub_helpdesk

from core.settings import Settings
from tests.fixtures.authority import VAL, assert_names_val
from tests.fixtures.factories import make_settings
from tests.fixtures.live_server import live_server
from ui.app import create_app


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    root = tmp_path_factory.mktemp("ui-authority")
    return make_settings(feedback_db=root / "feedback.sqlite3", analytics_db=root / "a.sqlite3", authority=VAL)


@pytest.fixture(scope="module")
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(StubService(), settings)) as test_client:
        yield test_client


@pytest.mark.parametrize("path", ["/", "/widget/index.html"])
def test_demo_page_names_the_authority(client: TestClient, path: str) -> None:
    page = client.get(path)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "<title>Assistant documentaire — Communauté de communes du Val</title>" in page.text
    assert "Posez vos questions à l'assistant de la CCV" in page.text
    assert "vous oriente vers le guichet unique de votre commune ou un espace France Services." in " ".join(
        page.text.split()
    )
    assert '<a href="https://www.cc-val.fr">www.cc-val.fr</a>' in page.text
    assert "{{" not in page.text
    assert_names_val(page.text)


def test_widget_reads_its_title_and_intro_from_the_server(client: TestClient) -> None:
    config = client.get("/api/config").json()
    assert config["title"] == "Assistant de la Communauté de communes du Val"
    assert_names_val(config["intro"])
    script = client.get("/widget/widget.js").text
    assert "Arras" not in script and "CUA" not in script  # the script names no authority of its own


def test_helpdesk_title_heading_and_answers_name_the_authority(client: TestClient, settings: Settings) -> None:
    config = client.get("/helpdesk/config").json()
    assert config["title"] == "Assistant CCV — espace conseillers"
    headings = [c["props"].get("value") or "" for c in config["components"] if c.get("type") == "markdown"]
    assert headings[0].startswith("# Espace conseillers — Communauté de communes du Val")
    page = stub_helpdesk(settings)
    ask: Any = next(f for f in page.fns.values() if f.api_name == "ask").fn
    outputs = ask("Ma carte grise ?", [], [], None)
    shown, copied = outputs[0], outputs[7]
    for text in (shown, copied):
        assert_names_val(text)
        assert "03 21 55 00 00" in text


def test_the_shipped_demo_page_still_names_the_cua(tmp_path: Path) -> None:
    settings = make_settings(feedback_db=tmp_path / "feedback.sqlite3", analytics_db=tmp_path / "a.sqlite3")
    with TestClient(create_app(StubService(), settings)) as client:
        page = client.get("/").text
    assert "<title>Assistant documentaire — Communauté Urbaine d'Arras</title>" in page.replace("&#x27;", "'")
    assert "l'assistant de la CUA" in page.replace("&#x27;", "'")


@pytest.mark.browser
def test_widget_in_the_browser_names_the_authority(page: Page, settings: Settings) -> None:
    """The widget's heading, intro and refusal, as a resident's browser shows them."""
    with live_server(create_app(StubService(), settings)) as url:
        page.goto(url + "/")
        page.locator(".cua-launcher").click()
        expect(page.locator("#cua-title")).to_have_text("Assistant de la Communauté de communes du Val")
        expect(page.locator(".cua-intro")).to_contain_text("documents publics de la CCV")
        question = page.get_by_label("Votre question")
        question.fill("Comment changer l'adresse de ma carte grise ?")
        question.press("Enter")
        refusal = page.locator(".cua-refusal")
        expect(refusal).to_contain_text("03 21 55 00 00")
        assert_names_val(page.locator("#cua-widget").inner_text())
        assert_names_val(page.title())
