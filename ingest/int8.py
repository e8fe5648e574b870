"""The int8 copy of EmbeddingGemma's ONNX export, made once by onnxruntime's dynamic quantiser.

Every linear layer runs in int8: weights per output channel in 7 bits (`reduce_range`: without VNNI, onnxruntime's
AVX2 kernels sum pairs of u8 x s8 products into 16 bits, which 8-bit weights saturate), activations quantised per
tensor at run time. One scale per tensor flattens the input of the MLP's down projections (gelu(gate) x up), whose
few channels run 10-40 times the median, so before quantising, each MLP is rewritten with the same output:
- SmoothQuant (Xiao et al., 2023): channel j of that input divided by s_j = sqrt(peak_j / max|W_down[j]|), folded
  into the up projection's column j, and W_down's row j multiplied by it, which moves half the spread into weights;
- the `FLOAT_CHANNELS` channels still highest after it (their columns of gate and up moved last) split off and
  multiplied in float, the rest in int8.
The peaks are measured on `CALIBRATION_TEXTS` (both prompts), run through the float export.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.models import EMBEDDING_GEMMA, model_path
from ingest.onnx_export import ONNX_FOLDER, ONNX_MARKER, staged

log = logging.getLogger(__name__)

ONNX_INT8_FOLDER = "embeddinggemma-300m-onnx-int8"
# SmoothQuant's migration strength (0.5: the spread shared evenly between activations and weights) and the
# down projection's input channels left in float after it; chosen on fiche passages and sentences, 2026-12-06
SMOOTHING = 0.5
FLOAT_CHANNELS = 128
# Short texts of the kinds the corpora hold (procedures, lists, amounts, dates, manuals, news, debate), run through
# the float export to find each channel's peak; not taken from any evaluation corpus
CALIBRATION_TEXTS = (
    "Pour inscrire votre enfant à la cantine, présentez-vous à l'accueil de la mairie avec un justificatif de "
    "domicile de moins de trois mois.",
    "Le marché couvert est ouvert du mardi au samedi, de 8 h à 13 h ; il est fermé les jours fériés.",
    "La déchèterie accepte les déchets verts, le bois, les gravats et les encombrants, dans la limite de 2 m³ par "
    "semaine.",
    "Quels documents faut-il fournir pour une demande de permis de construire ?",
    "Le montant de l'aide est de 150 € par foyer, versé en une seule fois sur le compte bancaire du demandeur.",
    "Vous pouvez contester l'amende dans un délai de 45 jours à compter de la date d'envoi de l'avis de contravention.",
    "Attention : la demande doit être faite au moins trois semaines avant la date prévue.",
    "- Pièce d'identité en cours de validité\n- Livret de famille\n- Justificatif de domicile",
    "Pour installer le paquet, lancez la commande « apt install » suivie du nom du paquet, puis redémarrez le service.",
    "Le fichier de configuration se trouve dans /etc/ ; modifiez la ligne correspondante et enregistrez.",
    "L'intelligence artificielle transforme déjà le travail des agents publics : tri du courrier, réponses aux "
    "usagers, traduction.",
    "Lors du débat, plusieurs habitants ont demandé davantage de transparence sur l'usage des données personnelles.",
    "Le conseil communautaire se réunit une fois par mois ; les séances sont publiques et retransmises en direct.",
    "Si vous avez perdu votre carte, déclarez la perte en ligne puis prenez rendez-vous dans une mairie équipée "
    "d'un dispositif de recueil.",
    "Un mineur doit être accompagné de la personne qui exerce l'autorité parentale lors du dépôt du dossier.",
    "La taxe s'élève à 86 € pour un adulte et à 42 € pour un enfant de 15 à 17 ans ; elle est gratuite avant 15 ans.",
    "Le bus de la ligne 3 dessert la gare, l'hôpital et le campus universitaire toutes les dix minutes en semaine.",
    "Question : puis-je payer par chèque ? Réponse : oui, à l'ordre du Trésor public, ou par carte bancaire au "
    "guichet.",
    "Les travaux de voirie entraîneront une déviation rue Gambetta du 4 au 22 mars ; le stationnement y sera interdit.",
    "Le dispositif a permis d'accompagner 1 250 personnes en 2023, soit une hausse de 12 % par rapport à l'année "
    "précédente.",
    "Cette option désactive la vérification des dépendances ; à n'utiliser qu'en connaissance de cause.",
    "Votre demande est transmise au service instructeur, qui vous répond par courrier sous deux mois ; sans "
    "réponse, elle est réputée acceptée.",
)
# What the int8 copy is made by: a cached copy made otherwise is made again, and an index of its vectors rebuilt
INT8_RECIPE = (
    "dynamic int8, per channel, weights in 7 bits (reduce_range), every linear layer; the MLP's down projection "
    f"input smoothed (SmoothQuant, alpha {SMOOTHING}) and its {FLOAT_CHANNELS} peak channels in float, calibrated "
    f"on texts {hashlib.sha256(''.join(CALIBRATION_TEXTS).encode()).hexdigest()[:8]}"
)
# How the index names the int8 copy's vectors: another recipe gives other vectors, so its index is built again
INT8_IDENTITY = f"gemma-int8-{hashlib.sha256(INT8_RECIPE.encode()).hexdigest()[:8]}"


@dataclass(frozen=True)
class Mlp:
    """One transformer layer's MLP in the export: down(gelu(gate(x)) * up(x))."""

    gate: Any  # onnx NodeProto, MatMul
    up: Any
    down: Any

    @property
    def inner(self) -> str:
        """The down projection's input: gelu(gate) x up."""
        return str(self.down.input[0])


