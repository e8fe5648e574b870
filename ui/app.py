"""The whole web application: the public API, the widget and its demo page, the helpdesk.

`bot/` never imports `ui/`; this module puts them together. The helpdesk is built from the API
application's own state: the same (counted) service, model queue, question budget and feedback store.
The demo page names the authority of the settings, filled in when the application is built.
"""

from __future__ import annotations

import logging
from pathlib import Path

import gradio as gr
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from bot.answer.service import QuestionService
from bot.api.app import create_api
from bot.api.pages import authority_page, serve_page
from core.settings import Settings
from ui.helpdesk import build_helpdesk, helpdesk_theme

log = logging.getLogger("cuabot.ui")

WIDGET_DIR = Path(__file__).resolve().parent / "widget"
DEMO_PAGE = WIDGET_DIR / "index.html"
WIDGET_PATH = "/widget"
HELPDESK_PATH = "/helpdesk"


def create_app(service: QuestionService, settings: Settings) -> FastAPI:
    """API routes, `/` (demo page), `/widget` (static widget) and `/helpdesk` (Gradio)."""
    app = create_api(service, settings)
    serve_page(app, ["/", f"{WIDGET_PATH}/index.html"], authority_page(DEMO_PAGE, settings.authority))
    app.mount(WIDGET_PATH, StaticFiles(directory=WIDGET_DIR), name="widget")
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
    """Staff only when CUABOT_ACCESS__HELPDESK_PASSWORD is set; open (local use) otherwise, with a warning."""
    if settings.access.helpdesk_password:
        return (settings.access.helpdesk_user, settings.access.helpdesk_password)
    log.warning(
        "Espace conseillers sans mot de passe : définissez CUABOT_ACCESS__HELPDESK_PASSWORD avant de l'exposer."
    )
    return None
