"""Each text is analysed once: spaCy reads every passage once at ingestion, and no stored evidence at question time."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import core.text
from bot.answer.generation import MockGenerator
from ingest.build import build_index
from ingest.embeddings import E5Embedder
from ingest.store import IndexReader
from tests.fixtures.factories import make_service, make_settings

DOCUMENT = (
    "# Déchetterie de Dainville\n\nLa déchetterie de Dainville est ouverte le samedi de 9 h à 12 h.\n"
    "Les déchets verts y sont acceptés gratuitement.\n\n"
    "## Encombrants\n\nLes encombrants sont collectés sur rendez-vous, une fois par mois.\n"
)


class CountingPipeline:
    """The real spaCy pipeline, recording every text it reads."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.texts: list[str] = []

    def pipe(self, texts: Any) -> Iterator[Any]:
        for text in texts:
            self.texts.append(text)
            yield from self.real.pipe([text])


@pytest.fixture
def counting(monkeypatch: pytest.MonkeyPatch) -> CountingPipeline:
    counter = CountingPipeline(core.text.nlp())
    monkeypatch.setattr(core.text, "nlp", lambda: counter)
    core.text.analyse.cache_clear()
    return counter


def test_spacy_reads_each_passage_once_at_ingestion_and_no_evidence_at_question_time(
    tmp_path: Path, counting: CountingPipeline
) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "dechetterie.md").write_text(DOCUMENT, encoding="utf-8")
    settings = make_settings(  # the best sentence alone: the mock's draft, which quotes it, is one sentence
        embedding__backend="e5",
        index_dir=tmp_path / "index",
        answerability__min_evidence_score=0.0,
        evidence__first_shown_chars=0,
    )
    build_index(settings, corpus, lambda _s: E5Embedder())
    reader = IndexReader(settings)
    passages = Counter(chunk.text for chunk in reader.chunks)
    read = Counter(counting.texts)
    assert all(read[text] == 1 for text in passages), read
    headings = {"\n".join(p for p in (c.title, c.section or "") if p) for c in reader.chunks}
    assert sum(read.values()) == len(reader.chunks) + len(headings)

    counting.texts.clear()
    answer = make_service(settings, MockGenerator()).ask("Quand ouvre la déchetterie de Dainville ?")
    assert answer.evidence and answer.sentences, answer.reason
    stored = {e.sentence.context for e in answer.evidence} | {e.sentence.text for e in answer.evidence}
    stored |= {e.chunk.title for e in answer.evidence} | {e.chunk.section or "" for e in answer.evidence}
    assert not stored & set(counting.texts), counting.texts
    assert len(counting.texts) <= 2  # the question, then the model's draft


def test_a_sentence_announcing_a_list_is_read_with_it() -> None:
    from core.types import Chunk
    from ingest.sentences import sentences_of

    text = "Pour obtenir une copie, présentez les pièces suivantes :\n- une pièce d'identité ;\n- le livret de famille."
    chunk = Chunk(chunk_id="d:0", doc_id="d", title="Etat civil", text=text)
    first = sentences_of([chunk], context_chars=60, max_chars=320)[0]
    assert "livret de famille" in first.context and chunk.text[first.start : first.end] == first.context.replace(
        " - ", "\n- "
    )


def test_a_line_offering_an_online_service_or_a_form_is_marked_at_ingestion() -> None:
    """The evidence ranker and the quoted evidence read the mark, never the sentence again, at question time."""
    from core.types import Chunk
    from ingest.sentences import sentences_of

    text = (
        "Vous pouvez faire la demande à la mairie.\n\n"
        "Service en ligne : Demande d'acte de naissance : https://psl.service-public.fr/mademarche/EtatCivil\n\n"
        "Formulaire cerfa n° 15789*02 : Déclaration conjointe : https://www.formulaires.service-public.fr/gf/c\n\n"
        "Le site https://www.service-public.fr en dit plus."
    )
    chunk = Chunk(chunk_id="d:0", doc_id="d", title="Etat civil", text=text)
    marked = [s.offers_service for s in sentences_of([chunk], context_chars=10, max_chars=320)]
    assert marked == [False, True, True, False]


def test_a_sentence_referring_back_is_marked_at_ingestion() -> None:
    """The evidence ranker reads it from what it refers to without reading the sentence again at question time."""
    from core.types import Chunk
    from ingest.sentences import sentences_of

    text = (
        "La déclaration doit être faite dans les 15 jours.\n\n"
        "Dans certains pays, ce délai est porté à 30 jours.\n\n"
        "Elle est gratuite."
    )
    chunk = Chunk(chunk_id="d:0", doc_id="d", title="Naissance", text=text)
    assert [s.refers_back for s in sentences_of([chunk], context_chars=10, max_chars=320)] == [False, True, True]


def test_a_sentences_own_numbers_and_time_of_day_are_stored_at_ingestion() -> None:
    """The read-on compares each sentence's own figures, and an hours question looks for a time of day, from the
    marks stored here, never reading the sentence again at question time. A short line is read with the next one:
    its context's figures are not its own."""
    from core.types import Chunk
    from ingest.sentences import sentences_of

    text = "Accueil :\nLundi de 9 h à 12 h.\n\nLe délai est de 15 jours."
    chunk = Chunk(chunk_id="d:0", doc_id="d", title="Mairie", text=text)
    sentences = sentences_of([chunk], context_chars=10, max_chars=320)
    assert [(s.text, s.own_numbers, s.time_of_day) for s in sentences] == [
        ("Accueil :", (), True),
        ("Lundi de 9 h à 12 h.", ("12", "9"), True),
        ("Le délai est de 15 jours.", ("15",), False),
    ]
    assert {"9", "12"} <= set(sentences[0].numbers)
