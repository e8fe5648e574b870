"""The whole web application: the public API, the widget and its demo page, the helpdesk.

`bot/` never imports `ui/`; this module puts them together. The helpdesk is built from the API
application's own state: the same (counted) service, model queue, question budget and feedback store.
"""

from __future__ import annotations

import logging
from pathlib import Path

import gradio as gr
from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from bot.answer.service import QuestionService
from bot.api.app import create_api
from core.settings import Settings
from ui.helpdesk import build_helpdesk, helpdesk_theme

log = logging.getLogger("cuabot.ui")

WIDGET_DIR = Path(__file__).resolve().parent / "widget"
DEMO_PAGE = WIDGET_DIR / "index.html"
WIDGET_PATH = "/widget"
HELPDESK_PATH = "/helpdesk"


def _serve_demo_page(app: FastAPI) -> None:
    @app.get("/", include_in_schema=False)
    def demo_page() -> FileResponse:
        return FileResponse(DEMO_PAGE, media_type="text/html; charset=utf-8")


def create_app(service: QuestionService, settings: Settings) -> FastAPI:
    """API routes, `/` (demo page), `/widget` (static widget) and `/helpdesk` (Gradio)."""
    app = create_api(service, settings)
    app.mount(WIDGET_PATH, StaticFiles(directory=WIDGET_DIR), name="widget")
    _serve_demo_page(app)
    state = app.state
    helpdesk = build_helpdesk(state.service, state.admission, state.question_budget, state.feedback_store, settings)
    return gr.mount_gradio_app(
        app,
        helpdesk,
        path=HELPDESK_PATH,
        footer_links=[],
        ssr_mode=False,
        theme=helpdesk_theme(),
        auth=_helpdesk_auth(settings),
        auth_message="Espace conseillers : identifiez-vous.",
    )


def _helpdesk_auth(settings: Settings) -> tuple[str, str] | None:
    """Staff only when CUABOT_HELPDESK_PASSWORD is set; open (local use) otherwise, with a warning."""
    if settings.helpdesk_password:
        return (settings.helpdesk_user, settings.helpdesk_password)
    log.warning("Espace conseillers sans mot de passe : définissez CUABOT_HELPDESK_PASSWORD avant de l'exposer.")
    return None
