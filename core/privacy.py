"""Masking of personal data before anything is logged or stored.

Phone numbers are found by `phonenumbers` (Google's libphonenumber: every French spelling,
+33/0033, and foreign numbers), with a French regular expression as backstop; the other kinds
have a fixed shape that a regular expression describes well (no maintained library finds French
NIR, IBAN or postal addresses in free text without a heavy NLP model). Each kind is replaced by
one French label, so a log still says what was there.
"""

from __future__ import annotations

import ipaddress
import logging
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote, unquote_plus

from phonenumbers import Leniency, PhoneNumberMatcher

EMAIL, PHONE, NIR, IBAN, ADDRESS, NUMBER = "[courriel]", "[téléphone]", "[NIR]", "[IBAN]", "[adresse]", "[numéro]"
LABELS = (EMAIL, PHONE, NIR, IBAN, ADDRESS, NUMBER)

_SEP = r"[ .-]?"
# Numéro de sécurité sociale: sex (1-4, 7, 8), year, month, département (2 digits, 2A, 2B),
# commune, order number, 2-digit key; grouped or not.
_NIR = re.compile(
    rf"(?<![\w-])[1-478]{_SEP}\d{{2}}{_SEP}\d{{2}}{_SEP}(?:\d{{2}}|2[AaBb]){_SEP}\d{{3}}{_SEP}\d{{3}}{_SEP}\d{{2}}(?![\w-])"
)
# IBAN: country code, 2 check digits, then 11 to 30 letters or digits, in groups of 4 or not.
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ -]?[A-Z0-9]{4}){2,7}(?:[ -]?[A-Z0-9]{1,4})?\b")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_FRENCH_PHONE = re.compile(r"(?:(?:\+|\b00)33[\s.-]?(?:\(0\)\s?)?|\b0)[1-9](?:[\s.-]?\d{2}){4}\b")
_BRACKETS = str.maketrans("[]", "||")
# Any other unbroken run of 9+ digits (numéro fiscal, allocataire, carte…); "12 345 678" stays.
_LONG_NUMBER = re.compile(r"(?<![\w.,])\d{9,}(?![\w.,]\d)")

# Types de voie that only name a street; after them a lower-case name ("rue victor hugo") counts.
_STREET_TYPE = (
    r"(?:rue|ruelle|avenue|av\.?|boulevard|bd|bld|all[ée]e|impasse|imp\.|quai|r[ée]sidence|lotissement|"
    r"faubourg|fbg|rond-point|chauss[ée]e|sentier|esplanade|parvis|hameau|square|sq\.)"
)
# Words that are also ordinary nouns ("1 place de cinéma", "3 cours de yoga"): a capitalised name must follow.
_COMMON_TYPE = r"(?:place|pl\.|cours|chemin|route|rte|passage|voie|mail|villa|clos|domaine|cit[ée]|promenade)"
_END = r"(?![\w'’-])"
_PARTICLE = rf"(?i:(?:de|du|des|la|le|les|aux?|sur|sous|en|saint|sainte|st|ste|lès|lez){_END}|[dl]['’])"
# Words that end a lower-case street name: "12 rue victor hugo et je voudrais…" stops before "et".
_STOP = (
    r"(?i:et|ou|mais|donc|car|je|j['’]|il|elle|on|nous|vous|est|suis|sont|ai|a|à|au|pour|par|avec|depuis|"
    rf"dans|chez|que|qui|quand|comment|où|mon|ma|mes|votre|vos|notre|nos|ce|cette|ces|son|sa|ses|merci|svp){_END}"
)
_WORD = r"[\w'’-]+"
_NAME_WORD = r"(?:[A-ZÀ-Ý][\w'’-]*|\d+)"
_PARTICLES = rf"(?:{_PARTICLE}\s*)*"
_ANY_NAME = rf"{_PARTICLES}(?!{_STOP}){_WORD}(?:\s+{_PARTICLES}(?!{_STOP}){_WORD}){{0,4}}"
_PROPER_NAME = rf"{_PARTICLES}{_NAME_WORD}(?:\s+{_PARTICLES}{_NAME_WORD})*"
_TOWN = r"[A-ZÀ-Ý][\w'’-]*(?:[\s-]+(?:[A-ZÀ-Ý][\w'’-]*|sur|sous|en|le|la|les|lès|lez|de|du|des))*"
_POSTCODE_TOWN = rf"\b(?:0[1-9]|[1-8]\d|9[0-8])\d{{3}}\s+{_TOWN}"
_ADDRESS = re.compile(
    rf"\b\d{{1,3}}(?:\s?(?i:bis|ter|quater|[a-d])\b)?\s*,?\s+"
    rf"(?:(?i:{_STREET_TYPE})(?![\w-])\s*{_ANY_NAME}|(?i:{_COMMON_TYPE})(?![\w-])\s*{_PROPER_NAME})"
    rf"(?:\s*,?\s*{_POSTCODE_TOWN})?"
)
_POSTCODE = re.compile(_POSTCODE_TOWN)


