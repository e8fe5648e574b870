"""The ONNX backend of EmbeddingGemma must give the torch backend's vectors (documents and queries)."""

from __future__ import annotations

import numpy as np
import pytest

from ingest.embeddings import build_embedder
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
