"""Incremental and atomic index builds, with the light e5 embedder and real Chroma and BM25."""

import shutil
from pathlib import Path

import numpy as np
import pytest

from core.settings import Settings
from ingest.build import INDEX_VERSION, BuildReport, build_index, index_signature, outdated_index
from ingest.embeddings import E5Embedder
from ingest.store import IndexReader, read_pointer
from tests.fixtures.doubles import write_corpus, write_small_corpus


class CountingEmbedder(E5Embedder):
    """The real e5 embedder, counting what it is asked to embed."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        self.texts.extend(texts)
        return super().embed_documents(texts)


class FailingEmbedder(E5Embedder):
    def embed_documents(self, texts: list[str]) -> np.ndarray:
        raise KeyboardInterrupt("killed half-way")


@pytest.fixture
def built(e5_settings: Settings, e5_corpus_index: Path) -> Settings:
    """Settings over a copy of the shipped corpus's e5 index, built once per run (a build takes minutes)."""
    shutil.copytree(e5_corpus_index, e5_settings.index_dir)
    return e5_settings


def _dense_top_doc(settings: Settings, question: str) -> str:
    reader = IndexReader(settings)
    return reader.dense(E5Embedder().embed_query(question), 1)[0][0].doc_id


def test_first_build_indexes_every_document(e5_corpus_build: tuple[Settings, BuildReport]) -> None:
    """Read on the run's one build of the shipped corpus from scratch (`e5_corpus_build`)."""
    settings, report = e5_corpus_build
    assert len(report.added) == 5 and not report.skipped and report.embedded_chunks == report.total_chunks
    reader = IndexReader(settings)
    assert len(reader.chunks) == report.total_chunks > 50
    assert {c.doc_id for c in reader.chunks} == {
        "numericamp-livre-blanc-2024",
        "mois-du-numerique-bataille-ia",
        "tribune-ia-revolution-industrielle",
        "forum-ia-lambersart",
        "concertations-territoriales-ia",
    }
    assert any(c.page == 2 for c in reader.chunks)


def test_rerun_on_unchanged_corpus_embeds_nothing(built: Settings, corpus_copy: Path) -> None:
    pointer = read_pointer(built.index_dir)
    counting = CountingEmbedder()
    report = build_index(built, corpus_copy, lambda _s: counting)
    assert counting.texts == [] and len(report.unchanged) == 5 and not report.changed
    assert read_pointer(built.index_dir) == pointer


def test_an_index_of_other_chunking_or_an_earlier_version_is_told_at_start(built: Settings) -> None:
    assert outdated_index(built) is None
    rechunked = built.changed(ingestion__chunk_size=built.ingestion.chunk_size + 100)
    assert "cuabot ingest" in (outdated_index(rechunked) or "")


def test_only_the_edited_file_is_embedded_again(built: Settings, corpus_copy: Path) -> None:
    edited = corpus_copy / "forum-ia-lambersart.txt"
    edited.write_text(edited.read_text(encoding="utf-8") + "\nLa salle des fêtes de Lambersart ouvre le jeudi.\n")
    counting = CountingEmbedder()
    report = build_index(built, corpus_copy, lambda _s: counting)
    assert report.updated == ["forum-ia-lambersart.txt"] and len(report.unchanged) == 4
    reader = IndexReader(built)
    # Passages are embedded with their document's title; sentences alone, each context once
    forum_sentences = {s.context for s in reader.sentences if s.chunk_id.startswith("forum-ia-lambersart:")}
    assert any(t.startswith("Retour sur le forum") for t in counting.texts)
    assert all(t.startswith("Retour sur le forum") or t in forum_sentences for t in counting.texts)
    assert any("salle des fêtes" in c.text for c in reader.chunks)
    assert len(reader.store.vectors(reader.collection, [c.chunk_id for c in reader.chunks])) == len(reader.chunks)
    # The file's passages before the new line keep their text, hence their vectors: only the last is embedded
    forum = [c for c in reader.chunks if c.doc_id == "forum-ia-lambersart"]
    embedded = [t for t in counting.texts if t.startswith("Retour sur le forum")]
    assert report.reused_chunks == len(forum) - len(embedded) > 0 and report.embedded_chunks == len(embedded)


def _vectors_by_text(settings: Settings) -> dict[str, np.ndarray]:
    reader = IndexReader(settings)
    stored = reader.store.vectors(reader.collection, [c.chunk_id for c in reader.chunks])
    return {c.embedded_text(): stored[c.chunk_id] for c in reader.chunks}


