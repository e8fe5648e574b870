"""What Gradio leaves open on the helpdesk, closed in front of it (a pure ASGI middleware on `/helpdesk`).

- **Uploads**: the helpdesk has no file field, yet Gradio takes files of any size on its upload routes and keeps
  them on disk; they answer 404 before a byte of the body is read.
- **Login** (`POST /helpdesk/login`, Gradio's own): only from a page of this site (its `Origin`, else its
  `Referer`, names this host; else 403); after a failed login the client waits before the next try, the wait
  doubled after each failure up to a bound (429 with Retry-After meanwhile); the session cookie is
  `SameSite=Lax` (Gradio sends `None`).
- **Logout** by POST only, from a page of this site (Gradio's logout is a GET, which any page could trigger).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.api.refusal import has_body, route_path, send_refusal
from core.settings import Settings

HELPDESK = "/helpdesk"
# Gradio's routes that take files, under its API prefix or not
_UPLOAD_ROUTES = {
    f"{HELPDESK}{prefix}/{name}" for prefix in ("", "/gradio_api") for name in ("upload", "process_recording")
}
_LOGIN = {f"{HELPDESK}/login", f"{HELPDESK}/login/"}
_LOGOUT = {f"{HELPDESK}/logout", f"{HELPDESK}/logout/"}

NO_UPLOAD = "Adresse inconnue."
OTHER_SITE = "Connexion refusée : elle doit venir de la page de l'espace conseillers de ce site."
LOGOUT_BY_POST = "Déconnexion : utilisez le bouton de l'espace conseillers (méthode POST)."


def too_many_failures(wait_s: int) -> str:
    return f"Trop d'essais de connexion manqués : réessayez dans {wait_s} s."


@dataclass
class LoginThrottle:
    """Failed logins per client: after the n-th, no try for `first_s × 2^(n-1)` seconds, at most `max_s`."""

    first_s: float
    max_s: float
    clock: Callable[[], float] = time.monotonic
    max_clients: int = 10_000
    _failures: dict[str, tuple[int, float]] = field(default_factory=dict)  # client -> (failures, next try at)

    def wait_s(self, client: str) -> float:
        """Seconds before `client` may try again (0: now)."""
        _, next_try = self._failures.get(client, (0, 0.0))
        return max(0.0, next_try - self.clock())

    def failed(self, client: str) -> None:
        failures = self._failures.get(client, (0, 0.0))[0] + 1
        delay = min(self.first_s * 2 ** (failures - 1), self.max_s)
        self._failures[client] = (failures, self.clock() + delay)
        if len(self._failures) > self.max_clients:
            self._forget_old()

    def succeeded(self, client: str) -> None:
        self._failures.pop(client, None)

    def _forget_old(self) -> None:
        """Memory stays bounded: clients whose wait ended long ago start from nothing again."""
        horizon = self.clock() - self.max_s
        self._failures = {c: entry for c, entry in self._failures.items() if entry[1] > horizon}


def same_site(scope: Scope) -> bool:
    """The request comes from a page of this host: its Origin, else its Referer, names the Host it was sent to."""
    headers = Headers(scope=scope)
    host = headers.get("host", "")
    source = headers.get("origin") or headers.get("referer") or ""
    return bool(host) and urlsplit(source).netloc == host


class HelpdeskGuard:
    """ASGI middleware in front of the helpdesk's Gradio routes."""

    def __init__(self, app: ASGIApp, settings: Settings, clock: Callable[[], float] = time.monotonic) -> None:
        self.app = app
        self.throttle = LoginThrottle(settings.security.login_delay_s, settings.security.login_max_delay_s, clock)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = route_path(scope) if scope["type"] == "http" else ""
        if path in _UPLOAD_ROUTES:
            await send_refusal(send, 404, NO_UPLOAD, close=has_body(scope))
        elif path in _LOGIN and scope["method"] == "POST":
            await self._login(scope, receive, send)
        elif path in _LOGOUT:
            await self._logout(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _login(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not same_site(scope):
            await send_refusal(send, 403, OTHER_SITE, close=has_body(scope))
            return
        client = scope["client"][0] if scope.get("client") else "inconnu"
        if wait := self.throttle.wait_s(client):
            seconds = max(1, round(wait))
            await send_refusal(
                send, 429, too_many_failures(seconds), close=has_body(scope), headers={"Retry-After": str(seconds)}
            )
            return

        async def judged(message: Message) -> None:
            if message["type"] == "http.response.start":
                if message["status"] == 200:
                    self.throttle.succeeded(client)
                    _cookies_same_site_lax(message)
                elif message["status"] in (400, 401):  # wrong user name or password
                    self.throttle.failed(client)
            await send(message)

        await self.app(scope, receive, judged)

    async def _logout(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] != "POST":
            await send_refusal(send, 405, LOGOUT_BY_POST, headers={"Allow": "POST"})
        elif not same_site(scope):
            await send_refusal(send, 403, OTHER_SITE, close=has_body(scope))
        else:
            await self.app({**scope, "method": "GET"}, receive, send)  # Gradio's own logout


def _cookies_same_site_lax(message: Message) -> None:
    """Gradio's login cookies with `SameSite=Lax`: not sent with a request another site starts."""
    headers = MutableHeaders(scope=message)
    cookies = headers.getlist("set-cookie")
    del headers["set-cookie"]
    for cookie in cookies:
        parts = [p for p in cookie.split(";") if not p.strip().lower().startswith("samesite")]
        headers.append("set-cookie", ";".join([*parts, " SameSite=Lax"]))
