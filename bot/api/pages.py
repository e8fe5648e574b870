"""HTML pages served with the authority filled in: the staff page here, the widget's demo page (ui/app.py).

A page holds `{{ key }}` placeholders, replaced once when the application is built (the settings do not
change while it runs): texts HTML-escaped, fragments of HTML given as such. No template engine.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from bot.api.display import api_title, channels
from core.authority import authority_name, of_authority
from core.settings import Authority

_PLACEHOLDER = re.compile(r"\{\{\s*(\w+)\s*\}\}")


def fill(template: str, texts: Mapping[str, str], fragments: Mapping[str, str] | None = None) -> str:
    """`template` with each `{{ key }}` replaced: a text escaped, a fragment as is; an unknown key raises KeyError."""
    fragments = fragments or {}

    def value(match: re.Match[str]) -> str:
        key = match.group(1)
        return fragments[key] if key in fragments else html.escape(texts[key])

    return _PLACEHOLDER.sub(value, template)


def authority_texts(authority: Authority) -> dict[str, str]:
    """The placeholders a page may use to name the authority."""
    return {
        "authority": authority_name(authority),
        "of_authority": of_authority(authority),
        "of_short_name": of_authority(authority, short=True),
        "channels": channels(authority),
        "api_title": api_title(authority),
    }


def website_link(authority: Authority) -> str:
    """« <a href="https://…">www.exemple.fr</a> », or nothing when no website is set."""
    url = authority.website.strip()
    if not url:
        return ""
    label = re.sub(r"^https?://", "", url).rstrip("/")
    return f'<a href="{html.escape(url)}">{html.escape(label)}</a>'


def authority_page(path: Path, authority: Authority) -> str:
    """The page at `path` naming `authority`."""
    return fill(path.read_text(encoding="utf-8"), authority_texts(authority), {"website_link": website_link(authority)})


def serve_page(app: FastAPI, paths: list[str], page: str) -> None:
    """Serve `page` (filled HTML) at each of `paths`, outside the OpenAPI schema."""

    async def show() -> HTMLResponse:
        return HTMLResponse(page)

    for path in paths:
        app.add_api_route(path, show, methods=["GET"], include_in_schema=False, response_class=HTMLResponse)