def test_a_new_index_version_reads_every_file_again_and_embeds_no_text_it_holds(
    built: Settings, corpus_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After an upgrade that changes how files are read or cut, the same embedder's vectors are found by text."""
    before, sentences = _vectors_by_text(built), len(IndexReader(built).sentences)
    monkeypatch.setattr("ingest.build.INDEX_VERSION", INDEX_VERSION + 1)
    counting = CountingEmbedder()
    report = build_index(built, corpus_copy, lambda _s: counting)
    assert len(report.added) == 5 and outdated_index(built) is None
    assert counting.texts == [] and report.embedded_chunks == 0 and report.reused_chunks == report.total_chunks
    after = _vectors_by_text(built)
    assert after.keys() == before.keys() and all(np.allclose(after[t], before[t], atol=1e-6) for t in before)
    assert len(IndexReader(built).sentences) == sentences


def test_vectors_formed_another_way_are_all_computed_again(e5_settings: Settings, tmp_path: Path) -> None:
    """Sentences embedded under their heading line read other texts: nothing is taken from the index."""
    corpus = write_small_corpus(tmp_path)
    build_index(e5_settings, corpus, lambda _s: E5Embedder())
    report = build_index(e5_settings.changed(embedding__sentence_heading=True), corpus, lambda _s: CountingEmbedder())
    assert report.reused_chunks == 0 and report.embedded_chunks == report.total_chunks > 0
    again = build_index(e5_settings, corpus, lambda _s: CountingEmbedder())  # the first way again, index version kept
    assert again.reused_chunks == 0 and again.embedded_chunks == again.total_chunks


def test_deleted_file_chunks_are_removed(built: Settings, corpus_copy: Path) -> None:
    (corpus_copy / "concertations-territoriales-ia.md").unlink()
    report = build_index(built, corpus_copy, lambda _s: CountingEmbedder())
    assert report.removed == ["concertations-territoriales-ia.md"]
    reader = IndexReader(built)
    assert not any(c.doc_id == "concertations-territoriales-ia" for c in reader.chunks)
    assert all(c.doc_id != "concertations-territoriales-ia" for c, _ in reader.lexical("Interconnectés Trichet", 10))


def test_interrupted_build_leaves_previous_index_usable(built: Settings, corpus_copy: Path) -> None:
    pointer = read_pointer(built.index_dir)
    (corpus_copy / "forum-ia-lambersart.txt").write_text("Texte entièrement nouveau sur les piscines.\n")
    with pytest.raises(KeyboardInterrupt):
        build_index(built, corpus_copy, lambda _s: FailingEmbedder())
    assert read_pointer(built.index_dir) == pointer
    assert _dense_top_doc(built, "Quels ateliers au forum IA de Lambersart ?") == "forum-ia-lambersart"
    reader = IndexReader(built)
    assert not any("piscines" in c.text for c in reader.chunks)
    report = build_index(built, corpus_copy, lambda _s: CountingEmbedder())
    assert report.updated == ["forum-ia-lambersart.txt"]
    assert len(list(built.index_dir.glob("gen-*"))) <= 2


def test_bad_files_are_skipped_and_counted(e5_settings: Settings, tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    fixtures = Path(__file__).resolve().parent.parent / "fixtures" / "loaders"
    for name in ("corrupt.pdf", "guide.md", "image.png", "empty.md"):
        (folder / name).write_bytes((fixtures / name).read_bytes())
    report = build_index(e5_settings, folder, lambda _s: CountingEmbedder())
    assert report.added == ["guide.md"]
    assert {name for name, _ in report.skipped} == {"corrupt.pdf", "image.png", "empty.md"}
    assert all(reason for _, reason in report.skipped)


def test_a_short_sentence_is_embedded_under_its_heading(e5_settings: Settings, tmp_path: Path) -> None:
    """« Elle est gratuite. » says what is free only through its heading: with `embedding.sentence_heading`,
    its vector reads it."""
    settings = e5_settings.changed(embedding__sentence_heading=True)
    assert index_signature(settings) != index_signature(e5_settings)
    folder = write_corpus(
        tmp_path,
        "carte-vitale.md",
        "# Carte Vitale\n\n## Combien coûte la carte ?\n\nElle est gratuite.\n\n"
        "## Comment la commander ?\n\nVous la commandez sur votre compte ameli, rubrique Mes démarches.\n",
    )
    counting = CountingEmbedder()
    build_index(settings, folder, lambda _s: counting)
    assert "Carte Vitale — Combien coûte la carte ?\nElle est gratuite." in counting.texts
    reader = IndexReader(settings)
    question = E5Embedder().embed_query("La carte Vitale est-elle payante ?")
    scores = {s.text: float(v @ question) for s, v in zip(reader.sentences, reader.sentence_vectors, strict=True)}
    assert max(scores, key=lambda text: scores[text]) == "Elle est gratuite.", scores