def _mask_phones(text: str) -> str:
    # The matcher takes brackets as part of a number, so "06 12 34 56 78 [1]" would fail as a whole.
    searched = text.translate(_BRACKETS)
    matches = list(PhoneNumberMatcher(searched, "FR", leniency=Leniency.POSSIBLE))
    for match in reversed(matches):
        text = text[: match.start] + PHONE + text[match.end :]
    # The matcher also rejects a number glued to other digits ("06 12 34 56 78 2024"): French backstop.
    return _FRENCH_PHONE.sub(PHONE, text)


def mask_personal_data(text: str) -> str:
    """Replace e-mails, phones, NIR, IBAN, postal addresses and long numbers with French labels."""
    text = _EMAIL.sub(EMAIL, text)
    text = _IBAN.sub(IBAN, text)
    text = _NIR.sub(NIR, text)
    text = _ADDRESS.sub(ADDRESS, text)
    text = _POSTCODE.sub(ADDRESS, text)
    text = _mask_phones(text) if any(c.isdigit() for c in text) else text
    return _LONG_NUMBER.sub(NUMBER, text)


def mask_url(path: str) -> str:
    """A request path and query, decoded (so "%40" or "06+12" are seen) and masked."""
    route, _, query = path.partition("?")
    masked = mask_personal_data(unquote(route))
    return f"{masked}?{mask_personal_data(unquote_plus(query))}" if query else masked


def anonymise_client(client: str) -> str:
    """The client's network only (last IPv4 byte, last 80 IPv6 bits zeroed, no port), as CNIL advises."""
    for host in (client, client.rsplit(":", 1)[0]):  # uvicorn writes "host:port", IPv6 unbracketed
        try:
            address = ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            continue
        prefix = 24 if address.version == 4 else 48
        return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False).network_address)
    return "-"


def _mask_value(value: Any) -> Any:
    """A string masked; any other object (an exception, a dict) as its masked text only if it leaks."""
    if value is None or isinstance(value, int | float):
        return value
    text = str(value)
    masked = mask_personal_data(text)
    return masked if isinstance(value, str) or masked != text else value


_RECORD_FIELDS = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "color_message"}


class MaskingFilter(logging.Filter):
    """Masks personal data in a record in place, keeping `args` usable by any formatter.

    The message, each string argument, extra string fields, the exception traceback and the
    stack are masked; uvicorn's access arguments keep their shape (client, method, path,
    version, status) with the client anonymised and the path decoded then masked.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = mask_personal_data(record.msg)
        record.args = self._masked_args(record)
        for key, value in vars(record).items():
            if key not in _RECORD_FIELDS and isinstance(value, str):
                setattr(record, key, mask_personal_data(value))
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_personal_data(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_personal_data(record.stack_info)
        return True

    @staticmethod
    def _masked_args(record: logging.LogRecord) -> tuple[Any, ...] | Mapping[str, Any] | None:
        args = record.args
        if isinstance(args, Mapping):
            return {key: _mask_value(value) for key, value in args.items()}
        if not args:
            return args
        if record.name == "uvicorn.access" and len(args) == 5:
            client, method, path, version, status = args
            return (anonymise_client(str(client)), method, mask_url(str(path)), version, status)
        return tuple(_mask_value(value) for value in args)


def install_log_masking() -> None:
    """Add the masking filter to every handler of the root and uvicorn loggers (once each)."""
    for name in ("", "uvicorn", "uvicorn.access", "uvicorn.error"):
        for handler in logging.getLogger(name).handlers:
            if not any(isinstance(f, MaskingFilter) for f in handler.filters):
                handler.addFilter(MaskingFilter())
