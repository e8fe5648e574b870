"""The assistant behind an OpenAI-compatible API (`/v1/models`, `/v1/chat/completions`).

Any OpenAI client (SDKs, chat front-ends, automation tools) can ask the authority's documents. The
last user message is the question, earlier user and assistant turns the history; the client's
system messages are ignored (the assistant keeps its own rules). Questions are validated,
budgeted, queued and refused exactly as on `/api/ask`. The text carries its sources as numbered
footnotes, and the response (the last chunk when streaming) a structured `sources` list.

Streaming sends each of the model's sentences once verification kept it (the service's `sentence` events), then the
rest of the answer's text: the model's draft is not sent, since verification may drop a sentence a client could not
take back. Should the answer be the evidence alone after sentences were sent (the model ran past its time), its text
follows them after a blank line.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import AsyncIterator

from fastapi import APIRouter
from fastapi.responses import StreamingResponse
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from bot.answer.service import StreamEvent
from bot.api.admission import Ticket
from bot.api.convert import conversation, to_chat_chunk, to_chat_completion
from bot.api.deps import ASK_REFUSALS, AdmissionDep, RateLimitDep, ServiceDep, SettingsDep
from bot.api.display import answer_with_sources, phrased, stream_error_message
from bot.api.schemas import (
    MODEL_ID,
    ChatCompletionRequest,
    ChatCompletionResponse,
    ChunkDelta,
    ModelCard,
    ModelList,
)
from bot.api.streams import Events, first_event, relayed
from core.authority import authority_name
from core.settings import Authority
from core.types import Answer, Evidence

log = logging.getLogger("cuabot.openai")

_PIECE = re.compile(r"\S+\s*|\s+")

router = APIRouter(prefix="/v1", tags=["compatibilité OpenAI"])


@router.get("/models", response_model=ModelList)
def models(settings: SettingsDep) -> ModelList:
    """The one model, owned by the authority of the settings."""
    return ModelList(data=[ModelCard(id=MODEL_ID, created=0, owned_by=authority_name(settings.authority))])


@router.post("/chat/completions", response_model=ChatCompletionResponse, responses=ASK_REFUSALS)
async def chat_completions(
    request: ChatCompletionRequest, service: ServiceDep, admission: AdmissionDep, settings: SettingsDep, _: RateLimitDep
) -> ChatCompletionResponse | StreamingResponse:
    """Ask the documents; with `stream: true`, Server-Sent Events as OpenAI sends them."""
    question, history = conversation(request, settings)
    completion_id, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
    if request.stream:
        ticket = admission.admit()
        events = service.stream(question, history, None, admission.phrasing)
        first = await first_event(events, ticket)
        chunks = _chunks(relayed(first, events), events, ticket, completion_id, created, settings.authority)
        return StreamingResponse(chunks, media_type="text/event-stream", background=BackgroundTask(ticket.release))
    with admission.admit():
        answer = await run_in_threadpool(service.ask, question, history=history, phrasing=admission.phrasing)
    return to_chat_completion(answer, completion_id, created, settings.authority)


async def _chunks(
    relay: AsyncIterator[StreamEvent],
    events: Events,
    ticket: Ticket,
    completion_id: str,
    created: int,
    authority: Authority,
) -> AsyncIterator[str]:
    def line(delta: ChunkDelta, final: Answer | None = None) -> str:
        chunk = to_chat_chunk(completion_id, created, delta, final)
        return f"data: {chunk.model_dump_json(exclude_none=True)}\n\n"

    yield line(ChunkDelta(role="assistant", content=""))
    answer: Answer | None = None
    evidence: list[Evidence] = []
    sent = ""  # the verified sentences sent while the model writes
    try:
        async for event in relay:
            answer, evidence = event.answer or answer, event.evidence or evidence
            if event.sentence is not None and (text := phrased(event.sentence, evidence)):
                text = f" {text}" if sent else text
                sent += text
                for piece in _PIECE.findall(text):
                    yield line(ChunkDelta(content=piece))
    except Exception:
        log.exception("openai-compatible stream failed")
        error = {"error": {"message": stream_error_message(authority), "type": "server_error"}}
        yield f"data: {json.dumps(error, ensure_ascii=False)}\n\n"
        return
    finally:
        events.close()
        ticket.release()
    assert answer is not None
    for piece in _PIECE.findall(_after(sent, answer_with_sources(answer, authority))):
        yield line(ChunkDelta(content=piece))
    yield line(ChunkDelta(), final=answer)
    yield "data: [DONE]\n\n"


def _after(sent: str, text: str) -> str:
    """What is left to send of the answer's `text` once `sent` was; all of it, after a blank line, when the answer
    no longer begins with what was sent."""
    if text.startswith(sent):
        return text[len(sent) :]
    return f"\n\n{text}"
