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
CARD, NAME, BIRTH_DATE = "[carte bancaire]", "[nom]", "[date de naissance]"
LABELS = (EMAIL, PHONE, NIR, IBAN, ADDRESS, NUMBER, CARD, NAME, BIRTH_DATE)
# What a request's query string keeps of each value in the access log: nothing
QUERY_VALUE = "[masqué]"

_SEP = r"[ .-]?"
# Numéro de sécurité sociale: sex (1-4, 7, 8), year, month, département (2 digits, 2A, 2B),
# commune, order number, 2-digit key; grouped or not.
_NIR = re.compile(
    rf"(?<![\w-])[1-478]{_SEP}\d{{2}}{_SEP}\d{{2}}{_SEP}(?:\d{{2}}|2[AaBb]){_SEP}\d{{3}}{_SEP}\d{{3}}{_SEP}\d{{2}}(?![\w-])"
)
# IBAN: country code, 2 check digits, then 11 to 30 letters or digits, in groups of 4 or not; any case, but one
# written in lower case must pass its mod-97 check ("de12 mois" is no account).
_IBAN = re.compile(r"\b[A-Za-z]{2}\d{2}(?:[ -]?[A-Za-z0-9]{4}){2,7}(?:[ -]?[A-Za-z0-9]{1,4})?\b")
# Card numbers: 13 to 19 digits, unbroken or in groups (4-4-4-4[-3], Amex 4-6-5); masked when the Luhn key holds.
_CARD = re.compile(
    r"(?<![\w-])(?:\d{4}(?:[ -]?\d{4}){2,3}(?:[ -]?\d{1,3})?|\d{4}[ -]?\d{6}[ -]?\d{5}|\d{13,19})(?![\w-])"
)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_FRENCH_PHONE = re.compile(r"(?:(?:\+|\b00)33[\s.-]?(?:\(0\)\s?)?|\b0)[1-9](?:[\s.-]?\d{2}){4}\b")
_BRACKETS = str.maketrans("[]", "||")
# Any other unbroken run of 9+ digits (numéro fiscal, allocataire, carte…); "12 345 678" stays.
_LONG_NUMBER = re.compile(r"(?<![\w.,])\d{9,}(?![\w.,]\d)")

# Types de voie that only name a street, and their abbreviations ("r.", "av.", "bd", "all.", "imp.", "rte",
# "chem."…); after them a lower-case name ("rue victor hugo") counts.
_STREET_TYPE = (
    r"(?:rue|r\.|ruelle|avenue|av\.?|boulevard|boul\.|bd|bld|bvd|all[ée]e|all\.|impasse|imp\.?|quai|r[ée]sidence|"
    r"r[ée]s\.|lotissement|lot\.|faubourg|fbg|fg|rond-point|rpt|chauss[ée]e|ch[ée]e|sentier|sent\.|esplanade|"
    r"espl\.|parvis|hameau|ham\.|square|sq\.?|rte|chem\.|prom\.|pl\.)"
)
# Words that are also ordinary nouns ("1 place de cinéma", "3 cours de yoga"): a capitalised name must follow.
_COMMON_TYPE = r"(?:place|pl|cours|crs|chemin|ch\.|route|passage|voie|mail|villa|clos|domaine|cit[ée]|promenade)"
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
_MONTH = (
    r"(?:janv(?:ier|\.)?|f[ée]vr(?:ier|\.)?|mars|avr(?:il|\.)?|mai|juin|juil(?:let|\.)?|ao[ûu]t|"
    r"sept(?:embre|\.)?|oct(?:obre|\.)?|nov(?:embre|\.)?|d[ée]c(?:embre|\.)?)"
)
_DATE = rf"(?:\d{{1,2}}[/.-]\d{{1,2}}[/.-]\d{{2,4}}|\d{{4}}-\d{{2}}-\d{{2}}|\d{{1,2}}(?:er)?\s+{_MONTH}\s+\d{{4}})"
# « Jean Dupont, né le 12/03/1985 », « née le 3 mars 1985 », « né(e) le … »: the date, and the capitalised
# words just before (the name) when there are some.
_BIRTH = re.compile(
    rf"(?:(?<![\w'’-])(?P<name>[A-ZÀ-Ý][\w'’-]*(?:\s+[A-ZÀ-Ý][\w'’-]*){{0,3}})(?P<comma>\s*,)?\s+)?"
    rf"(?P<born>(?i:n[ée]e?(?:\s?\(e\))?\s+le))\s+(?i:{_DATE})(?!\d)"
)


