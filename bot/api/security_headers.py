"""Security headers on every response: no MIME sniffing, a referrer policy, and a Content-Security-Policy per page.

Every page of the service loads its scripts and styles from the service itself, none inline, except the
helpdesk: Gradio's page starts with inline scripts and styles, so it gets a policy of its own that still
allows nothing from another site. The widget's demo page may be framed by the sites of
`security.frame_ancestors`; the staff page, the helpdesk and the API documentation by none.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.api.refusal import route_path
from core.settings import Settings

_COMMON = "default-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; connect-src 'self'"
# Pages of this service (widget's page, staff page, API documentation): nothing inline, nothing from elsewhere
STRICT = f"{_COMMON}; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'"
# Gradio's page: inline start-up scripts and styles, images and sounds it makes itself (data:, blob:)
GRADIO = (
    f"{_COMMON}; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "font-src 'self' data:; media-src 'self' data: blob:; worker-src 'self' blob:"
)
# Swagger UI sets inline styles on its elements (its script is a file)
SWAGGER = f"{_COMMON}; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'"

_NOT_FRAMED = ("/admin", "/helpdesk", "/docs")


def content_security_policy(path: str, frame_ancestors: str) -> str:
    """The policy of the page at `path`."""
    if _under(path, "/helpdesk"):
        policy = GRADIO
    elif _under(path, "/docs"):
        policy = SWAGGER
    else:
        policy = STRICT
    framed_by = "'none'" if any(_under(path, prefix) for prefix in _NOT_FRAMED) else frame_ancestors
    return f"{policy}; frame-ancestors {framed_by}"


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(f"{prefix}/")


class SecurityHeaders:
    """ASGI middleware adding the headers to each response that does not set them itself."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.frame_ancestors = " ".join(settings.security.frame_ancestors) or "'self'"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        policy = content_security_policy(route_path(scope), self.frame_ancestors)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
                headers.setdefault("Content-Security-Policy", policy)
                if "frame-ancestors 'none'" in policy:
                    headers.setdefault("X-Frame-Options", "DENY")  # browsers without CSP level 2
            await send(message)

        await self.app(scope, receive, send_with_headers)
