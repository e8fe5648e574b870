"""The public API from the environment's settings, for `uvicorn --factory` (several workers need an import string).

uvicorn bench.load.app:create --factory --workers 2 --port 8001
"""

from __future__ import annotations

from fastapi import FastAPI

from bot.answer.service import build_service
from bot.api.app import create_api
from core.settings import get_settings


def create() -> FastAPI:
    settings = get_settings()
    return create_api(build_service(settings), settings)
