"""A real, large French PDF: Debian's reference manual (265 pages), installed by scripts/fetch_debian_reference.sh.

The tests are skipped, with that reason, where the package is not installed (`make corpora`).
"""

from pathlib import Path

import bm25s
import pytest
from pypdf import PdfReader, PdfWriter

from bot.answer.retrieval import Retriever
from core.settings import REPO_ROOT, Settings
from core.types import DocumentInfo
from ingest.build import build_index
from ingest.chunking import chunk_units, make_splitter
from ingest.corpus import overlong_token_share
from ingest.embeddings import E5Embedder
from ingest.loaders import load_file
from ingest.store import IndexReader, tokenize
from tests.fixtures.factories import make_settings

DEBIAN_PDF = next(
    (
        path
        for path in (
            REPO_ROOT / "data" / "corpora" / "debian-reference" / "debian-reference.fr.pdf",
            Path("/usr/share/debian-reference/debian-reference.fr.pdf"),
        )
        if path.exists()
    ),
    None,
)
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        DEBIAN_PDF is None, reason="debian-reference-fr absent : lancez scripts/fetch_debian_reference.sh"
    ),
]
# The excerpt indexed with e5: four pages of chapter 1 (embedding all 265 pages takes many minutes here)
FIRST_PAGE, LAST_PAGE = 30, 33


@pytest.fixture(scope="module")
def units() -> list:
    assert DEBIAN_PDF is not None
    return load_file(DEBIAN_PDF)


def test_words_come_out_separate_without_running_headers(units: list) -> None:
    assert len(units) > 250
    assert overlong_token_share("\n".join(u.page_content for u in units)) < 0.01
    # "Référence Debian 5 / 237" and, in the preface, "Référence Debian xxvi"
    assert not [u.metadata["page"] for u in units if u.page_content.startswith("Référence Debian ")]


def test_a_table_is_read_under_its_caption(units: list) -> None:
    page = next(u for u in units if u.metadata["page"] == 33)
    assert page.page_content.startswith("Table 1.2 – Liste de paquets de documentation\npaquet popcon taille")
    assert "autres documents\ndebian-policy I:21 4379" in page.page_content  # one line per row
    info = DocumentInfo(doc_id="debian-reference", title="Référence Debian")
    row = next(c for c in chunk_units([page], info, make_splitter(900, 150)) if "debian-faq" in c.text)
    assert row.text.startswith("Table 1.2 – Liste de paquets de documentation\n")


def test_lexical_search_over_the_whole_manual_finds_the_page(units: list) -> None:
    info = DocumentInfo(doc_id="debian-reference", title="Référence Debian")
    chunks = chunk_units(units, info, make_splitter(900, 150))
    retriever = bm25s.BM25()
    retriever.index(tokenize([c.embedded_text() for c in chunks]), show_progress=False)
    found, _ = retriever.retrieve(tokenize(["Quel fichier contient le message du jour (Message Of The Day) ?"]), k=1)
    best = chunks[int(found[0][0])]
    assert best.page == 30 and "/etc/motd" in best.text


@pytest.fixture(scope="module")
def excerpt_index(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Pages 30-33 as their own PDF, indexed by the real build with e5 (dense + BM25 + sentences)."""
    assert DEBIAN_PDF is not None
    folder = tmp_path_factory.mktemp("debian") / "docs"
    folder.mkdir()
    writer = PdfWriter()
    for page in PdfReader(DEBIAN_PDF).pages[FIRST_PAGE - 1 : LAST_PAGE]:
        writer.add_page(page)
    writer.write(folder / "debian-chapitre-1.pdf")
    index_dir = folder.parent / "index"
    settings = make_settings(embedding__backend="e5", index_dir=index_dir)
    report = build_index(settings, folder, lambda _s: E5Embedder())
    assert report.added == ["debian-chapitre-1.pdf"]
    return settings


@pytest.mark.parametrize(
    ("question", "page", "fact"),
    [
        ("Dans quel fichier se trouve le message de bienvenue affiché au démarrage ?", 30, "/etc/motd"),
        ("Combien de consoles virtuelles le système Debian propose-t-il par défaut ?", 31, "six consoles"),
        ("Quel paquet contient la FAQ Debian ?", 33, "debian-faq"),
    ],
)
def test_a_question_on_a_page_retrieves_that_page(excerpt_index: Settings, question: str, page: int, fact: str) -> None:
    reader = IndexReader(excerpt_index)
    passages = Retriever(reader, excerpt_index).search(question, E5Embedder().embed_query(question))
    best = passages[0].chunk
    assert (best.page, fact in best.text) == (page - FIRST_PAGE + 1, True), [p.chunk.text[:80] for p in passages[:3]]
