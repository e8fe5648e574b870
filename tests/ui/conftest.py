"""Fixtures for the UI tests: the app served by uvicorn in a thread, and Debian's chromium."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.settings import Settings
from tests.fixtures.factories import make_settings
from tests.fixtures.live_server import live_server

UI_TESTS_DIR = Path(__file__).resolve().parent
ARTIFACTS_DIR = UI_TESTS_DIR / "artifacts"
AXE_SCRIPT = UI_TESTS_DIR / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
INSTALL_HINT = "run scripts/install_browser.sh"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: drives Debian's chromium with Playwright")
    config.addinivalue_line("markers", "slow: needs the real models and index")


def ui_settings(tmp_dir: Path, **overrides: Any) -> Settings:
    """Settings for a test server: feedback and analytics in a temporary folder, questions not kept."""
    return make_settings(
        feedback_db=tmp_dir / "feedback.sqlite3",
        analytics_db=tmp_dir / "analytics.sqlite3",
        privacy__store_questions=False,
        **overrides,
    )


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS_DIR


@pytest.fixture(scope="session")
def axe_script() -> Path:
    if not AXE_SCRIPT.exists():
        pytest.skip(f"{AXE_SCRIPT} is missing: {INSTALL_HINT}")
    return AXE_SCRIPT


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: {INSTALL_HINT}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    """A fresh browser profile (empty sessionStorage) per test, in French."""
    ctx = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 800})
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: Any) -> Any:
    return context.new_page()


@pytest.fixture(scope="session")
def stub_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The full app (API, widget, helpdesk) around the StubService."""
    from stub_service import StubService

    from ui.app import create_app

    settings = ui_settings(tmp_path_factory.mktemp("stub-server"))
    service = StubService()
    with live_server(create_app(service, settings)) as url:
        yield {"url": url, "service": service, "settings": settings}
