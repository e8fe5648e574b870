"""Logging set-up for the server: JSON lines (or plain text), personal data masked on every handler.

`logging_config` is one `logging.config.dictConfig` dictionary used twice: by `configure_logging`
(our own loggers while the models load) and by uvicorn (`uvicorn.run(log_config=...)`), which
applies it again, so uvicorn's loggers, ours and exception tracebacks share the masking filter.

Every line written while a request is handled carries that request's id (`request_id`, "-" outside one):
bot/api/request_id.py opens the scope, and since the id lives in a context variable, the threads that
answer the request (Starlette's thread pool, the model's queue) write it too.
"""

from __future__ import annotations

import logging
import logging.config
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter
from uvicorn.logging import AccessFormatter

from core.privacy import MaskingFilter, mask_personal_data
from core.settings import Settings

ACCESS_LOGGER = "uvicorn.access"
_TEXT_FORMAT = "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"
_ACCESS_TEXT_FORMAT = (
    '%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(client_addr)s - "%(request_line)s" %(status_code)s'
)
# C0 and C1 controls, DEL and the Unicode line and paragraph separators: each could start a forged line
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
NO_REQUEST = "-"
_request_id: ContextVar[str] = ContextVar("cuabot_request_id", default=NO_REQUEST)


@contextmanager
def request_scope(request_id: str | None = None) -> Iterator[str]:
    """The log lines written inside (in this context and the threads it hands work to) carry `request_id`, a new
    one when None."""
    token = _request_id.set(request_id or uuid.uuid4().hex)
    try:
        yield _request_id.get()
    finally:
        _request_id.reset(token)


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record, as the line's context says."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get()
        return True


def escape_controls(text: str) -> str:
    """Control characters written as JSON writes them (\\n, \\r, \\t, \\u001b…): one record stays one line."""
    return _CONTROL.sub(lambda match: _ESCAPES.get(match.group(), f"\\u{ord(match.group()):04x}"), text)


class TextLineFormatter(logging.Formatter):
    """Plain text, one line per record: a question or a path holding "%0A" cannot forge a log line."""

    def format(self, record: logging.LogRecord) -> str:
        return escape_controls(super().format(record))


class AccessTextLineFormatter(AccessFormatter):
    """uvicorn's access line in plain text, one line per request (its path is decoded before it is masked)."""

    def format(self, record: logging.LogRecord) -> str:
        return escape_controls(super().format(record))


class JsonLineFormatter(JsonFormatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, then the details.

    An access line also carries client, method, path and status, taken from uvicorn's arguments
    (already anonymised and masked by `MaskingFilter`).
    """

    def __init__(self) -> None:
        super().__init__(
            "%(levelname)s %(name)s %(message)s",
            rename_fields={"levelname": "level", "name": "logger"},
            reserved_attrs=[*RESERVED_ATTRS, "color_message"],
            json_ensure_ascii=False,
        )

    def formatException(self, ei: Any) -> str:  # noqa: N802 (logging's name)
        """The traceback, masked: this library formats `exc_info` itself instead of reading `exc_text`."""
        return mask_personal_data(logging.Formatter.formatException(self, ei))

    def add_fields(self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]) -> None:
        log_data["time"] = datetime.fromtimestamp(record.created, UTC)
        super().add_fields(log_data, record, message_dict)
        if record.name == ACCESS_LOGGER and isinstance(record.args, tuple) and len(record.args) == 5:
            client, method, path, _version, status = record.args
            log_data.update(client=client, method=method, path=path, status=status)


def logging_config(settings: Settings) -> dict[str, Any]:
    """The dictConfig for the whole process: errors and app logs on stderr, access lines on stdout."""
    if settings.privacy.log_json:
        formatters: dict[str, Any] = {"default": {"()": JsonLineFormatter}, "access": {"()": JsonLineFormatter}}
    else:
        formatters = {
            "default": {"()": TextLineFormatter, "fmt": _TEXT_FORMAT},
            "access": {"()": AccessTextLineFormatter, "fmt": _ACCESS_TEXT_FORMAT, "use_colors": False},
        }
    handler = {"class": "logging.StreamHandler", "filters": ["mask", "request_id"]}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"mask": {"()": MaskingFilter}, "request_id": {"()": RequestIdFilter}},
        "formatters": formatters,
        "handlers": {
            "default": {**handler, "formatter": "default", "stream": "ext://sys.stderr"},
            "access": {**handler, "formatter": "access", "stream": "ext://sys.stdout"},
        },
        "loggers": {
            "uvicorn": {"handlers": ["default"], "level": "INFO", "propagate": False},
            "uvicorn.error": {"level": "INFO"},
            # The access logger masks too: a handler another configuration adds still gets masked lines
            ACCESS_LOGGER: {"handlers": ["access"], "filters": ["mask"], "level": "INFO", "propagate": False},
            "bm25s": {"level": "WARNING"},
        },
        "root": {"handlers": ["default"], "level": "INFO"},
    }


def configure_logging(settings: Settings) -> dict[str, Any]:
    """Apply `logging_config(settings)` now and return it for `uvicorn.run(log_config=...)`."""
    config = logging_config(settings)
    logging.config.dictConfig(config)
    return config
