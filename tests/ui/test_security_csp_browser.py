"""Every page still works in chromium under its Content-Security-Policy, without a single violation (issue 30)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.fixtures.factories import make_settings
from tests.fixtures.live_server import live_server

pytestmark = [pytest.mark.browser, pytest.mark.security]

PASSWORD = "mot-de-passe-de-test"

# Every CSP violation of the page, as the browser reports it
RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener('securitypolicyviolation', (event) => {
  window.__violations.push(event.violatedDirective + ' ' + event.blockedURI);
});
"""


def _violations(page: Page) -> list[str]:
    return list(page.evaluate("window.__violations"))


@pytest.fixture
def watched(page: Page) -> Page:
    page.add_init_script(RECORD_VIOLATIONS)
    return page


def test_the_widget_answers_under_its_policy(watched: Page, stub_server: dict[str, Any]) -> None:
    watched.goto(stub_server["url"] + "/")
    watched.locator(".cua-launcher").click()
    textarea = watched.get_by_label("Votre question")
    textarea.fill("Combien de visiteurs au Numericamp ?")
    textarea.press("Enter")
    expect(watched.locator(".cua-streaming")).to_have_count(0)
    expect(watched.get_by_role("dialog")).to_contain_text("450 visiteurs")
    assert watched.evaluate("getComputedStyle(document.body).margin") == "0px"  # demo.css applied
    assert _violations(watched) == []


@pytest.mark.parametrize(
    ("path", "selector"),
    [("/admin/", "main"), ("/docs", ".swagger-ui .info"), ("/helpdesk/", "gradio-app textarea")],
)
def test_service_pages_load_under_their_policy(
    watched: Page, stub_server: dict[str, Any], path: str, selector: str
) -> None:
    watched.goto(stub_server["url"] + path)
    expect(watched.locator(selector).first).to_be_visible(timeout=60_000)
    assert _violations(watched) == []


def test_a_conseiller_logs_in_through_the_guarded_form(watched: Page, tmp_path: Path) -> None:
    """Gradio's own login form passes the same-site check; the session cookie is SameSite=Lax."""
    from stub_service import StubService

    from ui.app import create_app

    settings = make_settings(
        feedback_db=tmp_path / "f.sqlite3", analytics_db=tmp_path / "a.sqlite3", access__helpdesk_password=PASSWORD
    )
    with live_server(create_app(StubService(), settings)) as url:
        watched.goto(url + "/helpdesk/")
        watched.locator("input[type=password]").wait_for(timeout=60_000)
        watched.locator("input[type=text]").fill("conseiller")
        watched.locator("input[type=password]").fill(PASSWORD)
        watched.get_by_role("button", name="Connexion").click()
        expect(watched.locator("gradio-app textarea").first).to_be_visible(timeout=60_000)
        cookies = watched.context.cookies()
        assert cookies and all(cookie["sameSite"] == "Lax" for cookie in cookies)
        assert _violations(watched) == []
