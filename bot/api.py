"""FastAPI routes of the public API. Thin: validation here, answering in the pipeline."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from sse_starlette.sse import EventSourceResponse
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from bot.admission import BUSY_MESSAGE, Admission, QueueFull, Ticket, answer_events, answer_question
from bot.analytics import with_analytics
from bot.auth import ADMIN_REFUSALS, require_admin
from bot.display import answer_text
from bot.feedback import open_store
from bot.generation import generator_problem
from bot.pipeline import Pipeline
from bot.ratelimit import RATE_LIMITED_MESSAGE, QuestionBudget, RateLimitDep, RateLimited
from bot.schemas import (
    AnswerSentencePublic,
    AskRequest,
    AskResponse,
    DocumentSummary,
    ErrorResponse,
    EvidenceEvent,
    EvidenceQuote,
    FeedbackRequest,
    FeedbackResponse,
    HealthResponse,
    RetrievedPassage,
    Source,
)
from core.privacy import install_log_masking
from core.settings import Settings
from core.types import Answer, Evidence, Outcome, Passage

log = logging.getLogger("cuabot.api")


def get_pipeline(request: Request) -> Pipeline:
    pipeline: Pipeline = request.app.state.pipeline
    return pipeline


PipelineDep = Annotated[Pipeline, Depends(get_pipeline)]


def get_admission(request: Request) -> Admission:
    admission: Admission = request.app.state.admission
    return admission


AdmissionDep = Annotated[Admission, Depends(get_admission)]

# What the ask routes may answer instead of an answer, documented for partners (OpenAPI)
REFUSALS: dict[int | str, dict[str, Any]] = {
    429: {"model": ErrorResponse, "description": "Trop de questions depuis ce client (limite par minute)."},
    503: {"model": ErrorResponse, "description": "File d'attente du modèle pleine : réessayer après Retry-After."},
}


# FastAPI's and Starlette's own refusals, in English, as residents and partners read them
FRAMEWORK_ERRORS_FR = {
    "There was an error parsing the body": "Requête illisible : envoyez un JSON encodé en UTF-8.",
    "Not Found": "Adresse inconnue.",
    "Method Not Allowed": "Méthode non autorisée pour cette adresse.",
}


def passage_to_source(passage: Passage) -> RetrievedPassage:
    chunk = passage.chunk
    return RetrievedPassage(
        id=passage.rank,
        rank=passage.rank,
        cited=passage.cited,
        document=chunk.doc_id,
        title=chunk.title,
        page=chunk.page,
        section=chunk.section,
        excerpt=chunk.text,
        score=round(passage.score, 4),
    )


def evidence_quote(evidence: Evidence) -> EvidenceQuote:
    chunk = evidence.chunk
    return EvidenceQuote(
        id=evidence.number,
        text=" ".join(evidence.sentence.context.split()),
        sentence_id=evidence.sentence.sentence_id,
        document=chunk.doc_id,
        title=chunk.title,
        page=chunk.page,
        section=chunk.section,
        score=round(evidence.score, 4),
    )


def evidence_source(evidence: Evidence) -> Source:
    """The passage holding a quoted sentence, numbered like the quote."""
    chunk = evidence.chunk
    return Source(
        id=evidence.number,
        document=chunk.doc_id,
        title=chunk.title,
        page=chunk.page,
        section=chunk.section,
        excerpt=chunk.text,
        score=round(evidence.dense_score, 4),
    )


def to_response(answer: Answer) -> AskResponse:
    return AskResponse(
        answer=answer_text(answer),
        refused=answer.refused,
        sources=[evidence_source(e) for e in answer.cited],
        timings={k: round(v, 3) for k, v in answer.timings.items()},
        fallback=answer.outcome is Outcome.EVIDENCE_ONLY,
        outcome=answer.outcome.value,
        reason=answer.reason,
        answer_sentences=[AnswerSentencePublic(text=s.text, citations=s.citations) for s in answer.sentences],
        evidence=[evidence_quote(e) for e in answer.cited],
    )


def validate_question(request: AskRequest, settings: Settings) -> str:
    """The cleaned question, or a 422 with a French reason."""
    question = request.question.strip()
    if not question:
        raise HTTPException(422, "La question est vide : écrivez votre question en quelques mots.")
    if len(question) > settings.max_question_chars:
        raise HTTPException(
            422, f"La question est trop longue ({len(question)} caractères, maximum {settings.max_question_chars})."
        )
    if not any(c.isalpha() for c in question):
        raise HTTPException(422, "La question doit contenir des mots.")
    return question


def create_api(pipeline: Pipeline, settings: Settings) -> FastAPI:
    install_log_masking()
    app = FastAPI(
        title="Assistant documentaire de la CUA",
        description="Réponses sourcées à partir des documents de la Communauté Urbaine d'Arras.",
        version="0.1.0",
        responses={
            400: {"model": ErrorResponse, "description": "Corps de requête illisible (JSON ou encodage)."},
            422: {"model": ErrorResponse, "description": "Requête invalide, expliquée en français."},
        },
    )
    app.add_middleware(
        CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["GET", "POST"], allow_headers=["*"]
    )
    feedback_store = open_store(settings)
    app.state.pipeline = with_analytics(pipeline, settings)
    app.state.settings = settings
    app.state.feedback = feedback_store
    app.state.admission = Admission(settings)
    app.state.question_budget = QuestionBudget(settings.ask_rate_limit)

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
        fields = ", ".join(".".join(str(p) for p in e["loc"][1:]) or "corps" for e in exc.errors())
        return JSONResponse(
            status_code=422,
            content={"detail": f"Requête invalide ({fields}) : envoyez un JSON avec une question en texte."},
        )

    @app.post("/api/ask", response_model=AskResponse, responses=REFUSALS)
    async def ask(body: AskRequest, pipe: PipelineDep, admission: AdmissionDep, _: RateLimitDep) -> AskResponse:
        question = validate_question(body, settings)
        history = body.history[-settings.max_history_turns :]
        ticket = admission.admit()
        try:
            return to_response(await answer_question(pipe, admission, question, history, body.documents))
        finally:
            ticket.release()

    @app.post("/api/ask/stream", responses=REFUSALS)
    async def ask_stream(
        body: AskRequest, pipe: PipelineDep, admission: AdmissionDep, _: RateLimitDep
    ) -> EventSourceResponse:
        question = validate_question(body, settings)
        history = body.history[-settings.max_history_turns :]
        ticket = admission.admit()
        events = _events(pipe, admission, ticket, question, history, body.documents)
        return EventSourceResponse(events, background=BackgroundTask(ticket.release))

    @app.get("/api/health", response_model=HealthResponse)
    async def health(pipe: PipelineDep) -> HealthResponse:
        """On the event loop, never behind the model's queue; degraded while a remote model is unreachable."""
        problem = await run_in_threadpool(generator_problem, pipe.generator)
        return HealthResponse(
            status="degraded" if problem else "ok",
            model_loaded=pipe.generator is not None,
            index_loaded=bool(pipe.reader.chunks),
            documents=len(pipe.reader.documents),
            chunks=len(pipe.reader.chunks),
            embedder=pipe.embedder.name,
            generator=pipe.generator.name,
            reason=problem,
        )

    @app.get("/api/documents", response_model=list[DocumentSummary])
    def documents(pipe: PipelineDep) -> list[DocumentSummary]:
        return pipe.documents()

    @app.post("/api/feedback", response_model=FeedbackResponse)
    def feedback(request: FeedbackRequest) -> FeedbackResponse:
        return FeedbackResponse(id=feedback_store.add(request))

    @app.get(
        "/api/admin/feedback.csv",
        response_class=FileResponse,
        dependencies=[Depends(require_admin)],
        responses=ADMIN_REFUSALS,
    )
    def export_feedback() -> FileResponse:
        """Feedback as CSV (personal data already masked). Needs `Authorization: Bearer <admin token>`."""
        dest = settings.feedback_db.with_suffix(".export.csv")
        feedback_store.export_csv(dest)
        return FileResponse(dest, media_type="text/csv", filename="retours.csv")

    from bot import openai_compat, staff  # here: both routers reuse this module's helpers

    app.include_router(staff.router)
    app.include_router(openai_compat.router)
    app.mount("/admin", StaticFiles(directory=staff.ADMIN_PAGE_DIR, html=True), name="admin")
    return app


async def _events(
    pipe: Pipeline, admission: Admission, ticket: Ticket, question: str, history: list[Any], documents: list[str] | None
) -> AsyncIterator[dict[str, str]]:
    try:
        async for event in answer_events(pipe, admission, question, history, documents):
            if event.kind == "evidence":
                payload = EvidenceEvent(
                    evidence=[evidence_quote(e) for e in event.evidence],
                    passages=[passage_to_source(p) for p in event.passages],
                )
                yield {"event": "evidence", "data": payload.model_dump_json()}
            elif event.kind == "token":
                yield {"event": "token", "data": json.dumps({"text": event.text}, ensure_ascii=False)}
            elif event.answer is not None:
                yield {"event": "done", "data": to_response(event.answer).model_dump_json()}
    except Exception:
        log.exception("stream failed")
        message = "Une erreur est survenue. Réessayez dans un instant ou adressez-vous à votre mairie."
        yield {"event": "error", "data": json.dumps({"message": message}, ensure_ascii=False)}
    finally:
        ticket.release()
