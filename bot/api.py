"""FastAPI routes of the public API. Thin: validation here, answering in the pipeline."""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, JSONResponse
from sse_starlette.sse import EventSourceResponse

from bot.feedback import FeedbackStore
from bot.pipeline import Pipeline
from bot.display import answer_text
from bot.schemas import (
    AnswerSentencePublic,
    AskRequest,
    AskResponse,
    DocumentSummary,
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


def require_admin(authorization: str | None, settings: Settings) -> None:
    """Admin routes are closed unless CUABOT_ADMIN_TOKEN is set and presented as a bearer token."""
    if not settings.admin_token:
        raise HTTPException(403, "Action d'administration désactivée : définissez CUABOT_ADMIN_TOKEN.")
    expected = f"Bearer {settings.admin_token}"
    if authorization is None or not hmac.compare_digest(authorization, expected):
        raise HTTPException(401, "Jeton d'administration manquant ou invalide.")


def create_api(pipeline: Pipeline, settings: Settings) -> FastAPI:
    install_log_masking()
    app = FastAPI(
        title="Assistant documentaire de la CUA",
        description="Réponses sourcées à partir des documents de la Communauté Urbaine d'Arras.",
        version="0.1.0",
    )
    app.add_middleware(
        CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["GET", "POST"], allow_headers=["*"]
    )
    feedback_store = FeedbackStore(settings.feedback_db, settings.store_questions)
    app.state.pipeline = pipeline
    app.state.feedback = feedback_store

    @app.exception_handler(RequestValidationError)
    async def french_validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        fields = ", ".join(".".join(str(p) for p in e["loc"][1:]) or "corps" for e in exc.errors())
        return JSONResponse(
            status_code=422,
            content={"detail": f"Requête invalide ({fields}) : envoyez un JSON avec une question en texte."},
        )

    @app.post("/api/ask", response_model=AskResponse)
    def ask(request: AskRequest, pipe: PipelineDep) -> AskResponse:
        question = validate_question(request, settings)
        history = request.history[-settings.max_history_turns :]
        return to_response(pipe.ask(question, history, request.documents))

    @app.post("/api/ask/stream")
    def ask_stream(request: AskRequest, pipe: PipelineDep) -> EventSourceResponse:
        question = validate_question(request, settings)
        history = request.history[-settings.max_history_turns :]
        return EventSourceResponse(_events(pipe, question, history, request.documents))

    @app.get("/api/health", response_model=HealthResponse)
    def health(pipe: PipelineDep) -> HealthResponse:
        return HealthResponse(
            status="ok",
            model_loaded=pipe.generator is not None,
            index_loaded=bool(pipe.reader.chunks),
            documents=len(pipe.reader.documents),
            chunks=len(pipe.reader.chunks),
            embedder=pipe.embedder.name,
            generator=pipe.generator.name,
        )

    @app.get("/api/documents", response_model=list[DocumentSummary])
    def documents(pipe: PipelineDep) -> list[DocumentSummary]:
        return pipe.documents()

    @app.post("/api/feedback", response_model=FeedbackResponse)
    def feedback(request: FeedbackRequest) -> FeedbackResponse:
        return FeedbackResponse(id=feedback_store.add(request))

    @app.get("/api/admin/feedback.csv", response_class=FileResponse)
    def export_feedback(authorization: Annotated[str | None, Header()] = None) -> FileResponse:
        """Feedback as CSV (personal data already masked). Needs `Authorization: Bearer <admin token>`."""
        require_admin(authorization, settings)
        dest = settings.feedback_db.with_suffix(".export.csv")
        feedback_store.export_csv(dest)
        return FileResponse(dest, media_type="text/csv", filename="retours.csv")

    return app


def _events(pipe: Pipeline, question: str, history: list[Any], documents: list[str] | None) -> Iterator[dict[str, str]]:
    try:
        for event in pipe.stream(question, history, documents):
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
