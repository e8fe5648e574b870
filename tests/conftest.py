"""Shared fixtures: settings pointing at temporary folders, small corpora, a stand-in generator."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.settings import REPO_ROOT, Settings

FIXTURES = Path(__file__).resolve().parent / "fixtures"
CORPUS = REPO_ROOT / "corpus"


@pytest.fixture
def e5_settings(tmp_path: Path) -> Settings:
    """Fast settings: the light e5 embedder and an index in a temporary folder."""
    return Settings(
        embedder="e5",
        index_dir=tmp_path / "index",
        feedback_db=tmp_path / "feedback.sqlite3",
        _env_file=None,  # type: ignore[call-arg]
    )


@pytest.fixture
def corpus_copy(tmp_path: Path) -> Path:
    """A writable copy of the shipped corpus."""
    target = tmp_path / "corpus"
    shutil.copytree(CORPUS, target)
    return target


class StandInGenerator:
    """TEST DOUBLE of bot.generation.Generator: replays a fixed draft, never used outside tests."""

    name = "stand-in"

    def __init__(self, draft: str = "", error: Exception | None = None) -> None:
        self.draft = draft
        self.error = error
        self.prompts: list[str] = []

    def stream(self, system: str, user: str) -> Iterator[str]:
        self.prompts.append(user)
        if self.error:
            raise self.error
        yield from self.draft.split(" ")[:1]
        for word in self.draft.split(" ")[1:]:
            yield " " + word

    def count_tokens(self, text: str) -> int:
        return len(text.split())
