"""FeedbackStore: personal data masked before storage, questions only when allowed, CSV export."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from bot.stores.feedback import Feedback, FeedbackReason, FeedbackStore

EMAIL = "jeanne.dupont@example.org"
PHONE = "06 12 34 56 78"


def _request(**overrides: str) -> Feedback:
    fields: dict[str, Any] = {
        "question": f"Mon adresse est {EMAIL}, appelez le {PHONE} : où est la mairie ?",
        "answer": f"Écrivez à {EMAIL} ou appelez le {PHONE} [1].",
        "rating": "down",
        "comment": f"Rappelez-moi au {PHONE}",
        "origin": "widget",
    }
    fields.update(overrides)
    return Feedback(**fields, reasons=(FeedbackReason.INCORRECT, FeedbackReason.OFF_TOPIC))


def _export(store: FeedbackStore, tmp_path: Path) -> list[dict[str, str]]:
    dest = tmp_path / "export" / "feedback.csv"
    store.export_csv(dest)
    with dest.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_creates_database_and_parent_folder(tmp_path: Path) -> None:
    db = tmp_path / "nested" / "folder" / "feedback.sqlite3"
    store = FeedbackStore(db, store_questions=False)
    assert store.add(_request()) == 1
    assert store.add(_request(rating="up")) == 2
    assert db.exists()


def test_personal_data_never_reaches_the_file(tmp_path: Path) -> None:
    db = tmp_path / "feedback.sqlite3"
    FeedbackStore(db, store_questions=True).add(_request())
    raw = db.read_bytes()
    assert EMAIL.encode() not in raw
    assert PHONE.encode() not in raw
    assert PHONE.replace(" ", "").encode() not in raw
    assert "où est la mairie".encode() in raw


def test_questions_dropped_unless_enabled(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "feedback.sqlite3", store_questions=False)
    store.add(_request())
    (row,) = _export(store, tmp_path)
    assert row["question"] == ""
    assert row["answer"]


def test_questions_kept_masked_when_enabled(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "feedback.sqlite3", store_questions=True)
    store.add(_request())
    (row,) = _export(store, tmp_path)
    assert "où est la mairie" in row["question"]
    assert EMAIL not in row["question"]


def test_csv_export_has_header_and_rows(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "feedback.sqlite3", store_questions=False)
    store.add(_request())
    store.add(_request(rating="up", origin="helpdesk", comment="Très clair"))
    dest = tmp_path / "feedback.csv"
    assert store.export_csv(dest) == 2
    rows = _export(store, tmp_path)
    header = dest.read_text(encoding="utf-8").splitlines()[0]
    assert header == "id,created_at,origin,rating,reasons,comment,question,answer"
    assert [row["origin"] for row in rows] == ["widget", "helpdesk"]
    assert [row["rating"] for row in rows] == ["down", "up"]
    assert rows[1]["comment"] == "Très clair"
    assert "hors sujet" in rows[0]["reasons"]
    assert "Écrivez à" in rows[0]["answer"]


def test_export_of_empty_store_writes_header_only(tmp_path: Path) -> None:
    dest = tmp_path / "empty.csv"
    assert FeedbackStore(tmp_path / "feedback.sqlite3", store_questions=False).export_csv(dest) == 0
    assert dest.read_text(encoding="utf-8").strip() == "id,created_at,origin,rating,reasons,comment,question,answer"
