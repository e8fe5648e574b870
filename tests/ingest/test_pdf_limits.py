"""Hostile PDFs (issue 30, finding 5): refused with a French reason, in bounded memory and time.

Each file is built here from raw PDF bytes: a 1 MB content stream that inflates to 1.1 GB of spaces,
a page tree announcing 10,000 pages, objects nested 100,000 deep, a zip bomb named .pdf.
"""

from __future__ import annotations

import time
import zlib
from pathlib import Path

import psutil
import pytest
from fastapi import HTTPException

from bot.api.routes.staff import check_readable, sniff_suffix
from core.settings import Ingestion
from ingest.loaders import UnreadableFile, load_file
from tests.fixtures.factories import make_settings
from tests.fixtures.pdf_files import raw_pdf, zip_bomb

pytestmark = pytest.mark.security

# Small bounds, so that the test is quick; the defaults are larger (core/settings.py)
LIMITS = Ingestion(pdf_max_memory_mb=256, pdf_timeout_s=30)
TEXT = b"BT /F1 12 Tf 72 720 Td (Bonjour le monde) Tj ET"
MEBIBYTE = 1 << 20


def one_page_pdf(content: bytes, count: int = 1, stream_filter: bytes = b"", extra: list[bytes] | None = None) -> bytes:
    """One page showing `content`; its page tree announces `count` pages."""
    return raw_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count %d >>" % count,
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
            b" /Resources << /Font << /F1 5 0 R >> >> >>",
            b"<< /Length %d%s >>\nstream\n%s\nendstream" % (len(content), stream_filter, content),
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
            *(extra or []),
        ],
        info=6 if extra else None,
    )


def deflated_with_spaces(text: bytes, mebibytes: int) -> bytes:
    """A zlib stream of `text` then `mebibytes` MiB of spaces, about 1 KB a MiB: one block repeated (full flushes)."""
    block = b" " * MEBIBYTE
    compressor = zlib.compressobj(9)
    first = compressor.compress(text + b"\n" + block) + compressor.flush(zlib.Z_FULL_FLUSH)
    again = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    checksum = zlib.adler32(text + b"\n")
    for _ in range(mebibytes):
        checksum = zlib.adler32(block, checksum)
    return first + again * (mebibytes - 1) + b"\x03\x00" + checksum.to_bytes(4, "big")


@pytest.fixture(scope="module")
def inflating_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bomb") / "rapport.pdf"
    path.write_bytes(one_page_pdf(deflated_with_spaces(TEXT, 1100), stream_filter=b" /Filter /FlateDecode"))
    return path


def refusal(path: Path) -> tuple[str, float, float]:
    """The loader's French reason, the seconds it took and how much this process's memory grew (MiB)."""
    process = psutil.Process()
    rss, started = process.memory_info().rss, time.perf_counter()
    with pytest.raises(UnreadableFile) as refused:
        load_file(path, LIMITS)
    return str(refused.value), time.perf_counter() - started, (process.memory_info().rss - rss) / MEBIBYTE


def test_the_test_pdfs_are_read_when_harmless(tmp_path: Path) -> None:
    path = tmp_path / "court.pdf"
    path.write_bytes(one_page_pdf(TEXT))
    assert load_file(path, LIMITS)[0].page_content == "Bonjour le monde"


def test_a_small_pdf_inflating_to_a_gigabyte_is_refused_in_bounded_memory(inflating_pdf: Path) -> None:
    assert inflating_pdf.stat().st_size < 2 * MEBIBYTE
    reason, seconds, grown_mib = refusal(inflating_pdf)
    assert reason.startswith("PDF trop lourd à lire (plus de 256 Mo")
    assert seconds < 20 and grown_mib < 100


def test_a_pdf_announcing_ten_thousand_pages_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "annonce.pdf"
    path.write_bytes(one_page_pdf(TEXT, count=10_000))
    reason, seconds, _ = refusal(path)
    assert reason == "PDF trop long (10000 pages ; maximum 2000)" and seconds < 20


def test_objects_nested_too_deep_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "gigogne.pdf"
    path.write_bytes(one_page_pdf(TEXT, extra=[b"<< /Title (x) /Deep " + b"[" * 100_000 + b"]" * 100_000 + b" >>"]))
    reason, seconds, grown_mib = refusal(path)
    assert reason.startswith("PDF illisible") and seconds < 20 and grown_mib < 100


def test_a_pdf_read_past_its_time_limit_is_refused(inflating_pdf: Path) -> None:
    with pytest.raises(UnreadableFile, match=r"^PDF trop long à lire \(plus de 0,5 s\)$"):
        load_file(inflating_pdf, Ingestion(pdf_timeout_s=0.5))


def test_a_zip_bomb_named_pdf_is_refused_in_the_corpus_and_at_the_upload(tmp_path: Path) -> None:
    path = tmp_path / "archive.pdf"
    path.write_bytes(zip_bomb())
    reason, seconds, grown_mib = refusal(path)
    assert reason.startswith("PDF illisible ou corrompu") and seconds < 20 and grown_mib < 100
    with pytest.raises(HTTPException) as refused:
        sniff_suffix(path.read_bytes(), "archive.pdf")
    assert refused.value.status_code == 415


def test_the_upload_check_refuses_it_and_leaves_the_corpus_as_it_was(inflating_pdf: Path, tmp_path: Path) -> None:
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "guide.md").write_text("# Guide\n\nLa mairie ouvre le lundi.\n", encoding="utf-8")
    settings = make_settings(corpus_dir=folder, ingestion__pdf_max_memory_mb=256)
    data = inflating_pdf.read_bytes()
    assert sniff_suffix(data, "rapport.pdf") == ".pdf"
    with pytest.raises(HTTPException) as refused:
        check_readable(data, ".pdf", folder, settings)
    assert refused.value.status_code == 422 and "PDF trop lourd à lire" in str(refused.value.detail)
    assert sorted(p.name for p in folder.iterdir()) == ["guide.md"]
