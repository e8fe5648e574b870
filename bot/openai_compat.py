"""The assistant behind an OpenAI-compatible API (`/v1/models`, `/v1/chat/completions`).

Any OpenAI client (SDKs, chat front-ends, automation tools) can ask the CUA's documents. The
last user message is the question, earlier user and assistant turns the history; the client's
system messages are ignored (the assistant keeps its own rules). Questions are validated,
queued (bot/admission.py) and refused exactly as on `/api/ask`. The text carries its sources
as numbered footnotes, and the response (the last chunk when streaming) a structured `sources`
list.

Streaming sends the text once it is verified, in small pieces: the model's draft is not sent,
since verification may drop a sentence a client could not take back.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any, Literal

from fastapi import APIRouter, HTTPException
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.background import BackgroundTask

from bot.admission import Admission, Ticket, answer_events, answer_question
from bot.api import REFUSALS, AdmissionDep, PipelineDep, evidence_source, validate_question
from bot.auth import SettingsDep
from bot.display import answer_text
from bot.ratelimit import RateLimitDep
from bot.schemas import AskRequest, Source, Turn
from core.types import Answer, Outcome

log = logging.getLogger("cuabot.openai")

MODEL_ID = "cuabot"
OWNER = "Communauté Urbaine d'Arras"
_PIECE = re.compile(r"\S+\s*|\s+")
STREAM_ERROR = "Une erreur est survenue. Réessayez dans un instant ou adressez-vous à votre mairie."

router = APIRouter(prefix="/v1", tags=["compatibilité OpenAI"])


class ContentPart(BaseModel):
    model_config = ConfigDict(extra="ignore")
    type: str
    text: str = ""


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[ContentPart] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return " ".join(p.text for p in self.content if p.type == "text")
        return self.content or ""


class ChatCompletionRequest(BaseModel):
    """The OpenAI request; sampling options (temperature, max_tokens…) are accepted and ignored."""

    model_config = ConfigDict(extra="ignore")
    model: str = MODEL_ID
    messages: list[ChatMessage] = Field(min_length=1, max_length=50)
    stream: bool = False


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


class AssistantMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str


class ChatChoice(BaseModel):
    index: int = 0
    message: AssistantMessage
    finish_reason: Literal["stop"] = "stop"


class ChatCompletionResponse(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[ChatChoice]
    sources: list[Source] = Field(description="The passages behind the footnotes [n] of the text.")
    outcome: Literal["answer", "evidence_only", "refuse"]


class ChunkDelta(BaseModel):
    role: Literal["assistant"] | None = None
    content: str | None = None


class ChunkChoice(BaseModel):
    index: int = 0
    delta: ChunkDelta
    finish_reason: Literal["stop"] | None = None


class ChatCompletionChunk(BaseModel):
    id: str
    object: Literal["chat.completion.chunk"] = "chat.completion.chunk"
    created: int
    model: str
    choices: list[ChunkChoice]
    sources: list[Source] | None = Field(default=None, description="On the last chunk only.")
    outcome: Literal["answer", "evidence_only", "refuse"] | None = None


def footnoted_text(answer: Answer) -> str:
    """The answer as on /api/ask, followed by « Sources : » and one numbered line per cited passage."""
    text = answer_text(answer)
    if answer.outcome is Outcome.REFUSE or not answer.cited:
        return text
    notes = []
    for evidence in answer.cited:
        chunk = evidence.chunk
        where = f", p. {chunk.page}" if chunk.page else f", « {chunk.section} »" if chunk.section else ""
        notes.append(f"[{evidence.number}] {chunk.title}{where}")
    return text + "\n\nSources :\n" + "\n".join(notes)


def conversation(request: ChatCompletionRequest) -> tuple[str, list[Turn]]:
    """The last user message (the question) and the earlier user/assistant turns (the history)."""
    *earlier, last = request.messages
    if last.role != "user":
        raise_invalid("le dernier message doit être celui de l'utilisateur (role « user »).")
    history = [Turn(role=m.role, content=m.text()[:4000]) for m in earlier if m.role in ("user", "assistant")]
    return last.text(), history


def raise_invalid(reason: str) -> None:
    raise HTTPException(422, f"Requête invalide : {reason}")


@router.get("/models", response_model=ModelList)
def models() -> ModelList:
    return ModelList(data=[ModelCard(id=MODEL_ID, created=0, owned_by=OWNER)])


@router.post("/chat/completions", response_model=ChatCompletionResponse, responses=REFUSALS)
async def chat_completions(
    request: ChatCompletionRequest, pipe: PipelineDep, admission: AdmissionDep, settings: SettingsDep, _: RateLimitDep
) -> ChatCompletionResponse | StreamingResponse:
    """Ask the documents; with `stream: true`, Server-Sent Events as OpenAI sends them."""
    question, history = conversation(request)
    question = validate_question(AskRequest(question=question), settings)
    history = history[-settings.max_history_turns :]
    completion_id, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
    ticket = admission.admit()
    if request.stream:
        events = _stream(pipe, admission, ticket, question, history, (completion_id, created))
        return StreamingResponse(events, media_type="text/event-stream", background=BackgroundTask(ticket.release))
    try:
        answer = await answer_question(pipe, admission, question, history, None)
    finally:
        ticket.release()
    return ChatCompletionResponse(
        id=completion_id,
        created=created,
        model=MODEL_ID,
        choices=[ChatChoice(message=AssistantMessage(content=footnoted_text(answer)))],
        sources=[evidence_source(e) for e in answer.cited],
        outcome=answer.outcome.value,
    )


async def _stream(
    pipe: Any, admission: Admission, ticket: Ticket, question: str, history: list[Turn], ids: tuple[str, int]
) -> AsyncIterator[str]:
    completion_id, created = ids

    def chunk(delta: ChunkDelta, **extra: Any) -> str:
        finish = extra.pop("finish_reason", None)
        body = ChatCompletionChunk(
            id=completion_id,
            created=created,
            model=MODEL_ID,
            choices=[ChunkChoice(delta=delta, finish_reason=finish)],
            **extra,
        )
        return f"data: {body.model_dump_json(exclude_none=True)}\n\n"

    yield chunk(ChunkDelta(role="assistant", content=""))
    try:
        answer = None
        async for event in answer_events(pipe, admission, question, history, None):
            answer = event.answer or answer
    except Exception:
        log.exception("openai-compatible stream failed")
        error = {"error": {"message": STREAM_ERROR, "type": "server_error"}}
        yield f"data: {json.dumps(error, ensure_ascii=False)}\n\n"
        return
    finally:
        ticket.release()
    assert answer is not None
    for piece in _PIECE.findall(footnoted_text(answer)):
        yield chunk(ChunkDelta(content=piece))
    sources = [evidence_source(e) for e in answer.cited]
    yield chunk(ChunkDelta(), finish_reason="stop", sources=sources, outcome=answer.outcome.value)
    yield "data: [DONE]\n\n"
