"""A French JSON refusal sent straight from an ASGI middleware, before the application sees the request."""

from __future__ import annotations

import json

from starlette.datastructures import Headers
from starlette.types import Scope, Send


async def send_refusal(
    send: Send, status: int, detail: str, *, close: bool = False, headers: dict[str, str] | None = None
) -> None:
    """`{"detail": detail}` with `status`; `close`: a body left unread must not be taken for a next request."""
    body = json.dumps({"detail": detail}, ensure_ascii=False).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(name.lower().encode(), value.encode()) for name, value in (headers or {}).items()]
    if close:
        raw.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


def has_body(scope: Scope) -> bool:
    """The request announces a body (a length other than 0, or chunks)."""
    headers = Headers(scope=scope)
    return "transfer-encoding" in headers or headers.get("content-length", "0") != "0"


def route_path(scope: Scope) -> str:
    """The request's path below the application's root path."""
    path: str = scope["path"]
    return path.removeprefix(scope.get("root_path", ""))
