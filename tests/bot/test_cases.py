"""A démarches page's cases: named to the resident when the question states none, left out when it states one."""

from types import SimpleNamespace
from typing import Any

from langchain_core.documents import Document

from bot.answer.cases import Cases
from bot.answer.service import read_question
from core.types import DocumentInfo, Evidence
from ingest.chunking import chunk_units, make_splitter
from ingest.sentences import sentences_of

DOCUMENTS = "Demande en France › Pièces à fournir"
SECTIONS = {
    f"{DOCUMENTS} › La carte est valide": "- Carte d'identité\n- Photo d'identité\n- Justificatif de domicile",
    f"{DOCUMENTS} › La carte est perdue": "- Déclaration de perte\n- Photo d'identité\n- Timbre fiscal de 25 €",
    f"{DOCUMENTS} › La carte est volée": "- Déclaration de vol faite à la police\n- Photo d'identité",
    "Demande en France › Coût": "Gratuit, sauf en cas de perte ou de vol : 25 €.",
    "Demande en France › Démarche": "La demande se fait dans une mairie équipée d'une station d'enregistrement.",
}


def _cases_and_reader() -> tuple[Cases, Any]:
    units = [Document(page_content=text, metadata={"section": name}) for name, text in SECTIONS.items()]
    chunks = chunk_units(units, DocumentInfo(doc_id="F1341", title="Carte d'identité"), make_splitter(900, 100))
    sentences = sentences_of(chunks, context_chars=60, max_chars=320)
    by_chunk: dict[str, list[int]] = {}
    for row, sentence in enumerate(sentences):
        by_chunk.setdefault(sentence.chunk_id, []).append(row)
    reader: Any = SimpleNamespace(chunks=chunks, sentences=sentences, sentences_by_chunk=by_chunk)
    return Cases(reader), reader


def _evidence_in(reader: Any, section: str) -> Evidence:
    chunk = next(c for c in reader.chunks if c.section == section)
    row = reader.sentences_by_chunk[chunk.chunk_id][0]
    return Evidence(1, reader.sentences[row], chunk, 1.0)


def test_a_question_stating_no_case_is_told_the_cases_its_answer_is_for_first() -> None:
    cases, reader = _cases_and_reader()
    best = _evidence_in(reader, f"{DOCUMENTS} › La carte est perdue")
    question = read_question("Quels papiers pour refaire ma carte d'identité ?", [], 8)
    assert cases.beside(question, best) == ("La carte est perdue", "La carte est valide", "La carte est volée")


def test_a_question_stating_its_case_is_not_told_the_others() -> None:
    cases, reader = _cases_and_reader()
    best = _evidence_in(reader, f"{DOCUMENTS} › La carte est volée")
    question = read_question("Quels papiers si ma carte a été volée ?", [], 8)
    assert cases.beside(question, best) == ()


def test_a_section_without_siblings_has_no_cases() -> None:
    cases, reader = _cases_and_reader()
    best = _evidence_in(reader, "Demande en France › Coût")
    assert cases.beside(read_question("Combien ça coûte ?", [], 8), best) == ()


def test_a_pages_chapters_are_not_cases() -> None:
    cases, reader = _cases_and_reader()
    best = _evidence_in(reader, "Demande en France › Démarche")
    assert cases.beside(read_question("Où faire la demande ?", [], 8), best) == ()  # beside « Coût »: a chapter


def test_the_evidence_holds_no_sentence_of_a_sibling_case() -> None:
    """Best in « La carte est perdue »: the « volée » and « valide » cases' sentences go, another section's stays."""
    cases, reader = _cases_and_reader()
    lost = f"{DOCUMENTS} › La carte est perdue"
    ranked = [_evidence_in(reader, s) for s in (lost, f"{DOCUMENTS} › La carte est volée", "Demande en France › Coût")]
    assert [e.chunk.section for e in cases.same_case(ranked)] == [lost, "Demande en France › Coût"]