def quantised_onnx(models_dir: Path) -> Path:
    """The int8 copy of the ONNX export, made once (about two minutes) and kept beside it: its folder."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    source, folder = models_dir / ONNX_FOLDER, models_dir / ONNX_INT8_FOLDER
    made_from = f"{(source / ONNX_MARKER).read_text()} {INT8_RECIPE}"
    marker = folder / ONNX_MARKER
    if marker.exists() and marker.read_text() == made_from:
        return folder
    log.info("quantising EmbeddingGemma's ONNX export to int8 (once) into %s", folder)
    with staged(folder, made_from) as staging:
        model = onnx.load(str(source / "model.onnx"))
        mlps = mlps_of(model.graph)
        peaks = _calibration_peaks(model, mlps, models_dir, staging / "calibration")
        in_float = {_smooth_and_split(model.graph, mlp, peak) for mlp, peak in zip(mlps, peaks, strict=True)}
        prepared = staging / "prepared"
        prepared.mkdir()
        onnx.save(model, str(prepared / "model.onnx"), save_as_external_data=True, location="model.onnx.data")
        del model
        quantize_dynamic(
            prepared / "model.onnx",
            staging / "model.onnx",
            weight_type=QuantType.QInt8,
            per_channel=True,
            reduce_range=True,
            nodes_to_quantize=[name for name in _linear_layers(prepared / "model.onnx") if name not in in_float],
            use_external_data_format=True,
        )
        shutil.rmtree(prepared)
    return folder


def mlps_of(graph: Any) -> list[Mlp]:
    """Each layer's MLP, found by its shape: a MatMul whose input is gelu(MatMul) x MatMul."""
    producer = {output: node for node in graph.node for output in node.output}
    mlps = []
    for node in graph.node:
        product = producer.get(node.input[0]) if node.op_type == "MatMul" else None
        if product is None or product.op_type != "Mul":
            continue
        sources = [producer.get(name) for name in product.input]
        gelu = next((n for n in sources if n is not None and n.op_type == "Gelu"), None)
        up = next((n for n in sources if n is not None and n.op_type == "MatMul"), None)
        gate = producer.get(gelu.input[0]) if gelu is not None else None
        if up is not None and gate is not None and gate.op_type == "MatMul":
            mlps.append(Mlp(gate, up, node))
    if not mlps:
        raise RuntimeError("export inattendu : aucun MLP gelu(gate) x up -> down trouvé")
    return mlps


