"""Settings in named sections: read from the environment and the settings file, changed by copy, and a variable
that names no setting stops every command instead of being ignored."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from core.settings import REPO_ROOT, Settings, unknown_variables
from tests.fixtures.factories import make_settings


def test_a_section_field_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUABOT_GENERATION__THREADS", "3")
    monkeypatch.setenv("CUABOT_RETRIEVAL__K", "5")
    settings = make_settings(generation__backend="mock")
    assert (settings.generation.threads, settings.generation.backend, settings.retrieval.k) == (3, "mock", 5)
    assert settings.generation.max_tokens == 80  # the rest of the section keeps its defaults


def test_a_section_field_is_read_from_the_settings_file(tmp_path: Path) -> None:
    env_file = tmp_path / "cuabot.env"
    env_file.write_text("CUABOT_EVIDENCE__SHOWN=2\nCUABOT_ACCESS__ADMIN_TOKEN=secret\n", encoding="utf-8")
    settings = Settings(_env_file=env_file)
    assert settings.evidence.shown == 2 and settings.access.admin_token == "secret"


def test_changed_copies_and_validates() -> None:
    settings = make_settings()
    tuned = settings.changed(evidence__lexical_weight=0.5, corpus_dir=Path("/tmp/docs"))
    assert tuned.evidence.lexical_weight == 0.5 and tuned.corpus_dir == Path("/tmp/docs")
    assert tuned.evidence.shown == settings.evidence.shown and settings.evidence.lexical_weight == 0.25
    with pytest.raises(ValidationError, match="strong_evidence_score"):
        settings.changed(answerability__strong_evidence_score=0.1, answerability__min_evidence_score=0.2)
    with pytest.raises(ValidationError, match="reworded_evidence_score"):
        settings.changed(answerability__reworded_evidence_score=0.1, answerability__min_evidence_score=0.2)


def test_a_consistency_rule_names_the_setting_in_french() -> None:
    with pytest.raises(ValidationError, match="CUABOT_GENERATION__BASE_URL est requis"):
        make_settings(generation__backend="openai")


def test_unknown_variables_of_the_environment_and_the_file_are_named(tmp_path: Path) -> None:
    env_file = tmp_path / "cuabot.env"
    env_file.write_text("CUABOT_RETRIEVE_K=5\nCUABOT_RETRIEVAL__K=5\n", encoding="utf-8")
    environ = {"CUABOT_GENERATOR": "mock", "CUABOT_GENERATION__BACKEND": "mock", "CUABOT_INDEX_DIR": "x", "HOME": "/"}
    assert unknown_variables(environ, env_file) == ["CUABOT_GENERATOR", "CUABOT_RETRIEVE_K"]
    assert unknown_variables({"CUABOT_AUTHORITY__NAME": "Ville", "CUABOT_SETTINGS_FILE": "f"}, env_file.parent) == []


def test_a_command_with_an_old_variable_stops_with_exit_2(tmp_path: Path) -> None:
    env = {**os.environ, "CUABOT_SETTINGS_FILE": str(tmp_path / "none.env"), "CUABOT_GENERATOR": "mock"}
    run = subprocess.run(
        [sys.executable, "-c", "from cli.main import main; main()", "--help"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 2 and "Réglages inconnus" in run.stdout and "CUABOT_GENERATOR" in run.stdout
