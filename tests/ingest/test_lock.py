"""One build at a time per index folder: a build held by another process refuses the next one at once, in French,
whether it is started by the library, `cuabot ingest` or the staff route."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bot.api.app import create_api
from core.settings import REPO_ROOT
from ingest.build import build_index
from ingest.lock import BUSY_ELSEWHERE, IndexBusy, IndexLock
from tests.fixtures.doubles import build_small_index
from tests.fixtures.factories import make_service, make_settings
from tests.fixtures.staff import ADMIN_AUTH, ADMIN_TOKEN

CUABOT = Path(sys.executable).parent / "cuabot"
# Takes the lock, says so, keeps it until its stdin closes
HOLD = """
import sys
from pathlib import Path
from ingest.lock import IndexLock
lock = IndexLock(Path(sys.argv[1]))
lock.acquire()
print("held", flush=True)
sys.stdin.read()
"""


@contextmanager
def held_by_another_process(index_dir: Path) -> Iterator[None]:
    """The index folder's build lock taken by a separate Python process until the block ends."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(index_dir)], cwd=REPO_ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == b"held\n"
        yield
    finally:
        holder.communicate(timeout=30)  # closing its stdin ends it


@pytest.fixture(scope="module")
def small_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_small_index(tmp_path_factory.mktemp("lock"))


def test_a_second_holder_is_refused_until_the_first_releases(tmp_path: Path) -> None:
    first, second = IndexLock(tmp_path / "index"), IndexLock(tmp_path / "index")
    first.acquire()
    with pytest.raises(IndexBusy, match="lancée par un autre processus"):
        second.acquire()
    first.release()
    with second:
        assert (tmp_path / "index" / ".build.lock").exists()


def test_a_build_is_refused_while_another_process_builds(small_index: Path) -> None:
    settings = make_settings(embedding__backend="e5", index_dir=small_index)
    generations = sorted(small_index.glob("gen-*"))
    with held_by_another_process(small_index), pytest.raises(IndexBusy):
        build_index(settings, small_index.parent / "corpus")
    assert sorted(small_index.glob("gen-*")) == generations


def test_cuabot_ingest_says_so_and_exits_non_zero(small_index: Path) -> None:
    env = {
        **os.environ,
        "CUABOT_EMBEDDING__BACKEND": "e5",
        "CUABOT_INDEX_DIR": str(small_index),
        "CUABOT_SETTINGS_FILE": str(small_index.parent / "absent.env"),
        "HF_HUB_OFFLINE": "1",
    }
    with held_by_another_process(small_index):
        result = subprocess.run(
            [str(CUABOT), "ingest", str(small_index.parent / "corpus")],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert result.returncode == 1, result.stdout + result.stderr
    assert BUSY_ELSEWHERE in result.stdout and "Traceback" not in result.stdout + result.stderr


def test_the_staff_route_answers_409_then_builds_once_the_lock_is_free(small_index: Path) -> None:
    settings = make_settings(
        embedding__backend="e5",
        index_dir=small_index,
        corpus_dir=small_index.parent / "corpus",
        feedback_db=small_index.parent / "fb.sqlite3",
        analytics_db=small_index.parent / "analytics.sqlite3",
        access__admin_token=ADMIN_TOKEN,
    )
    with TestClient(create_api(make_service(settings), settings)) as client:
        with held_by_another_process(small_index):
            refused = client.post("/api/admin/reindex", headers=ADMIN_AUTH)
        assert refused.status_code == 409 and refused.json()["detail"] == BUSY_ELSEWHERE
        assert client.get("/api/admin/reindex", headers=ADMIN_AUTH).json()["state"] == "idle"
        started = client.post("/api/admin/reindex", headers=ADMIN_AUTH)
        assert started.status_code == 202, started.text
        status = started.json()
        deadline = time.monotonic() + 60
        while status["state"] == "running" and time.monotonic() < deadline:
            time.sleep(0.1)
            status = client.get("/api/admin/reindex", headers=ADMIN_AUTH).json()
    assert status["state"] == "done", status
    IndexLock(small_index).acquire()  # released by the build's thread
