"""End to end: the widget in chromium, against the app around the REAL pipeline (models and index)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.fixtures.live_server import live_server

pytestmark = [pytest.mark.slow, pytest.mark.browser]

# Generation on two CPU cores takes tens of seconds per answer.
ANSWER_TIMEOUT_MS = 300_000


@pytest.fixture(scope="module")
def real_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    try:
        from bot.answer.service import build_service
        from ui.app import create_app
    except ImportError as error:
        pytest.skip(
            f"the real pipeline cannot be served (bot.answer.service or bot.api.app cannot be imported: {error})"
        )
    from core.settings import get_settings

    settings = get_settings().model_copy(
        update={"feedback_db": tmp_path_factory.mktemp("real-server") / "feedback.sqlite3"}
    )
    with live_server(create_app(build_service(settings), settings)) as url:
        yield url


def _ask(page: Page, question: str) -> Any:
    page.get_by_label("Votre question").fill(question)
    page.get_by_label("Votre question").press("Enter")
    expect(page.locator(".cua-streaming")).to_have_count(0, timeout=ANSWER_TIMEOUT_MS)
    expect(page.locator(".cua-error")).to_be_empty()
    return page.locator(".cua-turn").last


def test_real_pipeline_answers_with_sources_and_refuses(page: Page, real_server: str, artifacts_dir: Path) -> None:
    page.goto(real_server + "/")
    page.locator(".cua-launcher").click()

    turn = _ask(page, "Combien de visiteurs au Numericamp ?")
    expect(turn.locator(".cua-answer")).to_contain_text("450")
    expect(turn.locator(".cua-quote").first).to_contain_text("450")
    expect(turn.locator(".cua-answer")).not_to_contain_text("Je n'ai pas trouvé")
    page.screenshot(path=artifacts_dir / "e2e-answer.png")

    turn = _ask(page, "Comment changer l'adresse de ma carte grise ?")
    expect(turn.locator(".cua-refusal")).to_be_visible()
    page.screenshot(path=artifacts_dir / "e2e-refusal.png")
