"""Peak resident memory of the real service (`cuabot serve`) answering questions, against the
models alone (the embedder and llama.cpp loaded in a bare process), both sampled the same way."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil

from bench.report import Figure
from bench.servers import free_port

SECTION = "Memory"
SAMPLE_S = 0.1
START_TIMEOUT_S = 600.0

_MODELS_ALONE = """
from core.settings import get_settings
from bot.answer.generation import LlamaCppGenerator
from ingest.embeddings import get_embedder
settings = get_settings()
get_embedder(settings).embed_query("question")
LlamaCppGenerator(settings, [])
"""


class PeakRss:
    """Largest resident set of a process and its children seen so far."""

    def __init__(self, pid: int) -> None:
        self._process = psutil.Process(pid)
        self.peak = 0

    def sample(self) -> None:
        try:
            processes = [self._process, *self._process.children(recursive=True)]
            self.peak = max(self.peak, sum(p.memory_info().rss for p in processes))
        except psutil.NoSuchProcess:
            pass


def models_alone_peak() -> int:
    process = subprocess.Popen([sys.executable, "-c", _MODELS_ALONE], stdout=subprocess.DEVNULL)
    rss = PeakRss(process.pid)
    while process.poll() is None:
        rss.sample()
        time.sleep(SAMPLE_S)
    return rss.peak


def _post(url: str, question: str) -> None:
    body = json.dumps({"question": question}).encode("utf-8")
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=300) as response:
        response.read()


def _wait_ready(base: str, process: subprocess.Popen[bytes], rss: PeakRss) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline and process.poll() is None:
        rss.sample()
        try:
            with urllib.request.urlopen(f"{base}/api/health", timeout=2):
                return
        except OSError:
            time.sleep(SAMPLE_S * 5)
    raise RuntimeError("le service n'a pas démarré")


def service_peak(questions: list[str], env: dict[str, str] | None = None) -> tuple[int, int]:
    """Peak RSS of `cuabot serve` from start-up to the last answer (sampled in a thread meanwhile), and its
    RSS once the last answer is in; `env` is added to the environment (settings to compare)."""
    import threading

    port = free_port()
    cuabot = Path(sys.executable).with_name("cuabot")
    process = subprocess.Popen(
        [str(cuabot), "serve", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, **(env or {})},
    )
    rss, done = PeakRss(process.pid), threading.Event()

    def sampler() -> None:
        while not done.is_set():
            rss.sample()
            time.sleep(SAMPLE_S)

    thread = threading.Thread(target=sampler, daemon=True)
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_ready(base, process, rss)
        thread.start()
        for question in questions:
            _post(f"{base}/api/ask", question)
        after = PeakRss(process.pid)
        after.sample()
    finally:
        done.set()
        process.terminate()
        process.wait(timeout=30)
    return rss.peak, after.peak


# The service before 2026-11-30: the question embedder in sentence-transformers (torch, so torch is loaded), the
# language model's file mapped beside its repacked weights
BEFORE = {"CUABOT_EMBEDDING__RUNTIME": "torch", "CUABOT_GENERATION__USE_MMAP": "true"}


def run(questions: list[str]) -> list[Figure]:
    """The service's peak RSS and its RSS after the questions, today's settings beside the torch embedder's."""
    alone = models_alone_peak()
    peak, after = service_peak(questions)
    peak_before, after_before = service_peak(questions, BEFORE)
    mib = 1024 * 1024
    label = "torch embedder (before)"
    return [
        Figure(
            SECTION,
            f"peak RSS of the service ({len(questions)} questions)",
            peak / mib,
            alone / mib,
            "models alone",
            "MiB",
        ),
        Figure(
            SECTION,
            f"peak RSS of the service ({len(questions)} questions)",
            peak / mib,
            peak_before / mib,
            label,
            "MiB",
        ),
        Figure(
            SECTION,
            f"RSS of the service after {len(questions)} questions",
            after / mib,
            after_before / mib,
            label,
            "MiB",
        ),
    ]
