"""The admin token checked before a staff route reads its body.

FastAPI reads a route's form (the staff upload) before it solves the route's dependencies, so `require_admin`
alone would let anyone send a whole file before the 401. This pure ASGI middleware answers a request to
`/api/admin/...` without the right token from its headers alone; `require_admin` stays on the routes.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from bot.api.deps import admin_refusal
from bot.api.refusal import has_body, route_path, send_refusal
from core.settings import Settings

ADMIN_PREFIX = "/api/admin/"


class AdminGate:
    """ASGI middleware: 401/403 for a staff request without the admin token, its body never read."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] != "OPTIONS" and route_path(scope).startswith(ADMIN_PREFIX):
            refusal = admin_refusal(self.settings, Headers(scope=scope).get("authorization"))
            if refusal is not None:
                await send_refusal(send, refusal.status_code, refusal.detail, close=has_body(scope))
                return
        await self.app(scope, receive, send)
