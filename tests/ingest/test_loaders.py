from pathlib import Path

import pytest

from core.types import DocumentInfo
from ingest.chunking import chunk_units, heading_before, make_splitter, speaker_before
from ingest.loaders import UnreadableFile, load_file

LOADERS = Path(__file__).resolve().parent.parent / "fixtures" / "loaders"
CORPUS = Path(__file__).resolve().parents[2] / "corpus"


def test_pdf_keeps_page_numbers() -> None:
    units = load_file(LOADERS / "two_pages.pdf")
    assert [u.metadata["page"] for u in units] == [1, 2]
    assert "médiathèque de Dainville" in units[0].page_content
    assert "conseil communautaire" in units[1].page_content


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("corrupt.pdf", "corrompu"),
        ("encrypted.pdf", "mot de passe"),
        ("empty.md", "aucun texte"),
        ("image.png", "non pris en charge"),
    ],
)
def test_bad_files_raise_a_clear_reason(name: str, reason: str) -> None:
    with pytest.raises(UnreadableFile, match=reason):
        load_file(LOADERS / name)


def test_html_drops_navigation_and_keeps_sections() -> None:
    units = load_file(LOADERS / "page_with_nav.html")
    text = " ".join(u.page_content for u in units)
    assert "Mentions légales" not in text and "Démarches" not in text
    sections = {u.metadata["section"]: u.page_content for u in units}
    assert "mardi" in sections["Calendrier"]
    assert "rendez-vous" in sections["Encombrants"]
    assert units[0].metadata["title"] == "Collecte des déchets"


def test_markdown_headings_become_sections() -> None:
    sections = {u.metadata["section"]: u.page_content for u in load_file(LOADERS / "guide.md")}
    assert "3 euros" in sections["Tarifs"]
    assert "en ligne" in sections["Inscription"]


def test_white_paper_pdf_has_real_pages_without_running_footers() -> None:
    units = load_file(CORPUS / "numericamp-livre-blanc-2024.pdf")
    assert len(units) > 20
    assert not any("Livre blanc — page" in u.page_content for u in units)
    assert any("450 visiteurs" in u.page_content for u in units[:3])


def test_chunks_carry_metadata_and_speaker() -> None:
    units = load_file(CORPUS / "mois-du-numerique-bataille-ia.html")
    info = DocumentInfo(doc_id="mois", title="La Bataille de l'IA", author="Mickaël Audegond")
    chunks = chunk_units(units, info, make_splitter(900, 150))
    with_number = next(c for c in chunks if "64 actions" in c.text)
    assert with_number.speaker == "Mickaël Audegond"
    assert with_number.section and "Mois du numérique" in with_number.section
    assert with_number.embedded_text().startswith("La Bataille de l'IA — ")
    unit = next(u for u in units if "64 actions" in u.page_content)
    assert unit.page_content[with_number.start : with_number.end] == with_number.text


def test_heading_and_speaker_detection() -> None:
    text = "TABLE-RONDE 2\nLE NUMÉRIQUE ÉCO-RESPONSABLE\nUne phrase normale qui se termine.\nJean Dupont : bonjour."
    assert heading_before(text, len(text)) == "LE NUMÉRIQUE ÉCO-RESPONSABLE"
    assert speaker_before(text, len(text)) == "Jean Dupont"
