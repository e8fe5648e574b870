"""A re-index that fails half-way leaves nothing of its generation behind, the previous one live; a full disk is
told to staff and to `cuabot ingest` in French (a real, small tmpfs as the index folder when root may mount one)."""

from __future__ import annotations

import errno
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from chromadb.errors import InternalError
from fastapi.testclient import TestClient

from bot.api.app import create_api
from core.settings import Settings
from ingest.build import DISK_FULL, DISK_FULL_FIRST, DiskFull, build_index
from ingest.embeddings import E5Embedder
from ingest.store import POINTER, ChromaStore, VectorStore
from tests.fixtures.doubles import build_small_index, write_small_corpus
from tests.fixtures.factories import make_service, make_settings
from tests.fixtures.staff import ADMIN_AUTH, ADMIN_TOKEN

CUABOT = Path(sys.executable).parent / "cuabot"
DAINVILLE = (
    "# Déchetterie de Dainville\n\nLa déchetterie de Dainville est ouverte le samedi de 9 h à 12 h.\n\n"
    "Les déchets verts sont acceptés gratuitement pour les habitants de la communauté urbaine.\n"
)
POOL = "# Piscine municipale\n\nLa piscine municipale d'Arras ouvre le dimanche matin de 8 h à 12 h.\n"
QUESTION = "Quand la déchetterie de Dainville est-elle ouverte ?"
SQLITE_FULL = "Database error: error returned from database: (code: 13) database or disk is full"
FREE_BYTES_LEFT = 4096
TMPFS_SIZE = "4m"  # a one-document index takes about 400 KB


class FailingStore:
    """TEST DOUBLE around Chroma: adding vectors to a collection raises `error`; everything else is Chroma's."""

    def __init__(self, store: ChromaStore, error: Exception) -> None:
        self._store, self._error = store, error

    def add(self, name: str, ids: list[str], vectors: np.ndarray, doc_ids: list[str]) -> None:
        raise self._error

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


def index_state(index: Path, store: VectorStore) -> tuple[str, list[str], set[str]]:
    """The pointer, the generation folders and the store's collections."""
    return (index / POINTER).read_text(), sorted(p.name for p in index.glob("gen-*")), set(store.names())


@pytest.mark.parametrize(
    ("error", "raised"),
    [
        (InternalError(SQLITE_FULL), DiskFull),
        (OSError(errno.ENOSPC, "No space left on device"), DiskFull),
        (RuntimeError("le store ne répond plus"), RuntimeError),
    ],
)
def test_a_failed_write_removes_the_partial_generation(tmp_path: Path, error: Exception, raised: type) -> None:
    index = build_small_index(tmp_path)
    (tmp_path / "corpus" / "piscine.md").write_text(POOL, encoding="utf-8")
    settings = make_settings(embedding__backend="e5", index_dir=index)
    store = ChromaStore.from_settings(settings)
    before = index_state(index, store)

    with pytest.raises(raised) as caught:
        build_index(settings, tmp_path / "corpus", lambda _s: E5Embedder(), FailingStore(store, error))

    assert index_state(index, store) == before
    assert (str(caught.value) == DISK_FULL) is (raised is DiskFull)


def test_a_first_build_on_a_full_disk_promises_no_earlier_index(tmp_path: Path) -> None:
    corpus = write_small_corpus(tmp_path)
    settings = make_settings(embedding__backend="e5", index_dir=tmp_path / "index")
    store = ChromaStore.from_settings(settings)
    full = FailingStore(store, OSError(errno.ENOSPC, "No space left on device"))

    with pytest.raises(DiskFull, match=f"^{re.escape(DISK_FULL_FIRST)}$"):
        build_index(settings, corpus, lambda _s: E5Embedder(), full)

    assert not (settings.index_dir / POINTER).exists() and not list(settings.index_dir.glob("gen-*"))


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A tmpfs of TMPFS_SIZE mounted for the test (skipped where mounting is not permitted)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root: the full-disk test runs as root (CI, the development container)")
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={TMPFS_SIZE}", "tmpfs", str(disk)], capture_output=True, text=True
    )
    if mounted.returncode:
        pytest.skip(f"mounting a tmpfs is not permitted here: {mounted.stderr.strip()}")
    try:
        yield disk
    finally:
        # Lazy: the Chroma clients of this process keep the index's database open until it exits
        subprocess.run(["umount", "--lazy", str(disk)], check=False)


def fill(disk: Path, leave: int) -> None:
    """Write a file that leaves only `leave` bytes free on `disk`."""
    stats = os.statvfs(disk)
    with (disk / "filler").open("wb") as fh:
        fh.write(b"\0" * (stats.f_bavail * stats.f_frsize - leave))


def finished_reindex(client: TestClient) -> dict[str, Any]:
    started = client.post("/api/admin/reindex", headers=ADMIN_AUTH)
    assert started.status_code == 202, started.text
    status: dict[str, Any] = started.json()
    deadline = time.monotonic() + 60
    while status["state"] == "running" and time.monotonic() < deadline:
        time.sleep(0.1)
        status = client.get("/api/admin/reindex", headers=ADMIN_AUTH).json()
    return status


def cuabot_ingest(settings: Settings) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "CUABOT_SETTINGS_FILE": os.devnull,
        "CUABOT_EMBEDDING__BACKEND": "e5",
        "CUABOT_INDEX_DIR": str(settings.index_dir),
        "HF_HUB_OFFLINE": "1",
    }
    command = [str(CUABOT), "ingest", str(settings.corpus_dir)]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)


def test_a_full_disk_keeps_the_previous_index_serving_and_says_so(small_disk: Path, tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "dechetterie.md").write_text(DAINVILLE, encoding="utf-8")
    settings = make_settings(
        embedding__backend="e5",
        index_dir=small_disk / "index",  # the embedded Chroma store too (index/chroma)
        corpus_dir=corpus,
        feedback_db=tmp_path / "fb.sqlite3",
        analytics_db=tmp_path / "analytics.sqlite3",
        access__admin_token=ADMIN_TOKEN,
        answerability__min_evidence_score=0.0,
    )
    assert settings.store.chroma_url is None
    build_index(settings, corpus, lambda _s: E5Embedder())
    service = make_service(settings)
    before = index_state(settings.index_dir, service.reader.store)
    fill(small_disk, FREE_BYTES_LEFT)
    (corpus / "piscine.md").write_text(POOL, encoding="utf-8")

    with TestClient(create_api(service, settings)) as client:
        status = finished_reindex(client)
        assert status["state"] == "failed" and status["error"] == DISK_FULL
        assert index_state(settings.index_dir, service.reader.store) == before

        result = cuabot_ingest(settings)
        assert result.returncode == 1, result.stdout + result.stderr
        assert "Espace disque insuffisant" in result.stdout and "Traceback" not in result.stdout + result.stderr
        assert index_state(settings.index_dir, service.reader.store) == before

        answer = client.post("/api/ask", json={"question": QUESTION}).json()
    assert any("samedi" in quote["text"] for quote in answer["evidence"]), answer
