"""Screenshots of the widget (answer, evidence only, refusal, phone), the helpdesk and the staff page.

    CUABOT_ACCESS__ADMIN_TOKEN=... .venv/bin/python scripts/screenshots.py http://127.0.0.1:8000 --out docs/img
    .venv/bin/python scripts/screenshots.py --stub --out /tmp/screens   # the test double, no models

Against the real service, pass questions that give each outcome (--evidence-only-question:
one the model fails to phrase; it depends on the index). The staff page is captured when
CUABOT_ACCESS__ADMIN_TOKEN holds the service's token. Uses Debian's chromium.
"""

from __future__ import annotations

import argparse
import os
import sys
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

from playwright.sync_api import Browser, Page, ViewportSize, expect, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
ANSWER_TIMEOUT_MS = 180_000
DEFAULT_QUESTIONS = {
    "widget-answer": "Combien de visiteurs au Numericamp ?",
    "widget-evidence-only": "Quels extraits parlent du Numericamp ?",
    "widget-refusal": "Comment changer l'adresse de ma carte grise ?",
}


def _ask(page: Page, question: str) -> None:
    page.get_by_label("Votre question").fill(question)
    page.get_by_label("Votre question").press("Enter")
    expect(page.locator(".cua-live[aria-busy=false]").last).to_be_attached(timeout=ANSWER_TIMEOUT_MS)


def widget_shot(browser: Browser, url: str, question: str, dest: Path, phone: bool = False) -> None:
    """One question in a fresh tab, the panel captured once the checked answer is shown."""
    viewport = ViewportSize(width=360, height=740) if phone else ViewportSize(width=1280, height=900)
    context = browser.new_context(locale="fr-FR", viewport=viewport, device_scale_factor=2 if phone else 1)
    page = context.new_page()
    page.goto(url + "/")
    page.locator(".cua-launcher").click()
    _ask(page, question)
    page.screenshot(path=dest, animations="disabled")
    context.close()


def helpdesk_shot(browser: Browser, url: str, question: str, dest: Path) -> None:
    context = browser.new_context(locale="fr-FR", viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.goto(url + "/helpdesk/")
    page.get_by_label("Question", exact=True).fill(question)
    page.get_by_role("button", name="Demander").click()
    expect(page.locator("#outcome")).to_contain_text("Décision", timeout=ANSWER_TIMEOUT_MS)
    page.screenshot(path=dest, full_page=True, animations="disabled")
    context.close()


def admin_shot(browser: Browser, url: str, token: str, dest: Path) -> None:
    context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    page.goto(url + "/admin/")
    page.get_by_label("Jeton d'administration").fill(token)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.locator("#documents tbody tr").first).to_be_visible(timeout=30_000)
    page.screenshot(path=dest, full_page=True, animations="disabled")
    context.close()


def _stub_server(tmp: Path) -> AbstractContextManager[str]:
    """The app around tests/ui/stub_pipeline.StubPipeline, on a free port."""
    sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "ui")]
    from conftest import make_settings
    from stub_pipeline import StubPipeline

    from tests.fixtures.live_server import live_server
    from ui.app import create_app

    tmp.mkdir(parents=True, exist_ok=True)
    settings = make_settings(tmp)
    return live_server(create_app(StubPipeline(), settings))  # type: ignore[arg-type]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url", nargs="?", help="base URL of the running service")
    parser.add_argument("--stub", action="store_true", help="serve the test double instead of a real service")
    parser.add_argument("--out", type=Path, default=Path("/tmp/screens"))
    for name, question in DEFAULT_QUESTIONS.items():
        option = "--" + name.removeprefix("widget-") + "-question"
        parser.add_argument(option, dest=name.replace("-", "_"), default=question)
    args = parser.parse_args()
    if not args.url and not args.stub:
        parser.error("give the service's URL or --stub")
    args.out.mkdir(parents=True, exist_ok=True)
    server = _stub_server(args.out / ".stub") if args.stub else nullcontext(args.url.rstrip("/"))
    with server as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--headless"])
        for name in DEFAULT_QUESTIONS:
            widget_shot(browser, url, getattr(args, name.replace("-", "_")), args.out / f"{name}.png")
        widget_shot(browser, url, args.widget_answer, args.out / "widget-mobile.png", phone=True)
        helpdesk_shot(browser, url, args.widget_answer, args.out / "helpdesk.png")
        if token := os.environ.get("CUABOT_ACCESS__ADMIN_TOKEN"):
            admin_shot(browser, url, token, args.out / "admin.png")
        browser.close()
    print(f"screenshots in {args.out}")


if __name__ == "__main__":
    main()
