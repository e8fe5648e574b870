"""Permissions as FastAPI dependencies: admin routes are closed unless a token is configured."""

from __future__ import annotations

import hmac
from typing import Annotated, Any

from fastapi import Depends, Header, HTTPException, Request

from bot.schemas import ErrorResponse
from core.settings import Settings

# What an admin route answers without the right token, documented for partners (OpenAPI)
ADMIN_REFUSALS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorResponse, "description": "Jeton d'administration manquant ou invalide."},
    403: {"model": ErrorResponse, "description": "Administration désactivée : aucun jeton configuré."},
}


def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_app_settings)]


def require_admin(settings: SettingsDep, authorization: Annotated[str | None, Header()] = None) -> None:
    """Closed (403) unless CUABOT_ADMIN_TOKEN is set; then the bearer token must match (constant time)."""
    if not settings.admin_token:
        raise HTTPException(403, "Action d'administration désactivée : définissez CUABOT_ADMIN_TOKEN.")
    presented = (authorization or "").encode()
    if not hmac.compare_digest(presented, f"Bearer {settings.admin_token}".encode()):
        raise HTTPException(401, "Jeton d'administration manquant ou invalide.")


AdminDep = Annotated[None, Depends(require_admin)]
