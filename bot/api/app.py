"""The HTTP API: `create_api` puts the service and what the routes share in `app.state`, then the routes.

The routes (bot/api/routes/, one module per surface) read that state through the typed
dependencies of bot/api/deps.py. The service counts every finished question once for statistics (bot/api/statistics.py)
and for the metrics (bot/api/routes/metrics.py):
every surface that asks, the helpdesk included (ui/app.py), asks through `app.state.service`,
with `app.state.admission` and `app.state.question_budget`. The OpenAPI title and the staff page
name the authority of the settings (`settings.authority`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from bot.answer.service import QuestionService
from bot.api.admin_gate import AdminGate
from bot.api.admission import BUSY_MESSAGE, Admission, QueueFull
from bot.api.body_limit import BodyLimit
from bot.api.display import STORE_UNAVAILABLE_MESSAGE, api_description, api_title
from bot.api.docs_page import serve_docs
from bot.api.metrics import SurfaceLabel
from bot.api.pages import authority_page, serve_page
from bot.api.ratelimit import RATE_LIMITED_MESSAGE, QuestionBudget, RateLimited
from bot.api.request_id import RequestId
from bot.api.routes import ask, feedback, health, metrics, openai, staff
from bot.api.schemas import ErrorResponse
from bot.api.security_headers import SecurityHeaders
from bot.api.statistics import AnswerCounter
from bot.stores import analytics as analytics_store
from bot.stores import feedback as feedback_store
from bot.stores.database import DatabaseUnavailable
from core.privacy import install_log_masking
from core.settings import Settings
from ingest.store import StoreUnavailable

log = logging.getLogger("cuabot.api")

# What staff read while the database of the feedback and analytics does not answer (bot/stores/database.py)
DATABASE_UNAVAILABLE_MESSAGE = (
    "Les retours et les statistiques sont momentanément indisponibles (base de données injoignable) :"
    " réessayez dans quelques minutes."
)
# FastAPI's and Starlette's own refusals, in English, as residents and partners read them
FRAMEWORK_ERRORS_FR = {
    "There was an error parsing the body": "Requête illisible : envoyez un JSON encodé en UTF-8.",
    "Not Found": "Adresse inconnue.",
    "Method Not Allowed": "Méthode non autorisée pour cette adresse.",
}


def create_api(service: QuestionService, settings: Settings) -> FastAPI:
    install_log_masking()
    app = FastAPI(
        title=api_title(settings.authority),
        description=api_description(settings.authority),
        version="0.1.0",
        docs_url=None,  # FastAPI's pages load Swagger UI and ReDoc from a CDN: bot/api/docs_page.py serves it
        redoc_url=None,
        responses={
            400: {"model": ErrorResponse, "description": "Corps de requête illisible (JSON ou encodage)."},
            413: {"model": ErrorResponse, "description": "Corps de requête trop volumineux, refusé avant d'être lu."},
            422: {"model": ErrorResponse, "description": "Requête invalide, expliquée en français."},
        },
    )
    app.add_middleware(
        CORSMiddleware, allow_origins=settings.api.cors_origins, allow_methods=["GET", "POST"], allow_headers=["*"]
    )
    _protect(app, settings)
    # Analytics are read while a store exists, written only while enabled
    recorded = settings.privacy.analytics_enabled or analytics_store.recorded(settings)
    analytics = analytics_store.open_store(settings) if recorded else None
    app.state.settings = settings
    if analytics is not None and settings.privacy.analytics_enabled:
        service.listeners.append(AnswerCounter(service, analytics))
    if metrics.count_question not in service.listeners:  # one service may serve several applications
        service.listeners.append(metrics.count_question)
    service.watch_index()  # a re-index by another worker is answered from even while the queue is full
    app.state.service = service
    app.state.admission = Admission(settings)
    app.state.question_budget = QuestionBudget(settings.admission.rate_limit)
    app.state.feedback_budget = QuestionBudget(settings.admission.feedback_rate_limit)
    app.state.feedback_store = feedback_store.open_store(settings)
    app.state.analytics_store = analytics
    app.state.reindex_job = staff.ReindexJob()
    _answer_refusals_in_french(app, settings)
    for module in (ask, openai, health, feedback, staff, metrics):
        app.include_router(module.router)
    # The staff page names the authority; its scripts and styles are static
    admin_page = authority_page(staff.ADMIN_PAGE_DIR / "index.html", settings.authority)
    serve_page(app, ["/admin/", "/admin/index.html"], admin_page)
    app.mount("/admin", StaticFiles(directory=staff.ADMIN_PAGE_DIR, html=True), name="admin")
    serve_docs(app)
    return app


def _protect(app: FastAPI, settings: Settings) -> None:
    """The middlewares of docs/operations.md#security, outermost last: each refusal carries the security headers,
    and every check sees the client's address as the trusted proxies give it (none trusted by default)."""
    app.add_middleware(AdminGate, settings=settings)
    app.add_middleware(BodyLimit, settings=settings)
    if settings.security.trusted_proxies:
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.security.trusted_proxies)
    app.add_middleware(SurfaceLabel)
    app.add_middleware(RequestId)  # its id on every response, the refusals above included
    app.add_middleware(SecurityHeaders, settings=settings)


