"""EmbeddingGemma's transformer body exported once to ONNX (torch.onnx, dynamo), beside the verified weights in
the model cache, and what decides whether a process needs torch at all."""

from __future__ import annotations

import gc
import logging
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any, cast

from core.models import EMBEDDING_GEMMA, model_path
from core.settings import Settings

log = logging.getLogger(__name__)

ONNX_FOLDER = "embeddinggemma-300m-onnx"
ONNX_MARKER = "exported-from.txt"


def exported_onnx(model: Any, models_dir: Path) -> Path:
    """The folder of the ONNX export, made first when missing or made from other weights or another torch.

    `model` is the sentence-transformers model to export from, or None: then loaded for the export only.
    The caller holds the cache's lock.
    """
    if not onnx_exported(models_dir):
        if model is None:
            from sentence_transformers import SentenceTransformer

            model = SentenceTransformer(str(model_path(EMBEDDING_GEMMA, models_dir)), device="cpu")
        _export_onnx(model, models_dir / ONNX_FOLDER, onnx_source(models_dir))
        del model
        gc.collect()
    return models_dir / ONNX_FOLDER


@contextmanager
def staged(folder: Path, marker: str) -> Iterator[Path]:
    """A fresh staging folder beside `folder` to write into; once written, it gets its marker and replaces `folder`:
    an interrupted export leaves the previous folder (or none), never a half-written one."""
    staging = folder.with_name(folder.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    yield staging
    (staging / ONNX_MARKER).write_text(marker)
    shutil.rmtree(folder, ignore_errors=True)
    staging.rename(folder)


def onnx_source(models_dir: Path) -> str:
    """What the ONNX export was made from: the verified weights' sha256 and the exporting torch's version."""
    return f"{(models_dir / f'{EMBEDDING_GEMMA.name}.verified').read_text().strip()} torch=" + _torch_version()


def onnx_exported(models_dir: Path) -> bool:
    marker = models_dir / ONNX_FOLDER / ONNX_MARKER
    return marker.exists() and marker.read_text() == onnx_source(models_dir)


def torch_needed(settings: Settings) -> bool:
    """Whether embedding with these settings runs torch: gemma on the torch runtime, or its ONNX export still to
    make (e5 runs in numpy, a server elsewhere)."""
    if settings.embedding.backend != "gemma":
        return False
    return settings.embedding.runtime == "torch" or not onnx_exported(settings.models_dir)


def keep_torch_unloaded() -> None:
    """Make `import torch` fail in this process unless it already happened: spaCy's thinc imports torch whenever
    it can (~180 MiB resident), though nothing in a service without `torch_needed` uses it."""
    sys.modules.setdefault("torch", cast(ModuleType, None))  # None in sys.modules: the import raises ImportError


def _torch_version() -> str:
    """The installed torch's version, read without importing torch (the onnx backend runs without it)."""
    from importlib.metadata import version

    return version("torch")


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
    with staged(folder, source) as staging:
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
