"""Feedback on answers: given by the widget and partners, exported as CSV by staff (personal data masked).

Each client has its own feedback budget (`admission.feedback_rate_limit`), apart from its questions';
the export is streamed from the store, never written to a file. While the store's database does not answer,
a feedback is refused (503, Retry-After, a French reason the widget shows), never accepted and lost.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import StreamingResponse

from bot.api.convert import to_feedback
from bot.api.deps import ADMIN_REFUSALS, AdminDep, FeedbackStoreDep, SettingsDep, client_address
from bot.api.ratelimit import QuestionBudget, RateLimited
from bot.api.schemas import ErrorResponse, FeedbackRequest, FeedbackResponse
from bot.stores.database import DatabaseUnavailable

FEEDBACK_RATE_LIMITED_MESSAGE = (
    "Vous avez envoyé beaucoup d'avis en peu de temps : patientez une minute avant de réessayer."
)
FEEDBACK_UNAVAILABLE_MESSAGE = "Votre avis n'a pas pu être enregistré pour le moment : réessayez dans quelques minutes."
FEEDBACK_REFUSALS: dict[int | str, dict[str, Any]] = {
    429: {"model": ErrorResponse, "description": "Trop d'avis depuis ce client (limite par minute)."},
    503: {"model": ErrorResponse, "description": "Base des retours injoignable : avis non enregistré, réessayer."},
}
CSV_EXPORT: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {}}, "description": "Les retours, en CSV (données personnelles masquées)."}
}

router = APIRouter(prefix="/api")


def spend_feedback_budget(request: Request) -> None:
    """One feedback off the client's budget, or 429 with Retry-After before the body reaches the store."""
    budget: QuestionBudget = request.app.state.feedback_budget
    try:
        budget.spend(client_address(request))
    except RateLimited as exc:
        headers = {"Retry-After": str(exc.retry_after_s)}
        raise HTTPException(429, FEEDBACK_RATE_LIMITED_MESSAGE, headers=headers) from None


FeedbackBudgetDep = Annotated[None, Depends(spend_feedback_budget)]


@router.post("/feedback", response_model=FeedbackResponse, responses=FEEDBACK_REFUSALS)
def feedback(
    request: FeedbackRequest, store: FeedbackStoreDep, settings: SettingsDep, _: FeedbackBudgetDep
) -> FeedbackResponse:
    try:
        return FeedbackResponse(id=store.add(to_feedback(request)))
    except DatabaseUnavailable:
        headers = {"Retry-After": str(settings.database.retry_after_s)}
        raise HTTPException(503, FEEDBACK_UNAVAILABLE_MESSAGE, headers=headers) from None


@router.get("/admin/feedback.csv", response_class=StreamingResponse, responses={**CSV_EXPORT, **ADMIN_REFUSALS})
def export_feedback(_: AdminDep, store: FeedbackStoreDep) -> StreamingResponse:
    """Feedback as CSV (personal data already masked, no cell a spreadsheet would run as a formula).
    Needs `Authorization: Bearer <admin token>`."""
    store.check()  # a 503 now rather than a cut download
    headers = {"Content-Disposition": 'attachment; filename="retours.csv"'}
    return StreamingResponse(store.csv_lines(), media_type="text/csv; charset=utf-8", headers=headers)
