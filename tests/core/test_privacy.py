"""Masking of personal data: every kind and spelling replaced by its French label, ordinary facts kept."""

from __future__ import annotations

import logging
import sys

import pytest
from uvicorn.logging import AccessFormatter

from core.privacy import MaskingFilter, anonymise_client, install_log_masking, mask_personal_data, mask_url

PERSONAL = [
    ("écrivez-moi à jeanne.durand@example.fr", "jeanne.durand@example.fr", "[courriel]"),
    ("mail : j.dupont+cua@mairie-arras.gouv.fr.", "j.dupont+cua@mairie-arras.gouv.fr", "[courriel]"),
    ("mon portable : 06 12 34 56 78", "06 12 34 56 78", "[téléphone]"),
    ("mon portable : 0612345678 merci", "0612345678", "[téléphone]"),
    ("mon portable : 06.12.34.56.78", "06.12.34.56.78", "[téléphone]"),
    ("mon portable : 06-12-34-56-78", "06-12-34-56-78", "[téléphone]"),
    ("appelez le +33 6 12 34 56 78", "6 12 34 56 78", "[téléphone]"),
    ("appelez le +33612345678", "612345678", "[téléphone]"),
    ("appelez le +33 (0)6 12 34 56 78", "6 12 34 56 78", "[téléphone]"),
    ("appelez le 0033 6 12 34 56 78", "6 12 34 56 78", "[téléphone]"),
    ("mon fixe 03 21 21 00 00", "03 21 21 00 00", "[téléphone]"),
    ("appelez le 06 12 34 56 78 [1].", "06 12 34 56 78", "[téléphone]"),
    ("le 06 12 34 56 78 2024", "06 12 34 56 78", "[téléphone]"),
    ("à Londres : +44 20 7946 0958 [2].", "7946 0958", "[téléphone]"),
    ("en Angleterre +44 20 7946 0958", "7946 0958", "[téléphone]"),
    ("mon NIR est 1 85 05 78 006 084 36.", "1 85 05 78 006 084 36", "[NIR]"),
    ("sécu 185057800608436", "185057800608436", "[NIR]"),
    ("né à Ajaccio : 2 85 05 2A 006 084 36", "2 85 05 2A 006 084 36", "[NIR]"),
    ("né à Bastia : 285052B00608436", "285052B00608436", "[NIR]"),
    ("IBAN FR76 3000 6000 0112 3456 7890 189 merci", "FR76 3000 6000 0112 3456 7890 189", "[IBAN]"),
    ("IBAN FR7630006000011234567890189", "FR7630006000011234567890189", "[IBAN]"),
    ("compte allemand DE89 3704 0044 0532 0130 00", "DE89 3704 0044 0532 0130 00", "[IBAN]"),
    ("compte anglais GB29NWBK60161331926819", "GB29NWBK60161331926819", "[IBAN]"),
    ("j'habite 12 rue Victor Hugo et je voudrais", "12 rue Victor Hugo", "[adresse]"),
    ("j'habite 12 rue victor hugo et je voudrais", "victor hugo", "[adresse]"),
    ("au 3 bis avenue de la République, 62000 Arras", "République", "[adresse]"),
    ("5, place des Héros", "Héros", "[adresse]"),
    ("14 bd Carnot", "Carnot", "[adresse]"),
    ("14 boulevard Faidherbe", "Faidherbe", "[adresse]"),
    ("7 chemin du Moulin", "Moulin", "[adresse]"),
    ("12 allée des Tilleuls", "Tilleuls", "[adresse]"),
    ("1 impasse Jean Moulin", "Jean Moulin", "[adresse]"),
    ("8 route de Bapaume", "Bapaume", "[adresse]"),
    ("2 quai du Rivage", "Rivage", "[adresse]"),
    ("10 rue de l'Église", "Église", "[adresse]"),
    ("j'habite à 62223 Saint-Laurent-Blangy", "Saint-Laurent-Blangy", "[adresse]"),
    ("62000 Arras", "Arras", "[adresse]"),
    ("numéro fiscal 1234567890123", "1234567890123", "[numéro]"),
]


@pytest.mark.parametrize(("text", "secret", "label"), PERSONAL)
def test_each_kind_and_spelling_is_masked(text: str, secret: str, label: str) -> None:
    masked = mask_personal_data(text)
    assert secret not in masked
    assert label in masked


