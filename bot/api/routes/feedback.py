"""Feedback on answers: given by the widget and partners, exported as CSV by staff (personal data masked)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import FileResponse

from bot.api.convert import to_feedback
from bot.api.deps import ADMIN_REFUSALS, AdminDep, FeedbackStoreDep, SettingsDep
from bot.api.schemas import FeedbackRequest, FeedbackResponse

router = APIRouter(prefix="/api")


@router.post("/feedback", response_model=FeedbackResponse)
def feedback(request: FeedbackRequest, store: FeedbackStoreDep) -> FeedbackResponse:
    return FeedbackResponse(id=store.add(to_feedback(request)))


@router.get("/admin/feedback.csv", response_class=FileResponse, responses=ADMIN_REFUSALS)
def export_feedback(_: AdminDep, store: FeedbackStoreDep, settings: SettingsDep) -> FileResponse:
    """Feedback as CSV (personal data already masked). Needs `Authorization: Bearer <admin token>`."""
    dest = settings.feedback_db.with_suffix(".export.csv")
    store.export_csv(dest)
    return FileResponse(dest, media_type="text/csv", filename="retours.csv")
