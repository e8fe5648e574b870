"""Typed dependencies of the routes: what `create_api` put in `app.state`, and the permissions.

A route names what it needs in its signature (`service: ServiceDep`); the admin permission
is a dependency too, closed unless a token is configured.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Header, HTTPException, Request

from bot.answer.service import QuestionService
from bot.api.admission import Admission
from bot.api.ratelimit import QuestionBudget
from bot.api.schemas import ErrorResponse
from bot.stores.analytics import AnalyticsStore
from bot.stores.feedback import FeedbackStore
from core.settings import Settings

# What an asking route may answer instead of an answer, documented for partners (OpenAPI)
ASK_REFUSALS: dict[int | str, dict[str, Any]] = {
    429: {"model": ErrorResponse, "description": "Trop de questions depuis ce client (limite par minute)."},
    503: {
        "model": ErrorResponse,
        "description": "File d'attente du modèle pleine, ou recherche dans les documents momentanément indisponible "
        "(serveur Chroma injoignable) : réessayer après Retry-After.",
    },
}
# What an admin route answers without the right token
ADMIN_REFUSALS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorResponse, "description": "Jeton d'administration manquant ou invalide."},
    403: {"model": ErrorResponse, "description": "Administration désactivée : aucun jeton configuré."},
}


def from_state(name: str) -> Callable[[Request], Any]:
    """A dependency answering what `create_api` put in `app.state` under `name`."""

    def read(request: Request) -> Any:
        return getattr(request.app.state, name)

    return read


SettingsDep = Annotated[Settings, Depends(from_state("settings"))]
ServiceDep = Annotated[QuestionService, Depends(from_state("service"))]
AdmissionDep = Annotated[Admission, Depends(from_state("admission"))]
FeedbackStoreDep = Annotated[FeedbackStore, Depends(from_state("feedback_store"))]
# None while analytics are off and nothing was ever recorded
AnalyticsStoreDep = Annotated[AnalyticsStore | None, Depends(from_state("analytics_store"))]


def client_address(request: Request) -> str:
    return request.client.host if request.client else "inconnu"


def spend_question_budget(request: Request) -> None:
    """One question off the client's budget, or 429 (RateLimited) before any work."""
    budget: QuestionBudget = request.app.state.question_budget
    budget.spend(client_address(request))


RateLimitDep = Annotated[None, Depends(spend_question_budget)]


def admin_refusal(settings: Settings, authorization: str | None) -> HTTPException | None:
    """Closed (403) unless CUABOT_ACCESS__ADMIN_TOKEN is set; then the bearer token must match (constant time).

    None when the request may pass. Read by `require_admin` and, before any body is read, by bot/api/admin_gate.py.
    """
    if not settings.access.admin_token:
        return HTTPException(403, "Action d'administration désactivée : définissez CUABOT_ACCESS__ADMIN_TOKEN.")
    presented = (authorization or "").encode()
    if not hmac.compare_digest(presented, f"Bearer {settings.access.admin_token}".encode()):
        return HTTPException(401, "Jeton d'administration manquant ou invalide.")
    return None


def require_admin(settings: SettingsDep, authorization: Annotated[str | None, Header()] = None) -> None:
    if refusal := admin_refusal(settings, authorization):
        raise refusal


# In a route's signature (`_: AdminDep`); a router of admin routes declares `dependencies=[Depends(require_admin)]`
AdminDep = Annotated[None, Depends(require_admin)]
