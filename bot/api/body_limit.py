"""Request bodies refused (413) past their route's size limit, before they are read.

A pure ASGI middleware: a declared `Content-Length` over the limit is answered at once, without reading a
byte of the body; a body without one (chunked) is counted as the application reads it, and refused as soon
as it passes the limit, without reading further. The staff upload route may receive a file of
`api.upload_max_bytes` and its form; every other route (JSON questions, feedback, the helpdesk) a small body.
"""

from __future__ import annotations

import contextlib
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.api.refusal import route_path, send_refusal
from core.settings import Settings

# POST /api/admin/documents and PUT /api/admin/documents/{document}: a file and its metadata
_UPLOAD_ROUTE = re.compile(r"/api/admin/documents(/[^/]+)?/?")
_UPLOAD_METHODS = {"POST", "PUT"}


class BodyTooLarge(Exception):
    """Raised to the application reading a body past its limit; the middleware answers 413 instead."""


def too_large_message(limit: int) -> str:
    if limit >= 1_048_576:
        return f"Requête trop volumineuse : maximum {limit / 1_048_576:.0f} Mo."
    return f"Requête trop volumineuse : maximum {limit // 1024} Ko."


class BodyLimit:
    """ASGI middleware: 413 in French for a body over its route's limit, the rest of it never read."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.small_limit = settings.security.max_body_bytes
        self.upload_limit = settings.api.upload_max_bytes + settings.security.upload_form_overhead_bytes

    def limit_for(self, scope: Scope) -> int:
        if scope["method"] in _UPLOAD_METHODS and _UPLOAD_ROUTE.fullmatch(route_path(scope)):
            return self.upload_limit
        return self.small_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope)
        declared = declared_length(scope)
        if declared is not None and declared > limit:
            await send_refusal(send, 413, too_large_message(limit), close=True)
            return
        await self._counted(scope, receive, send, limit)

    async def _counted(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        """Run the application on a receive that stops at `limit`; answer 413 if it got there."""
        received = 0
        overflow = False
        started = False

        async def counted_receive() -> Message:
            nonlocal received, overflow
            if overflow:
                raise BodyTooLarge(too_large_message(limit))
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    overflow = True
                    raise BodyTooLarge(too_large_message(limit))
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if overflow:  # whatever the application answers to the cut body, the client gets the 413
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        with contextlib.suppress(BodyTooLarge):  # the application may also catch it: `overflow` says what happened
            await self.app(scope, counted_receive, guarded_send)
        if overflow and not started:
            await send_refusal(send, 413, too_large_message(limit), close=True)


def declared_length(scope: Scope) -> int | None:
    """The request's Content-Length, None when absent; an unreadable one counts as infinite."""
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return 1 << 62
    return None
