"""Late chunking: sentence vectors pooled from their passage's one transformer pass (ingest/vectors.py).

The fast tests run the build with the light e5 embedder dressed as a span embedder; the slow ones check
the pooling against EmbeddingGemma itself.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from core.settings import Settings
from core.types import Chunk, Sentence
from ingest.build import build_index
from ingest.embeddings import E5Embedder, GemmaEmbedder, SpanEmbedder
from ingest.store import IndexReader
from ingest.vectors import context_span
from tests.fixtures.doubles import SpanE5

PASSAGE = (
    "Le Numericamp s'est tenu le 16 avril 2024 à Artois Expo, à Arras.\n"
    "Nicolas DESFACHELLE\n"
    "Directeur général des services de la Communauté Urbaine d'Arras.\n"
    "Budget : 1,2 million d'euros pour le programme de transformation numérique."
)


def _same_words(a: str, b: str) -> bool:
    return re.sub(r"\s+", " ", a).strip() == re.sub(r"\s+", " ", b).strip()


def test_span_embedder_protocol() -> None:
    assert isinstance(SpanE5(), SpanEmbedder)
    assert not isinstance(E5Embedder(), SpanEmbedder)


def test_context_span_uses_offsets_or_finds_the_context() -> None:
    chunk = Chunk("d:0", "d", "Titre", PASSAGE)
    with_offsets = Sentence("d:0:1", "d:0", 1, "Nicolas DESFACHELLE", "x", start=66, end=86)
    assert context_span(chunk, with_offsets) == (66, 86)
    found = Sentence("d:0:0", "d:0", 0, "Budget", "Budget : 1,2 million")
    start, end = context_span(chunk, found) or (0, 0)
    assert PASSAGE[start:end] == "Budget : 1,2 million"
    assert context_span(chunk, Sentence("d:0:9", "d:0", 9, "x", "absent du texte")) is None


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "numericamp.md").write_text(f"# Numericamp\n\n{PASSAGE}\n", encoding="utf-8")
    (folder / "forum.md").write_text(
        "# Forum\n\nLe forum IA de Lambersart a réuni 200 personnes.\nLes ateliers ont porté sur l'emploi.\n",
        encoding="utf-8",
    )
    return folder


def test_late_build_embeds_each_sentence_span_once_and_reports_progress(e5_settings: Settings, tmp_path: Path) -> None:
    settings = e5_settings.changed(embedding__sentence_vectors="late")
    embedder, calls = SpanE5(), []
    report = build_index(settings, _folder(tmp_path), lambda _s: embedder, on_progress=lambda *a: calls.append(a))
    reader = IndexReader(settings)
    assert report.sentence_vectors == "late" and report.embedded_sentences == len(reader.sentences) > 4
    # Each span handed to the embedder is its sentence's context, within the passage's embedded text
    contexts = {s.context for s in reader.sentences}
    assert len(embedder.spans) == len(reader.sentences)
    assert all(any(_same_words(piece, c) for c in contexts) for _, piece in embedder.spans)
    assert embedder.documents == []  # no separate pass: every context was found in its passage
    # The sentence vectors are the span vectors: here, e5 of the context itself
    for sentence, vector in zip(reader.sentences, reader.sentence_vectors, strict=True):
        assert float(vector @ E5Embedder().embed_documents([sentence.context])[0]) > 0.999
    done, total, rate, eta = calls[-1]
    assert done == total == report.total_chunks and rate > 0 and eta == 0
    assert [c[0] for c in calls] == sorted(c[0] for c in calls)
    assert report.passages_per_s > 0 and {"read", "analyse", "embed", "store", "bm25", "write"} <= set(report.timings)


def test_separate_build_embeds_contexts_on_their_own(e5_settings: Settings, tmp_path: Path) -> None:
    settings = e5_settings.changed(embedding__sentence_vectors="separate")
    embedder = SpanE5()
    report = build_index(settings, _folder(tmp_path), lambda _s: embedder)
    reader = IndexReader(settings)
    assert report.sentence_vectors == "separate" and embedder.spans == []
    assert set(embedder.documents) == {c.embedded_text() for c in reader.chunks} | {s.context for s in reader.sentences}


def test_unchanged_chunks_keep_their_late_vectors(e5_settings: Settings, tmp_path: Path) -> None:
    settings = e5_settings.changed(embedding__sentence_vectors="late")
    folder = _folder(tmp_path)
    build_index(settings, folder, lambda _s: SpanE5())
    before = IndexReader(settings)
    (folder / "forum.md").write_text("# Forum\n\nUn tout autre texte sur les piscines.\n", encoding="utf-8")
    embedder = SpanE5()
    report = build_index(settings, folder, lambda _s: embedder)
    after = IndexReader(settings)
    assert report.updated == ["forum.md"] and all("piscines" in passage for passage, _ in embedder.spans)
    old = {s.sentence_id: v for s, v in zip(before.sentences, before.sentence_vectors, strict=True)}
    kept = [(s, v) for s, v in zip(after.sentences, after.sentence_vectors, strict=True) if "numericamp" in s.chunk_id]
    assert kept and all(np.array_equal(old[s.sentence_id], v) for s, v in kept)


# --- Against EmbeddingGemma itself ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def gemma() -> GemmaEmbedder:
    from core.models import EMBEDDING_GEMMA, is_installed
    from core.settings import get_settings

    settings = get_settings()
    if not is_installed(EMBEDDING_GEMMA, settings.models_dir):
        pytest.skip("EmbeddingGemma absent (cuabot models install)")
    return GemmaEmbedder(settings.models_dir, batch_size=4)


def _reference_pooling(gemma: GemmaEmbedder, text: str, span: tuple[int, int]) -> np.ndarray:
    """The span's vector computed apart: token embeddings of the text alone (sentence-transformers' own
    encode); the mean of the tokens overlapping the span (by the tokenizer's offsets) with those pooled with
    any input (<bos>, <eos>, the prompt: the model's pooling includes it); the modules after pooling."""
    import torch

    model = gemma._model
    prompt = model.prompts["document"]
    tokens = model.encode([text], prompt=prompt, output_value="token_embeddings", convert_to_numpy=False)[0]
    encoded = model.tokenizer(prompt + text, return_offsets_mapping=True)
    offsets, ids = encoded["offset_mapping"], encoded["input_ids"]
    assert len(offsets) == len(tokens) and model[1].include_prompt
    start, end = span[0] + len(prompt), span[1] + len(prompt)
    covered = [i for i, (a, b) in enumerate(offsets) if b > a and a < end and b > start]
    assert _same_words(model.tokenizer.decode([ids[i] for i in covered]), text[span[0] : span[1]])
    shared = [i for i, (a, b) in enumerate(offsets) if b <= a or b <= len(prompt)]
    assert len(shared) >= 3  # <bos>, the prompt's tokens, <eos>
    out = {"sentence_embedding": tokens[sorted(shared + covered)].mean(dim=0, keepdim=True)}
    with torch.inference_mode():
        for module in list(model)[2:]:
            out = module(out)
    return out["sentence_embedding"][0].float().numpy()


@pytest.mark.slow
def test_late_vector_is_the_pooling_of_the_passage_tokens_over_the_span(gemma: GemmaEmbedder) -> None:
    title = "Numericamp — Intervenant : Nicolas DESFACHELLE\n"
    texts = [title + PASSAGE, "Un passage plus court, pour que le lot ait du remplissage."]
    sentences = ["Nicolas DESFACHELLE", "Budget : 1,2 million d'euros"]
    spans = [[(texts[0].rindex(s), texts[0].rindex(s) + len(s)) for s in sentences], [(0, 15)]]
    passages, pooled = gemma.embed_with_spans(texts, spans)
    for text, text_spans, vectors in zip(texts, spans, pooled, strict=True):
        for span, vector in zip(text_spans, vectors, strict=True):
            assert float(vector @ _reference_pooling(gemma, text, span)) > 0.9999
    # The passage vectors are the usual ones
    assert (passages * gemma.embed_documents(texts)).sum(axis=1).min() > 0.9999


@pytest.mark.slow
def test_the_whole_passage_span_gives_the_passage_vector(gemma: GemmaEmbedder) -> None:
    texts = ["Numericamp\n" + PASSAGE, "Le forum IA de Lambersart a réuni 200 personnes."]
    passages, pooled = gemma.embed_with_spans(texts, [[(0, len(t))] for t in texts])
    for passage, vectors in zip(passages, pooled, strict=True):
        assert float(passage @ vectors[0]) > 0.999
        np.testing.assert_allclose(np.linalg.norm(vectors[0]), 1.0, rtol=1e-5)


@pytest.mark.slow
def test_a_span_beyond_the_length_limit_is_nan(gemma: GemmaEmbedder) -> None:
    model = gemma._model
    limit = model.max_seq_length
    model.max_seq_length = 16
    try:
        text = PASSAGE
        passages, pooled = gemma.embed_with_spans([text], [[(0, 10), (len(text) - 10, len(text))]])
    finally:
        model.max_seq_length = limit
    assert not np.isnan(pooled[0][0]).any() and np.isnan(pooled[0][1]).all()


@pytest.mark.onnx
def test_the_onnx_backend_gives_the_torch_vectors_without_torch(gemma: GemmaEmbedder) -> None:
    from core.settings import get_settings

    onnx = GemmaEmbedder(get_settings().models_dir, batch_size=4, backend="onnx")
    assert onnx._model is None  # no sentence-transformers model kept: the service's memory
    texts = ["Numericamp\n" + PASSAGE, "Un court.", "Le forum IA de Lambersart a réuni   200 personnes."]
    spans = [[(11, 77), (78, 97), (0, len(texts[0]))], [], [(0, 9), (40, 51)]]
    passages, pooled = gemma.embed_with_spans(texts, spans)
    onnx_passages, onnx_pooled = onnx.embed_with_spans(texts, spans)
    assert (passages * onnx_passages).sum(axis=1).min() > 0.9999
    for vectors, onnx_vectors in zip(pooled, onnx_pooled, strict=True):
        assert vectors.shape == onnx_vectors.shape and (vectors * onnx_vectors).sum(axis=1).min(initial=1) > 0.9999
    question = "Quand a eu lieu le Numericamp ?"
    assert float(gemma.embed_query(question) @ onnx.embed_query(question)) > 0.9999
    assert (onnx.embed_documents(texts) * onnx_passages).sum(axis=1).min() > 0.9999
