"""What the service is and holds: its health, its documents, and the settings the widget reads."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from bot.answer.generation import generator_problem
from bot.api.admission import BUSY_MESSAGE
from bot.api.convert import document_summary
from bot.api.deps import ServiceDep, SettingsDep
from bot.api.display import EVIDENCE_LEAD, assistant_title, widget_intro
from bot.api.ratelimit import RATE_LIMITED_MESSAGE
from bot.api.schemas import (
    MAX_FEEDBACK_ANSWER_CHARS,
    MAX_FEEDBACK_QUESTION_CHARS,
    MAX_TURN_CHARS,
    DocumentSummary,
    HealthResponse,
    WidgetConfig,
)
from core.authority import authority_name
from ingest.store import store_problem

router = APIRouter(prefix="/api")


@router.get("/health", response_model=HealthResponse)
async def health(service: ServiceDep, settings: SettingsDep) -> HealthResponse:
    """On the event loop, never behind the model's queue; degraded while a remote model or the Chroma server
    holding the index is unreachable (the reason names which)."""
    problems = [
        await run_in_threadpool(generator_problem, service.generator),
        await run_in_threadpool(store_problem, service.reader.store, settings.store.health_timeout_s),
    ]
    problem = " ; ".join(p for p in problems if p) or None
    return HealthResponse(
        status="degraded" if problem else "ok",
        model_loaded=service.generator is not None,
        index_loaded=bool(service.reader.chunks),
        documents=len(service.reader.documents),
        chunks=len(service.reader.chunks),
        embedder=service.embedder.name,
        generator=service.generator.name,
        reason=problem,
    )


@router.get("/documents", response_model=list[DocumentSummary])
def documents(service: ServiceDep) -> list[DocumentSummary]:
    return [document_summary(d) for d in service.documents()]


@router.get("/config", response_model=WidgetConfig)
def config(settings: SettingsDep) -> WidgetConfig:
    """The texts the widget shows itself (naming the authority), and the limits it applies before sending."""
    authority = settings.authority
    return WidgetConfig(
        authority=authority_name(authority),
        title=assistant_title(authority),
        intro=widget_intro(authority),
        evidence_lead=EVIDENCE_LEAD,
        busy_message=BUSY_MESSAGE,
        rate_limited_message=RATE_LIMITED_MESSAGE,
        max_question_chars=settings.api.max_question_chars,
        max_history_turns=settings.api.max_history_turns,
        max_turn_chars=MAX_TURN_CHARS,
        max_feedback_question_chars=MAX_FEEDBACK_QUESTION_CHARS,
        max_feedback_answer_chars=MAX_FEEDBACK_ANSWER_CHARS,
    )
