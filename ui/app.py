"""The whole web application: the public API, the widget and its demo page, the helpdesk.

`bot/` never imports `ui/`; this module puts them together. The helpdesk is built from the API
application's own state: the same (counted) service, model queue, question budget and feedback store.
It is built on its first visit, not with the application, so that a service whose helpdesk is never
opened never imports Gradio (~130 MiB). The demo page names the authority of the settings, filled in
when the application is built.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Receive, Scope, Send

from bot.answer.service import QuestionService
from bot.api.app import create_api
from bot.api.pages import authority_page, serve_page
from core.settings import Settings
from ui.helpdesk_guard import HelpdeskGuard

log = logging.getLogger("cuabot.ui")

WIDGET_DIR = Path(__file__).resolve().parent / "widget"
DEMO_PAGE = WIDGET_DIR / "index.html"
WIDGET_PATH = "/widget"
HELPDESK_PATH = "/helpdesk"

Lifespan = Callable[[Any], AbstractAsyncContextManager[Any]]
# uvicorn's options for `cuabot serve`: uvicorn believes X-Forwarded-For from loopback by default, so anything on
# the host could choose its address; the application believes only CUABOT_SECURITY__TRUSTED_PROXIES (bot/api/app.py)
SERVER_OPTIONS: dict[str, Any] = {"proxy_headers": False}


def create_app(service: QuestionService, settings: Settings) -> FastAPI:
    """API routes, `/` (demo page), `/widget` (static widget) and `/helpdesk` (Gradio, built on its first visit)."""
    app = create_api(service, settings)
    serve_page(app, ["/", f"{WIDGET_PATH}/index.html"], authority_page(DEMO_PAGE, settings.authority))
    app.mount(WIDGET_PATH, StaticFiles(directory=WIDGET_DIR), name="widget")
    helpdesk = LazyHelpdesk(app, _helpdesk_auth(settings))
    app.router.lifespan_context = helpdesk.running_with(app.router.lifespan_context)
    app.add_middleware(helpdesk.mount_on_first_visit)
    # Innermost: behind the security headers and the trusted proxies' client address (bot/api/app.py)
    app.user_middleware.append(Middleware(HelpdeskGuard, settings=settings))
    return app


class LazyHelpdesk:
    """The helpdesk, mounted on `app` by its first request and run while `app` runs.

    `gr.mount_gradio_app` starts Gradio (among others its queue, without which no question is answered)
    in the lifespan of the application it mounts on. By the first visit that lifespan has begun, so
    Gradio's start is entered here, in a stack that the application's lifespan closes when it stops.
    """

    def __init__(self, app: FastAPI, auth: tuple[str, str] | None) -> None:
        self._app = app
        self._auth = auth
        self._lock = anyio.Lock()
        self._start: Lifespan | None = None  # Gradio's start, once the helpdesk is mounted
        self._running: AsyncExitStack | None = None  # while the application runs

    def running_with(self, lifespan: Lifespan) -> Lifespan:
        """The application's `lifespan`, which also stops the helpdesk, and starts one mounted in an earlier run."""

        @asynccontextmanager
        async def run(app: Any) -> AsyncIterator[Any]:
            async with lifespan(app) as state, AsyncExitStack() as running:
                if self._start is not None:
                    await running.enter_async_context(self._start(app))
                self._running = running
                try:
                    yield state
                finally:
                    self._running = None

        return run

    def mount_on_first_visit(self, app: ASGIApp) -> ASGIApp:
        """ASGI middleware: the helpdesk is mounted before its first request reaches the routes."""

        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if self._start is None and scope["type"] != "lifespan" and _is_helpdesk(scope):
                await self._mount_once()
            await app(scope, receive, send)

        return middleware

    async def _mount_once(self) -> None:
        async with self._lock:  # simultaneous first visits: one build
            if self._start is not None:
                return
            log.info("Espace conseillers : chargement à la première visite.")
            start = await anyio.to_thread.run_sync(self._mount)  # seconds, during which the API still answers
            if self._running is not None:  # no lifespan (a test client outside `with`): Gradio is not started
                await self._running.enter_async_context(start(self._app))
            self._start = start

    def _mount(self) -> Lifespan:
        """Mounts the helpdesk with `gr.mount_gradio_app`, and returns Gradio's start.

        `gr.mount_gradio_app` wraps Gradio's start around the application's lifespan: it is given an empty
        one to wrap meanwhile, so that the start comes back alone, and the application's is put back.
        """
        import gradio as gr

        from ui.helpdesk import build_helpdesk, helpdesk_theme

        state = self._app.state
        helpdesk = build_helpdesk(
            state.service, state.admission, state.question_budget, state.feedback_store, state.settings
        )
        router = self._app.router
        lifespan = router.lifespan_context
        router.lifespan_context = _nothing
        try:
            gr.mount_gradio_app(
                self._app,
                helpdesk,
                path=HELPDESK_PATH,
                footer_links=[],
                ssr_mode=False,
                theme=helpdesk_theme(),
                auth=self._auth,
                auth_message="Espace conseillers : identifiez-vous.",
            )
            return router.lifespan_context
        finally:
            router.lifespan_context = lifespan


@asynccontextmanager
async def _nothing(_: Any) -> AsyncIterator[None]:
    yield


def _is_helpdesk(scope: Scope) -> bool:
    path: str = scope["path"].removeprefix(scope.get("root_path", ""))
    return path == HELPDESK_PATH or path.startswith(f"{HELPDESK_PATH}/")


def _helpdesk_auth(settings: Settings) -> tuple[str, str] | None:
    """Staff only when CUABOT_ACCESS__HELPDESK_PASSWORD is set; open (local use) otherwise, with a warning."""
    if settings.access.helpdesk_password:
        return (settings.access.helpdesk_user, settings.access.helpdesk_password)
    log.warning(
        "Espace conseillers sans mot de passe : définissez CUABOT_ACCESS__HELPDESK_PASSWORD avant de l'exposer."
    )
    return None
