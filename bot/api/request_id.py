"""One id per request, in every log line written for it and in its response's `X-Request-ID` header.

A reverse proxy or a partner may send its own `X-Request-ID`: it is kept when it is a short token of safe
characters (letters, digits, `.`, `_`, `-`, at most 128), else replaced by a new one, so that a header cannot
forge or split a log line. The id lives in a context variable (core/logs.py): the threads that answer the request
(Starlette's thread pool, the model's queue) write it too. A resident who reports a problem can quote it.
"""

from __future__ import annotations

import re

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.api.refusal import send_refusal
from core.logs import request_scope

HEADER = "X-Request-ID"
INTERNAL_ERROR_MESSAGE = "Erreur interne du service : réessayez, ou citez l'identifiant X-Request-ID au support."
_SAFE_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")


def accepted_id(presented: str | None) -> str | None:
    """The client's id when it is safe to write in a log line and a header, else None (a new one is made)."""
    return presented if presented is not None and _SAFE_ID.fullmatch(presented) else None


class RequestId:
    """ASGI middleware: the request's id in the logging context and in the response's headers, error responses
    and streamed answers included; an unhandled error still answers 500 with it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False
        with request_scope(accepted_id(Headers(scope=scope).get(HEADER))) as request_id:

            async def send_with_id(message: Message) -> None:
                nonlocal started
                if message["type"] == "http.response.start":
                    started = True
                    message.setdefault("headers", [])
                    MutableHeaders(scope=message)[HEADER] = request_id
                await send(message)

            try:
                await self.app(scope, receive, send_with_id)
            except Exception:
                if not started:  # Starlette's own 500 is sent further out, without the id
                    await send_refusal(send_with_id, 500, INTERNAL_ERROR_MESSAGE)
                raise