def _calibration_peaks(model: Any, mlps: list[Mlp], models_dir: Path, folder: Path) -> list[np.ndarray]:
    """Each MLP's peak |value| per channel of the down projection's input, over the calibration texts."""
    import onnx
    import onnxruntime
    from tokenizers import Tokenizer

    calibration = onnx.ModelProto()
    calibration.CopyFrom(model)  # saving moves the weights' data out of the proto saved
    calibration.graph.output.extend(
        onnx.helper.make_tensor_value_info(mlp.inner, onnx.TensorProto.FLOAT, None) for mlp in mlps
    )
    folder.mkdir()
    onnx.save(calibration, str(folder / "model.onnx"), save_as_external_data=True, location="model.onnx.data")
    del calibration
    session = onnxruntime.InferenceSession(str(folder / "model.onnx"), providers=["CPUExecutionProvider"])
    weights = model_path(EMBEDDING_GEMMA, models_dir)
    tokenizer = Tokenizer.from_file(str(weights / "tokenizer.json"))
    prompts = json.loads((weights / "config_sentence_transformers.json").read_text())["prompts"]
    peaks = [np.zeros(0, dtype=np.float32) for _ in mlps]
    for prompt in (prompts["document"], prompts["query"]):
        for text in CALIBRATION_TEXTS:
            ids = np.array([tokenizer.encode(prompt + text).ids], dtype=np.int64)
            inners = session.run([mlp.inner for mlp in mlps], {"input_ids": ids, "attention_mask": np.ones_like(ids)})
            for row, inner in enumerate(inners):
                peak = np.abs(inner[0]).max(axis=0)
                peaks[row] = np.maximum(peaks[row], peak) if peaks[row].size else peak
    del session
    shutil.rmtree(folder)
    return peaks


def _smooth_and_split(graph: Any, mlp: Mlp, peak: np.ndarray) -> str:
    """Rewrite one MLP as the module's docstring says (the same output in exact arithmetic); the name of the
    down projection's part left in float."""
    from onnx import helper, numpy_helper

    initializers = {initializer.name: initializer for initializer in graph.initializer}
    gate, up, down = (numpy_helper.to_array(initializers[node.input[1]]) for node in (mlp.gate, mlp.up, mlp.down))
    spread = np.maximum(np.abs(down).max(axis=1), 1e-5)
    scale = (np.maximum(peak, 1e-5) ** SMOOTHING / spread ** (1 - SMOOTHING)).astype(np.float32)
    highest = np.argsort(-peak / scale)[:FLOAT_CHANNELS]
    order = np.concatenate([np.setdiff1d(np.arange(len(peak)), highest), np.sort(highest)])
    for node, array in ((mlp.gate, gate[:, order]), (mlp.up, (up / scale)[:, order])):
        initializers[node.input[1]].CopyFrom(numpy_helper.from_array(np.ascontiguousarray(array), node.input[1]))
    down = (down * scale[:, None])[order]
    kept = len(peak) - FLOAT_CHANNELS
    name = mlp.down.name
    graph.initializer.extend(
        [
            numpy_helper.from_array(np.array([kept, FLOAT_CHANNELS], dtype=np.int64), f"{name}_sizes"),
            numpy_helper.from_array(np.ascontiguousarray(down[:kept]), f"{name}_int8_weight"),
            numpy_helper.from_array(np.ascontiguousarray(down[kept:]), f"{name}_float_weight"),
        ]
    )
    rewritten = [
        helper.make_node("Split", [mlp.inner, f"{name}_sizes"], [f"{name}_in", f"{name}_peaks"], axis=-1),
        helper.make_node("MatMul", [f"{name}_in", f"{name}_int8_weight"], [f"{name}_int8_out"], name=f"{name}_int8"),
        helper.make_node(
            "MatMul", [f"{name}_peaks", f"{name}_float_weight"], [f"{name}_float_out"], name=f"{name}_float"
        ),
        helper.make_node("Add", [f"{name}_int8_out", f"{name}_float_out"], list(mlp.down.output), name=f"{name}_sum"),
    ]
    position = list(graph.node).index(mlp.down)
    graph.node.remove(mlp.down)
    for offset, node in enumerate(rewritten):
        graph.node.insert(position + offset, node)
    graph.initializer.remove(initializers[mlp.down.input[1]])
    return f"{name}_float"


def _linear_layers(model_file: Path) -> list[str]:
    """The MatMul nodes with a weight (the transformer's linear layers; attention's products have none)."""
    import onnx

    graph = onnx.load(str(model_file), load_external_data=False).graph
    weights = {initializer.name for initializer in graph.initializer}
    return [node.name for node in graph.node if node.op_type == "MatMul" and any(i in weights for i in node.input)]