@pytest.mark.parametrize(
    "text",
    [
        "450 visiteurs en 2024, 46 communes",
        "les 46 communes de la CUA (110 000 habitants)",
        "budget de 12 345 678 euros en 2023-2024",
        "le 12/03/2024 à 14h30, le 15 mars 2024, le 1er janvier 2025",
        "horaires : 8h30-12h, 13h30-17h, tarif 2,50 €, 0,5 %",
        "12 places de parking, 3 avenues principales, 1 place de cinéma, 3 cours de yoga",
        "en 2024 rue Gambetta, la route de 2 km, la ligne 1 du bus",
        "Hôtel de ville, place Guy Mollet, Arras",
        "200000 visiteurs et 62 communes du Pas-de-Calais",
    ],
)
def test_ordinary_facts_are_kept(text: str) -> None:
    assert mask_personal_data(text) == text


def test_masking_keeps_the_rest_of_the_sentence() -> None:
    masked = mask_personal_data("Bonjour, je suis au 06 12 34 56 78, où est la mairie ?")
    assert masked == "Bonjour, je suis au [téléphone], où est la mairie ?"


def test_request_paths_are_decoded_then_masked() -> None:
    assert mask_url("/api/x/a.b%40c.fr?tel=06+12+34+56+78&q=mairie") == "/api/x/[courriel]?tel=[masqué]&q=[masqué]"
    assert mask_url("/api/health?t=%2B33612345678") == "/api/health?t=[masqué]"


@pytest.mark.parametrize(
    ("client", "network"),
    [
        ("192.168.1.57:54321", "192.168.1.0"),
        ("::1:54321", "::"),
        ("[2001:db8::1]:80", "2001:db8::"),
        ("2001:db8:5:6::1", "2001:db8:5::"),
        ("inconnu", "-"),
    ],
)
def test_client_addresses_keep_only_the_network(client: str, network: str) -> None:
    assert anonymise_client(client) == network


def _record(name: str, msg: str, args: object, exc_info: bool = False) -> logging.LogRecord:
    return logging.LogRecord(name, logging.INFO, __file__, 1, msg, args, sys.exc_info() if exc_info else None)  # type: ignore[arg-type]


def test_uvicorn_access_record_keeps_its_arguments() -> None:
    """The seen bug: args collapsed to None made uvicorn's AccessFormatter raise on every request."""
    args = ("127.0.0.1:5555", "GET", "/api/x/jeanne%40example.fr?tel=0612345678", "1.1", 404)
    record = _record("uvicorn.access", '%s - "%s %s HTTP/%s" %d', args)
    assert MaskingFilter().filter(record)
    line = AccessFormatter('%(client_addr)s - "%(request_line)s" %(status_code)s', use_colors=False).format(record)
    assert line == '127.0.0.0 - "GET /api/x/[courriel]?tel=[masqué] HTTP/1.1" 404 Not Found'


def test_mapping_and_object_arguments_are_masked() -> None:
    record = _record("cuabot.x", "%(who)s appelle", ({"who": "jeanne@example.fr"},))
    MaskingFilter().filter(record)
    assert record.getMessage() == "[courriel] appelle"
    record = _record("cuabot.x", "erreur %s, %d", (ValueError("tel 0612345678"), 3))
    MaskingFilter().filter(record)
    assert record.getMessage() == "erreur tel [téléphone], 3"


def test_traceback_and_extra_fields_are_masked() -> None:
    try:
        raise RuntimeError("échec pour jeanne@example.fr")
    except RuntimeError:
        record = _record("uvicorn.error", "Exception in ASGI application", (), exc_info=True)
    record.__dict__["resident"] = "IBAN FR7630006000011234567890189"  # as `extra={"resident": ...}` does
    MaskingFilter().filter(record)
    text = logging.Formatter().format(record)
    assert "RuntimeError: échec pour [courriel]" in text
    assert "jeanne@example.fr" not in text
    assert record.__dict__["resident"] == "IBAN [IBAN]"


def test_install_log_masking_covers_handlers_once(caplog: pytest.LogCaptureFixture) -> None:
    install_log_masking()
    install_log_masking()
    filters = [f for f in caplog.handler.filters if isinstance(f, MaskingFilter)]
    assert len(filters) == 1
    with caplog.at_level(logging.INFO, logger="cuabot.test"):
        logging.getLogger("cuabot.test").info("question: %s", "mon mail est a.b@c.fr")
    assert "a.b@c.fr" not in caplog.text and "[courriel]" in caplog.text
