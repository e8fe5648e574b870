"""Hostile uploads through the real staff route, with the admin token (issue 29).

Each file is made here: a 200 MB upload streamed in chunks (never held in memory by the test), a PDF of 10,000 real
pages sharing one content stream, a PDF whose object nests arrays 100,000 deep, a zip bomb named .pdf. Each is
refused with a French reason, in bounded time and memory, and leaves the corpus folder and the live index as they
were. The API is served by uvicorn on loopback over a one-document e5 index.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator

import httpx
import psutil
import pytest

from bot.api.app import create_api
from core.settings import Settings
from ingest.store import POINTER
from tests.fixtures.doubles import build_small_index
from tests.fixtures.factories import e5_index_settings, make_service
from tests.fixtures.live_server import live_server
from tests.fixtures.pdf_files import raw_pdf, zip_bomb
from tests.fixtures.staff import ADMIN_AUTH, ADMIN_TOKEN

pytestmark = pytest.mark.security

UPLOAD = "/api/admin/documents"
MEBIBYTE = 1 << 20
UPLOAD_LIMIT = 20 * MEBIBYTE  # the default
PDF_TIMEOUT_S = 120.0  # the default: every refusal must come well before it
WELL_UNDER_S = PDF_TIMEOUT_S / 4
BOUNDARY = "frontiere-de-test"


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    root = tmp_path_factory.mktemp("hostile")
    index = build_small_index(root)
    return e5_index_settings(
        root,
        index,
        corpus_dir=root / "corpus",
        access__admin_token=ADMIN_TOKEN,
        api__upload_max_bytes=UPLOAD_LIMIT,
        ingestion__pdf_timeout_s=PDF_TIMEOUT_S,
    )


@pytest.fixture(scope="module")
def api(settings: Settings) -> Iterator[str]:
    with live_server(create_api(make_service(settings), settings)) as url:
        yield url


def snapshot(settings: Settings) -> dict[str, str]:
    """Every file of the corpus folder (hidden ones included) by its hash, and the live index's pointer."""
    files = {
        path.relative_to(settings.corpus_dir).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(settings.corpus_dir.rglob("*"))
        if path.is_file()
    }
    pointer = settings.index_dir / POINTER
    return {**files, POINTER: f"{pointer.read_text(encoding='utf-8')} {pointer.stat().st_mtime_ns}"}


def pdf_of_pages(pages: int, extra: bytes = b"") -> bytes:
    """`pages` real pages, all showing one shared content stream (objects 1-3, the pages from 4); `extra` is
    added to the catalog."""
    text = b"BT /F1 12 Tf 72 720 Td (La mairie ouvre le lundi) Tj ET"
    kids = b" ".join(b"%d 0 R" % (4 + page) for page in range(pages))
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 3 0 R /Resources << /Font << /F1 << "
    page += b"/Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> >> >>"
    return raw_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R%s >>" % extra,
            b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, pages),
            b"<< /Length %d >>\nstream\n%s\nendstream" % (len(text), text),
            *[page] * pages,
        ]
    )


def upload(api: str, name: str, data: bytes) -> tuple[httpx.Response, float]:
    """The file posted as staff post it; the response and the seconds it took."""
    started = time.perf_counter()
    response = httpx.post(
        f"{api}{UPLOAD}",
        files={"file": (name, data, "application/pdf")},
        data={"title": "Document hostile"},
        headers=ADMIN_AUTH,
        timeout=PDF_TIMEOUT_S * 2,
    )
    return response, time.perf_counter() - started


def test_the_test_pdf_is_accepted_when_it_has_few_pages(api: str, settings: Settings) -> None:
    """The builder makes readable PDFs: what refuses the hostile ones is their size, not their form (each test
    compares the corpus with what it was just before it)."""
    response, _ = upload(api, "court.pdf", pdf_of_pages(2))
    assert response.status_code == 201, response.text
    assert (settings.corpus_dir / response.json()["file"]).exists()


def test_a_pdf_of_ten_thousand_pages_is_refused(api: str, settings: Settings) -> None:
    before = snapshot(settings)
    data = pdf_of_pages(10_000)
    assert data.count(b"/Type /Page ") == 10_000
    response, seconds = upload(api, "annuaire.pdf", data)
    assert response.status_code == 422
    assert response.json()["detail"] == "Fichier refusé : PDF trop long (10000 pages ; maximum 2000)."
    assert seconds < WELL_UNDER_S and snapshot(settings) == before


def test_a_pdf_nested_a_hundred_thousand_deep_is_refused(api: str, settings: Settings) -> None:
    before = snapshot(settings)
    nested = b" /Deep " + b"[" * 100_000 + b"]" * 100_000
    response, seconds = upload(api, "gigogne.pdf", pdf_of_pages(1, extra=nested))
    assert response.status_code == 422
    assert response.json()["detail"].startswith("Fichier refusé : PDF illisible")
    assert seconds < WELL_UNDER_S and snapshot(settings) == before


def test_a_zip_bomb_named_pdf_is_refused(api: str, settings: Settings) -> None:
    before = snapshot(settings)
    response, seconds = upload(api, "rapport.pdf", zip_bomb())
    assert response.status_code == 415
    assert response.json()["detail"].startswith("Type de fichier non pris en charge : envoyez")
    assert seconds < WELL_UNDER_S and snapshot(settings) == before


def streamed_upload(size: int, sent: list[int]) -> Iterator[bytes]:
    """A multipart body carrying `size` bytes of file, made a mebibyte at a time; `sent` counts what left."""
    yield (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="enorme.pdf"\r\n'
        "Content-Type: application/pdf\r\n\r\n%PDF-1.7\n"
    ).encode()
    chunk = bytes(MEBIBYTE)
    for _ in range(size // MEBIBYTE):
        sent[0] += len(chunk)
        yield chunk
    yield f"\r\n--{BOUNDARY}--\r\n".encode()


def test_a_200_mb_upload_is_cut_at_the_limit_in_bounded_memory(api: str, settings: Settings) -> None:
    """Sent without a length (chunked), so that only reading it can tell its size."""
    before, process, sent = snapshot(settings), psutil.Process(), [0]
    rss, started = process.memory_info().rss, time.perf_counter()
    response = httpx.post(
        f"{api}{UPLOAD}",
        content=streamed_upload(200 * MEBIBYTE, sent),
        headers={**ADMIN_AUTH, "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
        timeout=60,
    )
    seconds, grown = time.perf_counter() - started, (process.memory_info().rss - rss) / MEBIBYTE
    assert response.status_code == 413, response.text
    assert response.json()["detail"] == f"Requête trop volumineuse : maximum {UPLOAD_LIMIT // MEBIBYTE} Mo."
    assert seconds < WELL_UNDER_S and grown < 100, (seconds, grown, sent)
    assert snapshot(settings) == before
