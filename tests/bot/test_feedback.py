"""Feedback store and privacy: every kind of personal data masked, questions off by default, retention."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from bot.stores.feedback import Feedback, FeedbackStore, open_store, purge
from core.settings import Settings
from tests.fixtures.factories import make_settings

SECRETS = {
    "[courriel]": "jeanne.durand@example.fr",
    "[téléphone]": "+33 6 12 34 56 78",
    "[NIR]": "2 85 05 2A 006 084 36",
    "[IBAN]": "FR76 3000 6000 0112 3456 7890 189",
    "[adresse]": "12 rue Victor Hugo, 62000 Arras",
}
PERSONAL = " ; ".join(SECRETS.values())


def _request(question: str = f"Où est la mairie ? {PERSONAL}") -> Feedback:
    return Feedback(rating="down", origin="api", question=question, answer="Place Guy Mollet [1].", comment=PERSONAL)


def _rows(db: Path) -> list[tuple[str, str, str]]:
    with closing(sqlite3.connect(db)) as connection:
        return connection.execute("SELECT created_at, comment, question FROM feedback ORDER BY id").fetchall()


def _age_rows(db: Path, days: int) -> None:
    """Date every row `days` ago, as if it had been given then."""
    then = (datetime.now(UTC) - timedelta(days=days)).isoformat(timespec="seconds")
    with closing(sqlite3.connect(db)) as connection, connection:
        connection.execute("UPDATE feedback SET created_at = ?", (then,))


def _settings(tmp_path: Path, **overrides: Any) -> Settings:
    return make_settings(feedback_db=tmp_path / "feedback.sqlite3", **overrides)


def test_questions_are_not_kept_by_default(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    assert settings.privacy.store_questions is False
    open_store(settings).add(_request())
    ((_, _, question),) = _rows(settings.feedback_db)
    assert question == ""


def test_every_kind_is_masked_in_comments_and_kept_questions(tmp_path: Path) -> None:
    settings = _settings(tmp_path, privacy__store_questions=True)
    open_store(settings).add(_request())
    ((_, comment, question),) = _rows(settings.feedback_db)
    assert comment == " ; ".join(SECRETS)
    assert question == f"Où est la mairie ? {comment}"
    raw = settings.feedback_db.read_bytes()
    assert not [secret for secret in SECRETS.values() if secret.encode() in raw]


def test_expired_rows_are_purged_on_open(tmp_path: Path) -> None:
    settings = _settings(tmp_path, privacy__feedback_retention_days=30)
    open_store(settings).add(_request())
    _age_rows(settings.feedback_db, 31)
    store = open_store(settings)
    store.add(_request())
    assert len(_rows(settings.feedback_db)) == 1


def test_rows_within_retention_are_kept(tmp_path: Path) -> None:
    settings = _settings(tmp_path, privacy__feedback_retention_days=30)
    open_store(settings).add(_request())
    _age_rows(settings.feedback_db, 29)
    open_store(settings)
    assert len(_rows(settings.feedback_db)) == 1


def test_store_without_retention_keeps_everything(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "feedback.sqlite3", store_questions=False)
    store.add(_request())
    _age_rows(store.path, 3000)
    assert store.purge() == 0
    assert len(_rows(store.path)) == 1


def test_purge_counts_and_skips_a_missing_store(tmp_path: Path) -> None:
    settings = _settings(tmp_path, privacy__feedback_retention_days=10)
    assert purge(settings) == 0 and not settings.feedback_db.exists()
    store = FeedbackStore(settings.feedback_db, store_questions=False)
    for _ in range(3):
        store.add(_request())
    _age_rows(settings.feedback_db, 11)
    store.add(_request())
    assert purge(settings) == 3
    assert len(_rows(settings.feedback_db)) == 1


@pytest.mark.parametrize("days", [0, 3651])
def test_retention_must_be_sensible(tmp_path: Path, days: int) -> None:
    with pytest.raises(ValueError, match="feedback_retention_days"):
        _settings(tmp_path, privacy__feedback_retention_days=days)


def test_cuabot_purge_deletes_old_feedback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from cli import main

    db = tmp_path / "feedback.sqlite3"
    store = FeedbackStore(db, store_questions=False)
    store.add(_request())
    store.add(_request())
    _age_rows(db, 100)
    store.add(_request())
    settings = _settings(tmp_path, privacy__feedback_retention_days=90, analytics_db=tmp_path / "analytics.sqlite3")
    monkeypatch.setattr(main, "get_settings", lambda: settings)
    result = CliRunner().invoke(main.app, ["purge"])
    assert result.exit_code == 0, result.output
    assert "Retours supprimés (plus de 90 jours) : 2" in result.output
    assert len(_rows(db)) == 1
