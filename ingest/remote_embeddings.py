"""Embeddings computed by a server: any OpenAI-compatible `POST {base}/v1/embeddings`.

For authorities whose corpus outgrows one machine: vLLM, Hugging Face TEI, Infinity, the State's
Albert API or llama.cpp's own server compute the vectors, this module only sends the texts.

- Batching: at most `embedding.batch_size` texts per request; the vectors come back in input order.
- Retries: 429, 5xx and connection errors (refused, reset, timed out) are tried again, up to
  `embedding.max_attempts` tries in all, after the server's Retry-After (seconds or HTTP date) or an
  exponential back-off (`embedding.retry_base_s` doubled each time, a little jitter, at most
  `embedding.retry_max_s`). Any other answer (401, 404, 413...) is final: retrying would not change it.
- Errors: `EmbeddingServerError` (a `RuntimeError`), in French, naming the server and the setting
  to look at; a 200 whose body is not one finite, non-zero vector per text is refused the same way.
- Vectors are float32 and unit-normalised (as every `Embedder`): the dot product is the cosine.
- Prefixes: e5-style models expect "query: " / "passage: " before the text; others nothing.

Why httpx and not the `openai` package (both are dependencies): the retry policy is part of the
contract here (a setting for the attempts, Retry-After honoured, only 429/5xx/connection errors
retried, each retry logged) and the openai client's own retries are hidden, capped and differently
configured; the openai client also asks for base64 vectors unless told otherwise, validates bodies
into its own models (a garbage answer surfaces as an English pydantic error, or not at all), and
wants `/v1` inside its base URL while TEI and Infinity users often give the bare address. One
explicit POST with httpx keeps every one of those decisions visible and tested in this file.
"""

from __future__ import annotations

import base64
import email.utils
import logging
import random
import threading
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import urlparse

import httpx
import numpy as np

from core.settings import Settings

log = logging.getLogger(__name__)

SETTINGS_HINT = "vérifiez CUABOT_EMBEDDING__URL et que le serveur est démarré"


class EmbeddingServerError(RuntimeError):
    """The embedding server cannot be used: unreachable, refusing, or answering something unreadable."""


@dataclass(frozen=True)
class RemoteConfig:
    """Everything the remote embedder needs (hashable: one client per configuration and process)."""

    url: str
    model: str
    api_key: str | None = None
    batch_size: int = 16
    query_prefix: str = ""
    document_prefix: str = ""
    timeout_s: float = 60.0
    max_attempts: int = 5
    retry_base_s: float = 0.5
    retry_max_s: float = 30.0

    @classmethod
    def from_settings(cls, settings: Settings) -> RemoteConfig:
        if not (settings.embedding.url and settings.embedding.model):
            raise EmbeddingServerError(
                "CUABOT_EMBEDDING__URL et CUABOT_EMBEDDING__MODEL sont requis avec CUABOT_EMBEDDING__BACKEND=openai"
            )
        return cls(
            url=settings.embedding.url,
            model=settings.embedding.model,
            api_key=settings.embedding.api_key,
            batch_size=settings.embedding.batch_size,
            query_prefix=settings.embedding.query_prefix,
            document_prefix=settings.embedding.document_prefix,
            timeout_s=settings.embedding.timeout_s,
            max_attempts=settings.embedding.max_attempts,
            retry_base_s=settings.embedding.retry_base_s,
            retry_max_s=settings.embedding.retry_max_s,
        )

    @property
    def identity(self) -> str:
        """What the vectors depend on, recorded in the index: the model, and the prefixes when there are any."""
        prefixes = f" (préfixes {self.query_prefix!r} / {self.document_prefix!r})"
        return f"openai:{self.model}" + (prefixes if self.query_prefix or self.document_prefix else "")


def embeddings_endpoint(base_url: str) -> str:
    """`{base}/v1/embeddings`, whether the base was given with or without `/v1` (or the whole route)."""
    url = base_url.strip().rstrip("/")
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise EmbeddingServerError(
            f"Adresse du serveur d'embeddings invalide : {base_url!r} (CUABOT_EMBEDDING__URL, par exemple "
            "« http://127.0.0.1:8080 » ou « https://albert.api.etalab.gouv.fr/v1 »)"
        )
    for suffix in ("/embeddings", "/v1"):
        url = url.removesuffix(suffix)
    return f"{url}/v1/embeddings"


