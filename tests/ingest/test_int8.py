"""The int8 recipe's rewrite of an MLP (smoothing, peak channels split off in float) keeps its output."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime
from onnx import TensorProto, helper, numpy_helper

from ingest.int8 import FLOAT_CHANNELS, _smooth_and_split, mlps_of

HIDDEN, INNER = 16, FLOAT_CHANNELS + 40


def _mlp_model(rng: np.random.Generator) -> onnx.ModelProto:
    """down(gelu(x @ gate) * (x @ up)), as the export writes each layer's MLP."""
    weights = {
        "gate_w": rng.normal(size=(HIDDEN, INNER)),
        "up_w": rng.normal(size=(HIDDEN, INNER)),
        "down_w": rng.normal(size=(INNER, HIDDEN)),
    }
    nodes = [
        helper.make_node("MatMul", ["x", "gate_w"], ["gate"], name="gate"),
        helper.make_node("Gelu", ["gate"], ["gelu"], name="gelu"),
        helper.make_node("MatMul", ["x", "up_w"], ["up"], name="up"),
        helper.make_node("Mul", ["gelu", "up"], ["inner"], name="inner"),
        helper.make_node("MatMul", ["inner", "down_w"], ["y"], name="down"),
    ]
    graph = helper.make_graph(
        nodes,
        "mlp",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, HIDDEN])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, HIDDEN])],
        [numpy_helper.from_array(w.astype(np.float32), name) for name, w in weights.items()],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 20)])


def _run(model: onnx.ModelProto, x: np.ndarray, folder: Path) -> np.ndarray:
    onnx.save(model, str(folder / "model.onnx"))
    session = onnxruntime.InferenceSession(str(folder / "model.onnx"), providers=["CPUExecutionProvider"])
    return np.asarray(session.run(["y"], {"x": x})[0])


def test_the_rewritten_mlp_gives_the_same_output_with_its_peak_channels_in_float(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    model = _mlp_model(rng)
    x = rng.normal(size=(5, HIDDEN)).astype(np.float32)
    before = _run(model, x, tmp_path)
    peak = np.abs(rng.normal(size=INNER)).astype(np.float32)
    peak[[3, 77]] = 40.0  # two outlier channels
    (mlp,) = mlps_of(model.graph)
    assert (mlp.gate.name, mlp.up.name, mlp.down.name) == ("gate", "up", "down")

    in_float = _smooth_and_split(model.graph, mlp, peak)

    np.testing.assert_allclose(_run(model, x, tmp_path), before, rtol=1e-4, atol=1e-4)
    nodes = {node.name: node for node in model.graph.node}
    assert in_float == "down_float" and "down" not in nodes
    float_weight = numpy_helper.to_array(next(i for i in model.graph.initializer if i.name == "down_float_weight"))
    assert float_weight.shape == (FLOAT_CHANNELS, HIDDEN)