def _answer_refusals_in_french(app: FastAPI, settings: Settings) -> None:
    @app.exception_handler(StoreUnavailable)
    async def store_unavailable(_: Request, exc: StoreUnavailable) -> JSONResponse:
        log.warning("vector store unreachable, question refused (503): %s", exc)
        headers = {"Retry-After": str(settings.store.unavailable_retry_after_s)}
        return JSONResponse(status_code=503, content={"detail": STORE_UNAVAILABLE_MESSAGE}, headers=headers)

    @app.exception_handler(DatabaseUnavailable)
    async def database_unavailable(_: Request, exc: DatabaseUnavailable) -> JSONResponse:
        log.warning("feedback and analytics database unreachable, request refused (503): %s", exc)
        headers = {"Retry-After": str(settings.database.retry_after_s)}
        return JSONResponse(status_code=503, content={"detail": DATABASE_UNAVAILABLE_MESSAGE}, headers=headers)

    @app.exception_handler(QueueFull)
    async def queue_full(_: Request, exc: QueueFull) -> JSONResponse:
        headers = {"Retry-After": str(exc.retry_after_s)}
        return JSONResponse(status_code=503, content={"detail": BUSY_MESSAGE}, headers=headers)

    @app.exception_handler(RateLimited)
    async def rate_limited(_: Request, exc: RateLimited) -> JSONResponse:
        headers = {"Retry-After": str(exc.retry_after_s)}
        return JSONResponse(status_code=429, content={"detail": RATE_LIMITED_MESSAGE}, headers=headers)

    @app.exception_handler(StarletteHTTPException)
    async def french_http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = FRAMEWORK_ERRORS_FR.get(exc.detail, exc.detail)
        return JSONResponse(status_code=exc.status_code, content={"detail": detail}, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def french_validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(status_code=422, content={"detail": _validation_detail(exc.errors())})


def _validation_detail(errors: Sequence[Any]) -> str:
    """Which fields are wrong, in French; for a value outside a closed list (a feedback reason), the accepted ones."""
    fields = ", ".join(".".join(str(p) for p in e["loc"][1:]) or "corps" for e in errors)
    choices = [e["ctx"]["expected"] for e in errors if e["type"] in ("enum", "literal_error") and "ctx" in e]
    if choices:
        accepted = choices[0].replace(" or ", " ou ")
        return f"Requête invalide ({fields}) : valeur inconnue, valeurs acceptées : {accepted}."
    return f"Requête invalide ({fields}) : envoyez un JSON avec une question en texte."