def retry_after_seconds(value: str | None) -> float | None:
    """A Retry-After header in seconds: a number of seconds, or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class RemoteEmbedder:
    """The `Embedder` protocol over an OpenAI-compatible embeddings server."""

    def __init__(self, config: RemoteConfig) -> None:
        self.config = config
        self.name = config.identity
        self.endpoint = embeddings_endpoint(config.url)
        headers = {"Authorization": f"Bearer {config.api_key}"} if config.api_key else {}
        self._client = httpx.Client(headers=headers, timeout=httpx.Timeout(config.timeout_s))
        self.dimension: int | None = None
        self.requests = 0  # POSTs sent, retries included
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> RemoteEmbedder:
        return cls(RemoteConfig.from_settings(settings))

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        return self._embed([self.config.document_prefix + text for text in texts])

    def embed_query(self, text: str) -> np.ndarray:
        return self._embed([self.config.query_prefix + text])[0]

    def close(self) -> None:
        self._client.close()

    def _embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension or 0), dtype=np.float32)
        size = self.config.batch_size
        return np.vstack([self._post(texts[start : start + size]) for start in range(0, len(texts), size)])

    def _post(self, batch: list[str]) -> np.ndarray:
        """One batch, tried up to max_attempts times on 429, 5xx and connection errors."""
        payload = {"model": self.config.model, "input": batch, "encoding_format": "float"}
        attempts = self.config.max_attempts
        problem = ""
        for attempt in range(1, attempts + 1):
            with self._lock:
                self.requests += 1
            response: httpx.Response | None = None
            try:
                response = self._client.post(self.endpoint, json=payload)
            except httpx.TimeoutException as exc:
                waited = f"{self.config.timeout_s:g} s ({type(exc).__name__} ; CUABOT_EMBEDDING__TIMEOUT_S)"
                problem = f"pas de réponse en {waited}"
            except httpx.TransportError as exc:
                problem = f"connexion impossible ({type(exc).__name__} : {exc or 'sans détail'})"
            else:
                if response.status_code == 200:
                    return self._vectors(response, len(batch))
                if response.status_code != 429 and response.status_code < 500:
                    raise EmbeddingServerError(self._refusal(response))
                problem = f"HTTP {response.status_code} {_server_message(response)}".rstrip()
            if attempt < attempts:
                wait = self._backoff(attempt, None if response is None else response.headers.get("Retry-After"))
                log.warning(
                    "embeddings %s: %s; try %d/%d, next in %.1f s", self.endpoint, problem, attempt, attempts, wait
                )
                time.sleep(wait)
        raise EmbeddingServerError(
            f"Le serveur d'embeddings {self.endpoint} n'a pas répondu après {attempts} tentative(s) : {problem} "
            f"({SETTINGS_HINT} ; nombre d'essais : CUABOT_EMBEDDING__MAX_ATTEMPTS)."
        )

    def _backoff(self, attempt: int, retry_after: str | None) -> float:
        """The server's Retry-After when it gives one, else base × 2^(attempt-1) with jitter; at most retry_max_s."""
        asked = retry_after_seconds(retry_after)
        if asked is None:
            asked = self.config.retry_base_s * 2 ** (attempt - 1) * random.uniform(1.0, 1.25)
        return min(asked, self.config.retry_max_s)

    def _refusal(self, response: httpx.Response) -> str:
        code = response.status_code
        hint = {
            401: "vérifiez la clé CUABOT_EMBEDDING__API_KEY",
            403: "vérifiez la clé CUABOT_EMBEDDING__API_KEY et ses droits sur ce modèle",
            404: "vérifiez CUABOT_EMBEDDING__URL (l'adresse du serveur, sans /v1/embeddings) "
            "et CUABOT_EMBEDDING__MODEL",
            413: "textes trop longs ou trop nombreux : réduisez CUABOT_EMBEDDING__BATCH_SIZE "
            "ou CUABOT_INGESTION__CHUNK_SIZE",
        }.get(code, f"vérifiez CUABOT_EMBEDDING__MODEL ({self.config.model}) et les réglages du serveur")
        message = _server_message(response)
        return (
            f"Le serveur d'embeddings {self.endpoint} refuse la requête (HTTP {code}"
            f"{' : ' + message if message else ''}) : {hint}."
        )

    def _vectors(self, response: httpx.Response, count: int) -> np.ndarray:
        """One finite, non-zero vector per text, in input order, normalised; anything else is refused."""
        try:
            data = response.json()["data"]
            if not isinstance(data, list) or len(data) != count:
                raise ValueError(f"{len(data) if isinstance(data, list) else 'aucun'} vecteur(s) pour {count} texte(s)")
            if all(isinstance(row.get("index"), int) for row in data):
                data = sorted(data, key=lambda row: row["index"])
            vectors = np.asarray([_vector(row["embedding"]) for row in data], dtype=np.float32)
        except (ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
            raise EmbeddingServerError(
                f"Réponse illisible du serveur d'embeddings {self.endpoint} ({exc}) : est-ce bien un service "
                f"d'embeddings compatible OpenAI, avec le modèle {self.config.model} ? "
                f"Début de la réponse : {response.text[:200]!r}"
            ) from exc
        if vectors.ndim != 2 or vectors.shape[1] == 0 or not np.isfinite(vectors).all():
            raise EmbeddingServerError(
                f"Réponse illisible du serveur d'embeddings {self.endpoint} : vecteurs de forme {vectors.shape} "
                "ou non finis (un vecteur par texte attendu ; pour llama.cpp, lancez-le avec un pooling)."
            )
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        if (norms == 0).any():
            raise EmbeddingServerError(f"Le serveur d'embeddings {self.endpoint} a renvoyé un vecteur nul.")
        if self.dimension is None:
            self.dimension = vectors.shape[1]
        elif vectors.shape[1] != self.dimension:
            raise EmbeddingServerError(
                f"Le serveur d'embeddings {self.endpoint} a changé de dimension ({self.dimension} puis "
                f"{vectors.shape[1]}) : un autre modèle répond-il derrière la même adresse ?"
            )
        return vectors / norms


def _vector(embedding: Any) -> np.ndarray:
    """A list of numbers, or base64 little-endian float32 (what OpenAI sends for encoding_format=base64)."""
    if isinstance(embedding, str):
        return np.frombuffer(base64.b64decode(embedding, validate=True), dtype="<f4")
    if not isinstance(embedding, list) or not all(
        isinstance(x, int | float) and not isinstance(x, bool) for x in embedding
    ):
        raise ValueError("« embedding » n'est pas une liste de nombres (un vecteur par texte : pooling du serveur ?)")
    return np.asarray(embedding, dtype=np.float32)


def _server_message(response: httpx.Response) -> str:
    """The server's own explanation, short: OpenAI's error.message, FastAPI's detail, or the start of the body."""
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:200]
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])[:200]
        for key in ("error", "detail", "message"):
            if body.get(key):
                return str(body[key])[:200]
    return response.text.strip()[:200]


cached_remote_embedder = lru_cache(maxsize=2)(RemoteEmbedder)
