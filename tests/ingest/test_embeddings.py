"""The ONNX backend of EmbeddingGemma must give the torch backend's vectors (documents and queries); its int8
copy close ones, recorded as another embedder."""

from __future__ import annotations

from collections import Counter

import numpy as np
import onnx
import pytest

from ingest.embeddings import build_embedder
from ingest.int8 import INT8_RECIPE, quantised_onnx
from ingest.onnx_export import ONNX_MARKER
from ingest.store import embedder_identity
from tests.fixtures.factories import make_settings

# Texts of the kind the corpus holds (dates, places, amounts), of different lengths (padding)
TEXTS = [
    "Le Numericamp s'est tenu le 16 avril 2024 à Artois Expo, à Arras.",
    "La Communauté Urbaine d'Arras regroupe 46 communes et environ 108 000 habitants, "
    "et pilote avec les communes membres le programme de transformation numérique du territoire.",
    "Budget : 1,2 million d'euros.",
]


@pytest.mark.onnx
def test_onnx_backend_gives_the_torch_vectors() -> None:
    torch_embedder = build_embedder(make_settings(embedding__backend="gemma", embedding__runtime="torch"))
    onnx_embedder = build_embedder(make_settings(embedding__backend="gemma", embedding__runtime="onnx"))
    documents = (torch_embedder.embed_documents(TEXTS) * onnx_embedder.embed_documents(TEXTS)).sum(axis=1)
    query = float(
        torch_embedder.embed_query("Quand a eu lieu le Numericamp ?")
        @ onnx_embedder.embed_query("Quand a eu lieu le Numericamp ?")
    )
    assert documents.min() >= 0.999
    assert query >= 0.999
    np.testing.assert_allclose(np.linalg.norm(onnx_embedder.embed_documents(TEXTS[:1]), axis=1), 1.0, rtol=1e-5)


@pytest.mark.slow
def test_int8_runtime_stays_close_to_the_float_vectors_and_is_quantised_once() -> None:
    float_embedder = build_embedder(make_settings(embedding__backend="gemma", embedding__runtime="onnx"))
    int8_settings = make_settings(embedding__backend="gemma", embedding__runtime="int8")
    int8_embedder = build_embedder(int8_settings)
    question = "Quand a eu lieu le Numericamp ?"
    documents = (float_embedder.embed_documents(TEXTS) * int8_embedder.embed_documents(TEXTS)).sum(axis=1)
    assert documents.min() >= 0.99
    assert float(float_embedder.embed_query(question) @ int8_embedder.embed_query(question)) >= 0.99
    # Not the float vectors: the index records another embedder, so switching runtimes rebuilds it
    assert documents.max() < 0.99999
    # Named by its recipe: an index of the 8-bit recipe's vectors (named "gemma-int8") is built again
    assert embedder_identity(int8_settings).startswith("gemma-int8-")
    assert "reduce_range" in INT8_RECIPE
    assert embedder_identity(int8_settings.changed(embedding__runtime="onnx")) == "gemma"
    folder = quantised_onnx(int8_settings.models_dir)
    assert INT8_RECIPE in (folder / ONNX_MARKER).read_text()
    # Six linear layers per transformer layer quantised dynamically, the seventh (the down projection) in blocks
    nodes = Counter(node.op_type for node in onnx.load(str(folder / "model.onnx"), load_external_data=False).graph.node)
    assert nodes["MatMulNBits"] > 0 and nodes["MatMulInteger"] == 6 * nodes["MatMulNBits"]
    made = (folder / "model.onnx").stat().st_mtime_ns
    build_embedder(int8_settings)
    assert (folder / "model.onnx").stat().st_mtime_ns == made  # reused, not quantised again


@pytest.mark.slow
def test_an_int8_documents_vector_does_not_depend_on_the_texts_embedded_with_it() -> None:
    """Each text runs alone (several at once): a passage embedded in a full build and again in an incremental
    one, beside other passages, gets the same vector; so does a document embedded like a query's text."""
    embedder = build_embedder(make_settings(embedding__backend="gemma", embedding__runtime="int8"))
    together = embedder.embed_documents(TEXTS)
    alone = np.vstack([embedder.embed_documents([text]) for text in reversed(TEXTS)])[::-1]
    np.testing.assert_array_equal(together, alone)
