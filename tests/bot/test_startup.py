"""Start-up faults: a missing or corrupt model stops `cuabot serve` with the fix; an unreachable model server
degrades the service to evidence only."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bot.answer.generation import build_generator
from bot.answer.prompts import fixed_prefix
from bot.api.app import create_api
from core.models import QWEN_CODER_GGUF
from tests.fixtures.doubles import build_small_index
from tests.fixtures.factories import make_service, make_settings

CUABOT = Path(sys.executable).parent / "cuabot"


def closed_port() -> int:
    """A port nothing listens on (bound then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def small_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_small_index(tmp_path_factory.mktemp("startup"))


def test_unreachable_openai_server_degrades_health_and_answers_with_evidence(small_index: Path) -> None:
    url = f"http://127.0.0.1:{closed_port()}/v1"
    settings = make_settings(
        embedding__backend="e5",
        index_dir=small_index,
        feedback_db=small_index.parent / "fb.sqlite3",
        generation__backend="openai",
        generation__base_url=url,
        answerability__min_evidence_score=0.0,
        answerability__min_question_coverage=0.0,
    )
    generator = build_generator(settings, fixed_prefix(settings.authority))
    service = make_service(settings, generator=generator)
    with TestClient(create_api(service, settings)) as client:
        health = client.get("/api/health").json()
        body = client.post("/api/ask", json={"question": "Quand la déchetterie de Dainville est-elle ouverte ?"}).json()
    assert health["status"] == "degraded" and url in health["reason"] and "injoignable" in health["reason"]
    assert body["outcome"] == "evidence_only" and "samedi" in body["answer"] and body["evidence"]


def serve_with_cache(cache: Path, tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """`cuabot serve` as a real process, with the model cache at `cache` (it must stop before serving)."""
    environment = {
        **os.environ,
        "CUABOT_CACHE_DIR": str(cache),
        "CUABOT_INDEX_DIR": str(tmp_path / "index"),
        "CUABOT_SETTINGS_FILE": str(tmp_path / "absent.env"),
        "COLUMNS": "500",
        **env,
    }
    command = [str(CUABOT), "serve", "--port", str(closed_port())]
    return subprocess.run(command, env=environment, capture_output=True, text=True, timeout=120)


def test_missing_model_stops_start_with_the_file_and_the_fix(tmp_path: Path) -> None:
    result = serve_with_cache(tmp_path / "empty-cache", tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 2
    assert f"modèle absent : {tmp_path / 'empty-cache' / 'models' / QWEN_CODER_GGUF.assembled_name}" in output
    assert "cuabot models install" in output


def test_corrupt_model_stops_start_with_the_file_and_the_fix(tmp_path: Path) -> None:
    models = tmp_path / "cache" / "models"
    models.mkdir(parents=True)
    (models / f"{QWEN_CODER_GGUF.name}.verified").write_text("ok")
    (models / QWEN_CODER_GGUF.assembled_name).write_bytes(b"GGUF truncated")
    result = serve_with_cache(tmp_path / "cache", tmp_path, CUABOT_EMBEDDING__BACKEND="e5")
    output = result.stdout + result.stderr
    assert result.returncode == 2 and "modèle corrompu" in output
    assert str(models / QWEN_CODER_GGUF.assembled_name) in output and "cuabot models install" in output
