"""A re-index killed with SIGKILL while it writes the next generation leaves the served one whole."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from bot.answer.generation import MockGenerator
from bot.answer.service import QuestionService
from core.settings import REPO_ROOT
from ingest.embeddings import E5Embedder
from ingest.store import POINTER, IndexReader
from tests.fixtures.doubles import build_small_index
from tests.fixtures.factories import make_settings

CUABOT = Path(sys.executable).parent / "cuabot"
ADDED = [
    "concertations-territoriales-ia.md",
    "tribune-ia-revolution-industrielle.md",
    "mois-du-numerique-bataille-ia.html",
]


def snapshot(index: Path) -> dict[str, str]:
    """sha256 of the pointer and of every file of the generation it names."""
    generation = index / json.loads((index / POINTER).read_text())["generation"]
    files = [index / POINTER, *sorted(p for p in generation.rglob("*") if p.is_file())]
    return {str(p.relative_to(index)): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


def ingest(corpus: Path, index: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "CUABOT_EMBEDDING__BACKEND": "e5", "CUABOT_INDEX_DIR": str(index), "HF_HUB_OFFLINE": "1"}
    env["CUABOT_SETTINGS_FILE"] = str(index.parent / "absent.env")
    return subprocess.Popen(
        [str(CUABOT), "ingest", str(corpus)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def kill_while_writing(process: subprocess.Popen[str], index: Path, before: set[str]) -> None:
    """SIGKILL as soon as the next generation's folder exists (its passages are being embedded)."""
    deadline = time.monotonic() + 120
    while not set(p.name for p in index.glob("gen-*")) - before:
        assert process.poll() is None and time.monotonic() < deadline, "ingest ended before writing a generation"
        time.sleep(0.02)
    time.sleep(0.2)
    assert process.poll() is None, "ingest finished before the kill: nothing was interrupted"
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)


def test_sigkill_during_reindex_keeps_the_served_generation(tmp_path: Path) -> None:
    index = build_small_index(tmp_path)
    corpus = tmp_path / "corpus"
    for name in ADDED:
        shutil.copy(REPO_ROOT / "corpus" / name, corpus / name)
    served = snapshot(index)
    before = {p.name for p in index.glob("gen-*")}

    kill_while_writing(ingest(corpus, index), index, before)

    assert snapshot(index) == served
    settings = make_settings(embedding__backend="e5", index_dir=index, answerability__min_evidence_score=0.0)
    answer = QuestionService(settings, E5Embedder(), MockGenerator(), IndexReader(settings)).ask(
        "Quand la déchetterie de Dainville est-elle ouverte ?"
    )
    assert answer.evidence and "samedi" in answer.evidence[0].sentence.text
    second = ingest(corpus, index)
    output, _ = second.communicate(timeout=300)
    assert second.returncode == 0, output
    assert snapshot(index) != served
    assert {c.doc_id for c in IndexReader(settings).chunks} >= {"dechetterie", "concertations-territoriales-ia"}
