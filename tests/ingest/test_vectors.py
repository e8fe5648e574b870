"""How a build computes its vectors (ingest/vectors.py): analysis one group ahead, one embedding call per group."""

import threading

import numpy as np

from core.types import Chunk
from ingest.vectors import Previous, _analysed_ahead, compute_vectors
from tests.fixtures.factories import make_settings


class RecordingEmbedder:
    """A vector that spells out its text (its length and a checksum), and each call's texts."""

    name = "recording"

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        self.calls.append(list(texts))
        return np.array([spelled(text) for text in texts], dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return spelled(text)


def spelled(text: str) -> np.ndarray:
    return np.array([len(text), sum(map(ord, text)) % 9973], dtype=np.float32)


def test_the_next_group_is_analysed_while_this_one_is_embedded() -> None:
    second_cut = threading.Event()

    def cut(group: str) -> str:
        if group == "b":
            second_cut.set()
        return group.upper()

    seen = []
    for group, sentences in _analysed_ahead(["a", "b", "c"], cut):
        if group == "a":  # without the analysis running ahead, "b" is cut only once "a" is handled
            assert second_cut.wait(timeout=10), "the next group was not analysed while this one was handled"
        seen.append((group, sentences))
    assert seen == [("a", "A"), ("b", "B"), ("c", "C")]


def test_each_group_is_embedded_in_one_call_and_each_vector_lands_on_its_text() -> None:
    texts = [
        "Présentez-vous à la mairie. Apportez une photo d'identité récente.",
        "La carte est gratuite. En cas de perte, un timbre fiscal de 25 € est demandé.",
        "Le délai de fabrication est de 3 semaines.",
        "Vous recevez un SMS quand la carte est prête. Elle est à retirer en personne.",
        "Déclarez la perte en ligne.",
    ]
    chunks = [Chunk(f"c{i}", "F1", "Carte d'identité", text, section="Démarche") for i, text in enumerate(texts)]
    embedder = RecordingEmbedder()
    settings = make_settings(embedding__batch_size=2)
    vectors = compute_vectors(settings, chunks, {c.chunk_id for c in chunks}, Previous(), lambda: embedder, {})
    assert len(embedder.calls) == 3  # groups of 2, 2 and 1 passages, each with its sentences
    for chunk in chunks:
        np.testing.assert_array_equal(vectors.passages[chunk.chunk_id], spelled(chunk.embedded_text()))
    assert len(vectors.sentences) >= len(texts) + 3
    for sentence, row in zip(vectors.sentences, vectors.sentence_vectors, strict=True):
        np.testing.assert_array_equal(row, spelled(sentence.context))