def _mask_phones(text: str) -> str:
    # The matcher takes brackets as part of a number, so "06 12 34 56 78 [1]" would fail as a whole.
    searched = text.translate(_BRACKETS)
    matches = list(PhoneNumberMatcher(searched, "FR", leniency=Leniency.POSSIBLE))
    for match in reversed(matches):
        text = text[: match.start] + PHONE + text[match.end :]
    # The matcher also rejects a number glued to other digits ("06 12 34 56 78 2024"): French backstop.
    return _FRENCH_PHONE.sub(PHONE, text)


def _iban_valid(candidate: str) -> bool:
    """ISO 13616's mod-97 check: the first four characters moved to the end, letters as 10-35."""
    compact = re.sub(r"[ -]", "", candidate).upper()
    digits = "".join(str(int(c, 36)) for c in compact[4:] + compact[:4])
    return int(digits) % 97 == 1


def _mask_iban(match: re.Match[str]) -> str:
    candidate = match.group()
    return IBAN if candidate.isupper() or _iban_valid(candidate) else candidate


def _luhn_valid(digits: str) -> bool:
    total = 0
    for position, digit in enumerate(reversed(digits)):
        value = int(digit) * (2 if position % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def _mask_card(match: re.Match[str]) -> str:
    return CARD if _luhn_valid(re.sub(r"[ -]", "", match.group())) else match.group()


def _mask_birth(match: re.Match[str]) -> str:
    name = f"{NAME}{match['comma'] or ''} " if match["name"] else ""
    return f"{name}{match['born']} {BIRTH_DATE}"


def mask_personal_data(text: str) -> str:
    """Replace e-mails, birth dates (and the name before), IBAN, NIR, cards, postal addresses, phones and long
    numbers with French labels."""
    text = _EMAIL.sub(EMAIL, text)
    text = _BIRTH.sub(_mask_birth, text)
    text = _IBAN.sub(_mask_iban, text)
    text = _NIR.sub(NIR, text)
    text = _CARD.sub(_mask_card, text)
    text = _ADDRESS.sub(ADDRESS, text)
    text = _POSTCODE.sub(ADDRESS, text)
    text = _mask_phones(text) if any(c.isdigit() for c in text) else text
    return _LONG_NUMBER.sub(NUMBER, text)


def _mask_query(query: str) -> str:
    """Each parameter's name (decoded, masked) kept, its value never: a name or a date has no shape to find."""
    parameters = []
    for parameter in query.split("&"):
        name, has_value, _ = parameter.partition("=")
        parameters.append(mask_personal_data(unquote_plus(name)) + (f"={QUERY_VALUE}" if has_value else ""))
    return "&".join(parameters)


def mask_url(path: str) -> str:
    """A request path, decoded (so "%40" is seen) and masked; its query string's values replaced by a label."""
    route, _, query = path.partition("?")
    masked = mask_personal_data(unquote(route))
    return f"{masked}?{_mask_query(query)}" if query else masked


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


def _add_masking(target: logging.Filterer) -> None:
    if not any(isinstance(f, MaskingFilter) for f in target.filters):
        target.addFilter(MaskingFilter())


def install_log_masking() -> None:
    """Add the masking filter to every handler of the root and uvicorn loggers (once each), and to the access
    logger itself: its request lines are masked whatever handler a server configuration gives it later."""
    for name in ("", "uvicorn", "uvicorn.access", "uvicorn.error"):
        for handler in logging.getLogger(name).handlers:
            _add_masking(handler)
    _add_masking(logging.getLogger("uvicorn.access"))
