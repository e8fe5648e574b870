"""Masking of personal data before anything is logged or stored."""

from __future__ import annotations

import logging
import re

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# French phone numbers: 0X XX XX XX XX or +33 X XX XX XX XX, with spaces, dots or dashes.
_PHONE = re.compile(r"(?:(?:\+|00)33[\s.-]?|\b0)[1-9](?:[\s.-]?\d{2}){4}\b")
# Any other run of 8+ digits, possibly grouped (numéro fiscal: 13 digits, NIR, IBAN parts…).
_DIGITS = re.compile(r"\b\d(?:[\s.-]?\d){7,}\b")


def mask_personal_data(text: str) -> str:
    """Replace e-mails, phone numbers and long digit runs with placeholders."""
    text = _EMAIL.sub("[courriel]", text)
    text = _PHONE.sub("[téléphone]", text)
    return _DIGITS.sub("[numéro]", text)


class MaskingFilter(logging.Filter):
    """Logging filter that masks personal data in every record's final message."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = mask_personal_data(record.getMessage())
        record.args = None
        return True


def install_log_masking() -> None:
    """Mask personal data in every handler of the root logger (and uvicorn's)."""
    for name in ("", "uvicorn", "uvicorn.access", "uvicorn.error", "cuabot"):
        logger = logging.getLogger(name)
        for handler in logger.handlers:
            handler.addFilter(MaskingFilter())
        logger.addFilter(MaskingFilter())
