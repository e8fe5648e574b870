"""Two API processes on one shared index folder: a re-index staff start on one is answered from by both within
5 s of its end; while it runs, the other worker and `cuabot ingest` are refused in French (the index lock)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from bench.load.run import uvicorn_command
from bench.servers import free_port, stop, wait_ready
from ingest.lock import BUSY_ELSEWHERE
from tests.fixtures.doubles import build_small_index
from tests.fixtures.live_server import served_api_env
from tests.fixtures.staff import ADMIN_AUTH, ADMIN_TOKEN

pytestmark = pytest.mark.slow

CUABOT = Path(sys.executable).parent / "cuabot"
POOL = (
    "# Piscine municipale d'Arras\n\n"
    "La piscine municipale d'Arras ouvre le dimanche matin de 8 h à 12 h.\n\n"
    "Le bassin nordique est chauffé toute l'année.\n"
)
POOL_QUESTION = "Quand la piscine municipale d'Arras ouvre-t-elle le dimanche ?"
PICKED_UP_WITHIN_S = 5.0
REINDEX_TIMEOUT_S = 120.0
START_TIMEOUT_S = 120.0


@contextmanager
def two_workers(root: Path, index: Path) -> Iterator[list[tuple[str, subprocess.Popen[bytes]]]]:
    """Two single-process APIs over `index` and the corpus beside it, started side by side: (URL, process) each.
    Their output goes to a server.log under root/a and root/b."""
    settings = {
        "CUABOT_CORPUS_DIR": str(root / "corpus"),
        "CUABOT_ACCESS__ADMIN_TOKEN": ADMIN_TOKEN,
        "CUABOT_ANSWERABILITY__MIN_EVIDENCE_SCORE": "0.0",
        "CUABOT_ADMISSION__RATE_LIMIT": "100000/minute",  # questions asked in a loop from one address
    }
    workers: list[tuple[str, subprocess.Popen[bytes]]] = []
    try:
        for name in ("a", "b"):
            (root / name).mkdir()
            port, env = free_port(), {**os.environ, **served_api_env(root / name, index, **settings)}
            with (root / name / "server.log").open("wb") as log:
                process = subprocess.Popen(uvicorn_command(port), env=env, stdout=log, stderr=subprocess.STDOUT)
            workers.append((f"http://127.0.0.1:{port}", process))
        for url, process in workers:
            wait_ready(f"{url}/api/health", process, START_TIMEOUT_S)
        yield workers
    finally:
        for _, process in workers:
            stop(process)


def answers_from_new_document(client: httpx.Client) -> bool:
    body = client.post("/api/ask", json={"question": POOL_QUESTION}).json()
    return any("piscine" in quote["text"] for quote in body.get("evidence", []))


def picked_up_by(url: str, deadline: float) -> float | None:
    """Seconds before `deadline` when `url` first answered from the new document; None if it did not in time."""
    with httpx.Client(base_url=url, timeout=PICKED_UP_WITHIN_S) as client:
        while time.monotonic() < deadline:
            try:
                if answers_from_new_document(client):
                    return deadline - time.monotonic()
            except httpx.TimeoutException:
                return None
            time.sleep(0.1)
    return None


def cuabot_ingest(root: Path, index: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **served_api_env(root, index)}
    command = [str(CUABOT), "ingest", str(root / "corpus")]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)


def finished(client: httpx.Client) -> dict[str, Any]:
    deadline = time.monotonic() + REINDEX_TIMEOUT_S
    status: dict[str, Any] = client.get("/api/admin/reindex", headers=ADMIN_AUTH).json()
    while status["state"] == "running" and time.monotonic() < deadline:
        time.sleep(0.1)
        status = client.get("/api/admin/reindex", headers=ADMIN_AUTH).json()
    return status


def test_a_reindex_on_one_worker_is_answered_from_by_both(tmp_path: Path) -> None:
    index = build_small_index(tmp_path)
    with two_workers(tmp_path, index) as [(url_a, worker_a), (url_b, _)], httpx.Client(base_url=url_a, timeout=60) as a:
        with httpx.Client(base_url=url_b, timeout=60) as b:
            assert not answers_from_new_document(b)
            added = a.post("/api/admin/documents", headers=ADMIN_AUTH, files={"file": ("piscine.md", POOL.encode())})
            assert added.status_code == 201, added.text

            started = a.post("/api/admin/reindex", headers=ADMIN_AUTH)
            assert started.status_code == 202, started.text
            # A is paused mid-build, holding the lock: the refusals below happen while its build runs, however fast
            worker_a.send_signal(signal.SIGSTOP)
            try:
                refused = b.post("/api/admin/reindex", headers=ADMIN_AUTH)
                beside = cuabot_ingest(tmp_path, index)
            finally:
                worker_a.send_signal(signal.SIGCONT)
            assert refused.status_code == 409 and refused.json()["detail"] == BUSY_ELSEWHERE
            assert beside.returncode == 1 and BUSY_ELSEWHERE in beside.stdout, beside.stdout + beside.stderr

            status = finished(a)
        assert status["state"] == "done" and status["report"]["added"] == ["piscine.md"], status
        deadline = time.monotonic() + PICKED_UP_WITHIN_S
        with ThreadPoolExecutor(2) as pool:
            left = list(pool.map(lambda url: picked_up_by(url, deadline), [url_a, url_b]))
    assert all(seconds is not None for seconds in left), f"not answered from the new document within 5 s: {left}"
