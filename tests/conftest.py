"""Shared fixtures: settings pointing at temporary folders, the shipped corpus indexed once with e5."""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

# No test reads a developer's own settings file: tests build theirs with make_settings(), and the code
# under test that calls get_settings() reads this (set before core.settings is first imported).
os.environ["CUABOT_SETTINGS_FILE"] = os.devnull

from core.settings import REPO_ROOT, Settings  # noqa: E402
from tests.fixtures.factories import make_settings  # noqa: E402

if TYPE_CHECKING:
    from ingest.build import BuildReport

FIXTURES = Path(__file__).resolve().parent / "fixtures"
CORPUS = REPO_ROOT / "corpus"


_LOGGERS = ("", "uvicorn", "uvicorn.access", "uvicorn.error", "bm25s", "cuabot")


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """configure_logging reconfigures the process: put pytest's logging back afterwards."""
    saved = {name: logging.getLogger(name) for name in _LOGGERS}
    state = {name: (lg.handlers[:], lg.level, lg.propagate, lg.filters[:]) for name, lg in saved.items()}
    yield
    for name, (handlers, level, propagate, filters) in state.items():
        saved[name].handlers[:] = handlers
        saved[name].setLevel(level)
        saved[name].propagate = propagate
        saved[name].filters[:] = filters


@pytest.fixture
def e5_settings(tmp_path: Path) -> Settings:
    """Fast settings: the light e5 embedder and an index in a temporary folder."""
    return make_settings(
        embedding__backend="e5",
        index_dir=tmp_path / "index",
        feedback_db=tmp_path / "feedback.sqlite3",
    )


@pytest.fixture(scope="session")
def e5_corpus_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, BuildReport]:
    """The shipped corpus indexed once with e5 for the whole run (a build takes over a minute here): the settings
    it was built with and its report, which tests of a first build read rather than building it again."""
    from ingest.build import build_index
    from ingest.embeddings import E5Embedder

    index_dir = tmp_path_factory.mktemp("e5-corpus") / "index"
    settings = make_settings(embedding__backend="e5", index_dir=index_dir)
    return settings, build_index(settings, CORPUS, lambda _s: E5Embedder())


@pytest.fixture(scope="session")
def e5_corpus_index(e5_corpus_build: tuple[Settings, BuildReport]) -> Path:
    """The folder of that index (copy it before changing it)."""
    return e5_corpus_build[0].index_dir


@pytest.fixture
def corpus_copy(tmp_path: Path) -> Path:
    """A writable copy of the shipped corpus."""
    target = tmp_path / "corpus"
    shutil.copytree(CORPUS, target)
    return target
