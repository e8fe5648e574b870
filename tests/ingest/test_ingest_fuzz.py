"""Ingestion fuzz: whatever staff drop in the folder, the build reports it in French and never crashes."""

import random
import tempfile
import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from core.settings import Settings
from ingest.build import build_index
from ingest.embeddings import E5Embedder
from ingest.loaders import UnreadableFile, load_file
from ingest.store import IndexReader, read_pointer

FRENCH = "Les encombrants sont collectés à Sainte-Catherine le deuxième mercredi du mois, après inscription."
SUFFIXES = [".pdf", ".html", ".htm", ".md", ".txt"]
# Every reason a loader gives for a file it expected to meet; "fichier illisible (erreur …)", the
# safety net for a parser's own failure, is not among them: the fuzz must not reach it.
EXPECTED_REASONS = (
    "PDF illisible ou corrompu (",
    "PDF incohérent (",
    "PDF protégé par un mot de passe",
    "fichier binaire ou encodage non reconnu",
    "texte mal encodé (",
    "aucun texte exploitable (fichier vide ou image seule)",
)
# Control characters in UTF-8, Windows-1252 and Latin-1 alike; a text file has none of them
CONTROL_BYTES = frozenset([*range(0x00, 0x09), 0x0B, *range(0x0E, 0x20), 0x7F])
BOMS = (b"\xff\xfe", b"\xfe\xff", b"\xef\xbb\xbf", b"\x00\x00\xfe\xff")
# The start of a real PDF, so that the parsers go past their first check
PDF_HEAD = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"


def _load_or_reason(name: str, data: bytes) -> list[str] | str:
    """The units' texts, or the French reason the loader gives for skipping the file."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        try:
            return [unit.page_content for unit in load_file(path)]
        except UnreadableFile as exc:
            return str(exc)


def _has_control_characters(text: str) -> bool:
    return any(unicodedata.category(c) == "Cc" and c not in "\n\t" for c in text)


@hypothesis_settings(
    max_examples=150, deadline=None, database=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    data=st.one_of(st.binary(max_size=3000), st.binary(max_size=3000).map(lambda tail: PDF_HEAD + tail)),
    suffix=st.sampled_from(SUFFIXES),
)
def test_random_bytes_are_read_or_refused_with_a_reason(data: bytes, suffix: str) -> None:
    outcome = _load_or_reason(f"aleatoire{suffix}", data)
    if sum(b in CONTROL_BYTES for b in data) > len(data) / 50 and not data.startswith(BOMS):
        assert isinstance(outcome, str), "bytes that are control characters in every encoding: binary, not text"
    if isinstance(outcome, str):
        assert outcome.startswith(EXPECTED_REASONS), outcome
    else:
        assert suffix != ".pdf", "random bytes can't make a PDF with text"
        assert not any(_has_control_characters(text) for text in outcome), outcome


@pytest.mark.parametrize("encoding", ["latin-1", "cp1252", "utf-16", "utf-8-sig"])
def test_text_files_in_other_encodings_are_read_correctly(encoding: str) -> None:
    text = f"Collecte des déchets\n\n{FRENCH} Coût : 0 €." if encoding == "cp1252" else f"Collecte\n\n{FRENCH}"
    outcome = _load_or_reason("encombrants.txt", text.encode(encoding))
    assert isinstance(outcome, list) and FRENCH in outcome[0]


def test_bad_files_are_skipped_with_a_reason_and_the_index_keeps_serving(e5_settings: Settings, tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "encombrants.md").write_text(f"# Encombrants\n\n{FRENCH}\n", encoding="utf-8")
    (folder / "horaires.md").write_text("# Horaires\n\nLa médiathèque ouvre le samedi.\n", encoding="utf-8")
    settings = e5_settings.changed(ingestion__max_document_bytes=20_000)
    embedder = E5Embedder()
    build_index(settings, folder, lambda _s: embedder)
    pointer = read_pointer(settings.index_dir)

    noise = random.Random(12).randbytes
    (folder / "horaires.md").write_bytes(noise(2000))  # an indexed file overwritten by garbage
    (folder / "aleatoire.pdf").write_bytes(noise(4000))
    (folder / "aleatoire.html").write_bytes(noise(4000))
    (folder / "tronque.pdf").write_bytes(PDF_HEAD + noise(500))
    (folder / "vide.md").write_bytes(b"")
    (folder / "vide.pdf").write_bytes(b"")
    (folder / "enorme.txt").write_text(FRENCH * 300, encoding="utf-8")
    report = build_index(settings, folder, lambda _s: embedder)

    reasons = dict(report.skipped)
    assert reasons == {
        "horaires.md": "fichier binaire ou encodage non reconnu ; l'ancienne version reste dans l'index",
        "aleatoire.pdf": reasons["aleatoire.pdf"],
        "aleatoire.html": "fichier binaire ou encodage non reconnu",
        "tronque.pdf": reasons["tronque.pdf"],
        "vide.md": "aucun texte exploitable (fichier vide ou image seule)",
        "vide.pdf": "PDF illisible ou corrompu (EmptyFileError)",
        "enorme.txt": "fichier trop volumineux (30 Ko ; maximum 20 Ko)",
    }
    assert reasons["aleatoire.pdf"].startswith("PDF illisible ou corrompu (")
    assert reasons["tronque.pdf"].startswith(("PDF illisible ou corrompu (", "PDF incohérent ("))
    assert not report.changed and read_pointer(settings.index_dir) == pointer
    reader = IndexReader(settings)
    assert [c.doc_id for c, _ in reader.lexical("médiathèque samedi", 1)] == ["horaires"]

    for name in ("aleatoire.pdf", "aleatoire.html", "tronque.pdf", "vide.md", "vide.pdf", "enorme.txt"):
        (folder / name).unlink()
    (folder / "latin1.txt").write_bytes(f"Tarifs\n\nLe ticket coûte 1,50 € à Arras.\n{FRENCH}".encode("cp1252"))
    (folder / "unicode.txt").write_text("Piscine\n\nLa piscine Aquarena ouvre à 9 h.\n", encoding="utf-16")
    report = build_index(settings, folder, lambda _s: embedder)
    assert sorted(report.added) == ["latin1.txt", "unicode.txt"]
    texts = {c.doc_id: c.text for c in IndexReader(settings).chunks}
    assert "1,50 € à Arras" in texts["latin1"] and "Aquarena ouvre à 9 h" in texts["unicode"]
    assert "médiathèque ouvre le samedi" in texts["horaires"]
