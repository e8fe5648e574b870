"""A serving process loads a generation written by another process without waiting for a question: under load every
question may wait in the queue, and a question only looks at the index once admitted (bench/scale.py measured
11-15 s before the watcher)."""

from __future__ import annotations

import gc
import time
from pathlib import Path

from ingest.build import build_index
from ingest.embeddings import E5Embedder
from tests.fixtures.doubles import build_small_index
from tests.fixtures.factories import make_service, make_settings

POOL = "# Piscine municipale\n\nLa piscine municipale d'Arras ouvre le dimanche matin de 8 h à 12 h.\n"


def test_a_new_generation_is_loaded_without_any_question_and_the_watch_ends_with_the_service(tmp_path: Path) -> None:
    index = build_small_index(tmp_path)
    settings = make_settings(embedding__backend="e5", index_dir=index, store__watch_interval_s=0.1)
    service = make_service(settings)
    service.watch_index()
    watcher = service.watcher
    service.watch_index()  # once per service
    assert watcher is not None and watcher.is_alive() and service.watcher is watcher
    deadline = time.monotonic() + 10
    while service.reader.chunks and time.monotonic() < deadline and service._pointer_mtime == 0.0:
        time.sleep(0.05)  # the first look loads the generation the service was handed

    (tmp_path / "corpus" / "piscine.md").write_text(POOL, encoding="utf-8")
    build_index(settings, tmp_path / "corpus", lambda _s: E5Embedder())  # another process's re-index, in effect
    built = time.monotonic()
    while "piscine" not in service.reader.documents and time.monotonic() - built < 5:
        time.sleep(0.05)

    assert "piscine" in service.reader.documents, "the new generation was not loaded without a question"
    assert time.monotonic() - built < 2
    del service
    gc.collect()
    watcher.join(timeout=3)
    assert not watcher.is_alive()
