"""The int8 copy of EmbeddingGemma's ONNX export, made once by onnxruntime's own quantisers."""

from __future__ import annotations

import hashlib
import logging
import shutil
from pathlib import Path

from ingest.onnx_export import ONNX_FOLDER, ONNX_MARKER, staged

log = logging.getLogger(__name__)

ONNX_INT8_FOLDER = "embeddinggemma-300m-onnx-int8"
# What the int8 copy is made by: bump when its recipe changes, so that a cached copy is made again
DOWN_PROJECTION_BLOCK = 128
INT8_RECIPE = (
    "dynamic int8, per channel, weights in 7 bits (reduce_range), every linear layer but the MLP's down projection; "
    f"the down projections 8-bit weights in blocks of {DOWN_PROJECTION_BLOCK}, int8 compute (MatMulNBits, "
    "accuracy level 4)"
)
# How the index names the int8 copy's vectors: another recipe gives other vectors, so its index is built again
INT8_IDENTITY = f"gemma-int8-{hashlib.sha256(INT8_RECIPE.encode()).hexdigest()[:8]}"


def quantised_onnx(models_dir: Path) -> Path:
    """The int8 copy of the ONNX export, made once (about a minute) and kept beside it: its folder.

    onnxruntime's own quantisers, in two steps:
    - dynamic quantisation of every linear layer but the MLP's down projections: weights int8 per output
      channel in 7 bits (`reduce_range`: without VNNI, onnxruntime's AVX2 kernels sum pairs of u8 x s8 products
      into 16 bits, which 8-bit weights saturate, cosine 0.983 to float), activations quantised per tensor at run
      time;
    - the down projections, whose input (gate x up) has outliers that one scale per tensor flattens, as
      MatMulNBits: weights 8-bit in blocks of 128, activations quantised per block at run time.
    Cosine to the float vectors: 0.992-0.999 on fiche passages and sentences with 8-bit weights on a VNNI machine,
    about 1.9x the float pace (the down projections left in float gave the same cosines at 1.7x); 0.996-0.998 with
    7-bit weights on an AVX2 machine without VNNI, where 8-bit weights gave 0.983-0.987 (docs/benchmarks.md).
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic

    source, folder = models_dir / ONNX_FOLDER, models_dir / ONNX_INT8_FOLDER
    made_from = f"{(source / ONNX_MARKER).read_text()} {INT8_RECIPE}"
    marker = folder / ONNX_MARKER
    if marker.exists() and marker.read_text() == made_from:
        return folder
    log.info("quantising EmbeddingGemma's ONNX export to int8 (once) into %s", folder)
    with staged(folder, made_from) as staging:
        dynamic = staging / "dynamic"
        dynamic.mkdir()
        quantize_dynamic(
            source / "model.onnx",
            dynamic / "model.onnx",
            weight_type=QuantType.QInt8,
            per_channel=True,
            reduce_range=True,
            nodes_to_quantize=_linear_layers_but_down_projections(source / "model.onnx"),
            use_external_data_format=True,
        )
        _down_projections_in_blocks(dynamic / "model.onnx", staging / "model.onnx")
        shutil.rmtree(dynamic)
    return folder


def _down_projections_in_blocks(model_file: Path, target: Path) -> None:
    """The float MatMul nodes with a weight left in `model_file` (the down projections) as 8-bit MatMulNBits."""
    import onnx
    from onnxruntime.quantization.matmul_nbits_quantizer import DefaultWeightOnlyQuantConfig, MatMulNBitsQuantizer

    config = DefaultWeightOnlyQuantConfig(block_size=DOWN_PROJECTION_BLOCK, is_symmetric=True, accuracy_level=4, bits=8)
    quantizer = MatMulNBitsQuantizer(onnx.load(str(model_file)), algo_config=config)
    quantizer.process()
    quantizer.model.save_model_to_file(str(target), use_external_data_format=True)


def _linear_layers_but_down_projections(model_file: Path) -> list[str]:
    """The MatMul nodes with a weight, but the last of each layer's seven (q, k, v, o, gate, up, down)."""
    import onnx

    graph = onnx.load(str(model_file), load_external_data=False).graph
    weights = {initializer.name for initializer in graph.initializer}
    linear = [node.name for node in graph.node if node.op_type == "MatMul" and any(i in weights for i in node.input)]
    if len(linear) % 7:
        raise RuntimeError(f"export inattendu : {len(linear)} couches linéaires, pas 7 par couche du transformer")
    return [name for position, name in enumerate(linear) if position % 7 != 6]
