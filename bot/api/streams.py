"""How the streaming routes start a question's stream: its first event (the evidence, or the refusal) is computed
before the response begins, so that a question that cannot be searched at all (the Chroma server down:
`StoreUnavailable`) is answered with a status code, as on `/api/ask`, rather than inside a 200 stream."""

from __future__ import annotations

from collections.abc import AsyncIterator, Generator

from starlette.concurrency import iterate_in_threadpool, run_in_threadpool

from bot.answer.service import StreamEvent
from bot.api.admission import Ticket

Events = Generator[StreamEvent, None, None]


async def first_event(events: Events, ticket: Ticket) -> StreamEvent:
    """The stream's first event; on failure the stream is closed and the question's place given back."""
    try:
        return await run_in_threadpool(next, events)
    except BaseException:
        events.close()
        ticket.release()
        raise


async def relayed(first: StreamEvent, events: Events) -> AsyncIterator[StreamEvent]:
    """`first`, then the rest of the stream, each event computed in Starlette's thread pool."""
    yield first
    async for event in iterate_in_threadpool(events):
        yield event
