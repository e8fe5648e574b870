"""Security probe (issue 30): personal data the masking missed, query strings and forged lines in the logs."""

from __future__ import annotations

import io
import logging

import pytest

from core.logs import configure_logging, escape_controls
from core.privacy import BIRTH_DATE, CARD, IBAN, NAME, install_log_masking, mask_personal_data
from tests.fixtures.factories import make_settings

pytestmark = pytest.mark.security

MISSED = [
    ("iban fr76 3000 6000 0112 3456 7890 189 merci", "fr76 3000 6000 0112 3456 7890 189", IBAN),
    ("iban fr7630006000011234567890189", "fr7630006000011234567890189", IBAN),
    ("ma carte 4970 1012 3456 7893 a été refusée", "4970 1012 3456 7893", CARD),
    ("ma carte 5555-5555-5555-4444", "5555-5555-5555-4444", CARD),
    ("carte American Express 3782 822463 10005", "3782 822463 10005", CARD),
    ("j'habite 12 r. Victor Hugo", "Victor Hugo", "[adresse]"),
    ("au 3 av. de la République", "République", "[adresse]"),
    ("au 3 all. des Tilleuls", "Tilleuls", "[adresse]"),
    ("au 4 imp. Jean Moulin", "Jean Moulin", "[adresse]"),
    ("au 8 rte de Bapaume", "Bapaume", "[adresse]"),
    ("au 7 chem. du Moulin", "Moulin", "[adresse]"),
    ("au 2 pl. des Héros", "Héros", "[adresse]"),
    ("au 14 bd carnot", "carnot", "[adresse]"),
    ("Je suis Jean Dupont, né le 12/03/1985, pour la carte", "Jean Dupont", NAME),
    ("Je suis Jean Dupont, né le 12/03/1985, pour la carte", "12/03/1985", BIRTH_DATE),
    ("ma fille Léa née le 3 mars 2015", "Léa", NAME),
    ("ma fille Léa née le 3 mars 2015", "3 mars 2015", BIRTH_DATE),
    ("Camille Martin, né(e) le 01.02.2003", "Camille Martin", NAME),
    ("demandeur né le 1er janvier 1950", "1er janvier 1950", BIRTH_DATE),
]


@pytest.mark.parametrize(("text", "secret", "label"), MISSED)
def test_data_the_probe_found_in_clear_is_masked(text: str, secret: str, label: str) -> None:
    masked = mask_personal_data(text)
    assert secret not in masked and label in masked


@pytest.mark.parametrize(
    "text",
    [
        "carte 4970 1012 3456 7890 (clé de Luhn fausse : pas une carte)",
        "de12 mois pour deux",
        "né le premier du mois",
        "le 12/03/2024 à 14h30, 2 rte",
    ],
)
def test_look_alikes_stay_readable(text: str) -> None:
    assert mask_personal_data(text) == text


def _access(path: str) -> None:
    logging.getLogger("uvicorn.access").info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:40000", "GET", path, "1.1", 200)


def test_access_log_keeps_no_query_value(restore_logging: None, capsys: pytest.CaptureFixture[str]) -> None:
    """A name has no shape to find: the probe's « ?nom=Jean+Dupont » stayed in clear."""
    configure_logging(make_settings(privacy__log_json=False))
    _access("/api/health?nom=Jean+Dupont&ville=Arras")
    out = capsys.readouterr().out
    assert '"GET /api/health?nom=[masqué]&ville=[masqué] HTTP/1.1" 200' in out
    assert "Dupont" not in out and "Arras" not in out


def test_access_logger_masks_under_a_handler_added_later(restore_logging: None) -> None:
    """A server configuration that replaces the access handler (uvicorn's own) still writes masked lines."""
    install_log_masking()
    stream = io.StringIO()
    access = logging.getLogger("uvicorn.access")
    access.handlers[:] = [logging.StreamHandler(stream)]
    access.setLevel(logging.INFO)
    _access("/api/health?courriel=jeanne.durand%40example.fr")
    assert stream.getvalue().startswith('127.0.0.0 - "GET /api/health?courriel=[masqué] HTTP/1.1" 200')


FORGED = "INFO cuabot.api: administrateur connecté"


@pytest.mark.parametrize("control", ["\n", "\r", "\r\n", "\x0b", "\x1b[2J", "\u2028", "\x85"])
def test_plain_text_logs_cannot_be_forged(
    restore_logging: None, capsys: pytest.CaptureFixture[str], control: str
) -> None:
    configure_logging(make_settings(privacy__log_json=False))
    logging.getLogger("cuabot.api").warning("question refusée : %s", f"horaires ?{control}{FORGED}")
    _access(f"/api/x%0A{FORGED.replace(' ', '%20')}?q=1")
    out, err = capsys.readouterr()
    for text in (out, err):
        (line,) = text.splitlines()
        assert FORGED in line and not line.startswith("INFO cuabot.api")
        assert escape_controls(line) == line
    assert "horaires ?" + escape_controls(control) + FORGED in err
    assert "/api/x\\nINFO" in out


def test_plain_text_traceback_stays_on_one_line(restore_logging: None, capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(make_settings(privacy__log_json=False))
    try:
        raise ValueError(f"question illisible\n{FORGED}")
    except ValueError:
        logging.getLogger("cuabot.api").exception("échec")
    (line,) = capsys.readouterr().err.splitlines()
    assert "\\nTraceback" in line and f"ValueError: question illisible\\n{FORGED}" in line


def test_escape_controls_writes_them_as_json_does() -> None:
    assert escape_controls("a\nb\rc\td\x1be\x7f\u2028") == "a\\nb\\rc\\td\\u001be\\u007f\\u2028"
    assert escape_controls("Numericamp 2024 : 450 visiteurs") == "Numericamp 2024 : 450 visiteurs"
