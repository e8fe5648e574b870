"""The widget's routes: a question answered as JSON (`/api/ask`) or as Server-Sent Events (`/api/ask/stream`).

The stream sends `evidence` (before any model token), then `token`… (the model's unverified draft, for
conseillers) and `sentence`… (each sentence once verification kept it: what the widget draws), then `done` with the
answer, or `error` when it fails after it started. Each question is first taken off the client's budget
(429), then given a place in the model's queue (503 when full), before any retrieval work; the
service runs in Starlette's thread pool and hands its phrasing step to the Admission. A question that cannot be
searched (the Chroma server unreachable) is a 503 on both routes, the stream's decided before it begins.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator

from fastapi import APIRouter
from sse_starlette.sse import EventSourceResponse
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from bot.answer.service import StreamEvent
from bot.api.admission import Ticket
from bot.api.convert import question_text, stream_message, to_response, to_turns
from bot.api.deps import ASK_REFUSALS, AdmissionDep, RateLimitDep, ServiceDep, SettingsDep
from bot.api.display import stream_error_message
from bot.api.schemas import AskRequest, AskResponse
from bot.api.streams import Events, first_event, relayed
from core.settings import Authority

log = logging.getLogger("cuabot.api")

router = APIRouter(prefix="/api", responses=ASK_REFUSALS)


@router.post("/ask", response_model=AskResponse)
async def ask(
    body: AskRequest, service: ServiceDep, admission: AdmissionDep, settings: SettingsDep, _: RateLimitDep
) -> AskResponse:
    question, history = question_text(body.question, settings), to_turns(body.history, settings)
    with admission.admit():
        answer = await run_in_threadpool(
            service.ask, question, history=history, documents=body.documents, phrasing=admission.phrasing
        )
    return to_response(answer, settings.authority)


@router.post("/ask/stream")
async def ask_stream(
    body: AskRequest, service: ServiceDep, admission: AdmissionDep, settings: SettingsDep, _: RateLimitDep
) -> EventSourceResponse:
    question, history = question_text(body.question, settings), to_turns(body.history, settings)
    ticket = admission.admit()
    events = service.stream(question, history, body.documents, admission.phrasing)
    first = await first_event(events, ticket)
    messages = _messages(relayed(first, events), events, ticket, settings.authority)
    # released by the stream's end, or here when the client left before it began
    return EventSourceResponse(messages, background=BackgroundTask(ticket.release))


async def _messages(
    relay: AsyncIterator[StreamEvent], events: Events, ticket: Ticket, authority: Authority
) -> AsyncIterator[dict[str, str]]:
    try:
        async for event in relay:
            yield stream_message(event, authority)
    except Exception:
        log.exception("stream failed")
        yield {"event": "error", "data": json.dumps({"message": stream_error_message(authority)}, ensure_ascii=False)}
    finally:
        events.close()  # a client that left stops the model at its next token
        ticket.release()
