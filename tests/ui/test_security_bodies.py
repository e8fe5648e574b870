"""Request bodies are refused past their limit before they are read, and staff uploads before the token is checked.

Issue 30: a 60 MB upload without a token was read to its end before its 401; a 9 MB JSON history was accepted.
Each request goes straight to the ASGI application, which counts the body bytes the service pulled.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI
from stub_service import StubService

from tests.fixtures.asgi import CHUNK, send_body
from tests.fixtures.factories import make_settings
from ui.app import create_app

pytestmark = pytest.mark.security

TOKEN = "jeton-de-test"
MB = 1024 * 1024
SMALL_LIMIT = 64 * 1024
UPLOAD = "/api/admin/documents"
MULTIPART = {"content-type": "multipart/form-data; boundary=limite"}
FILE_PART = (
    b'--limite\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\nContent-Type: text/plain\r\n\r\n'
)


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    root = tmp_path_factory.mktemp("bodies")
    settings = make_settings(
        feedback_db=root / "f.sqlite3",
        analytics_db=root / "a.sqlite3",
        corpus_dir=root / "corpus",
        access__admin_token=TOKEN,
        api__upload_max_bytes=2 * MB,
    )
    return create_app(StubService(), settings)


def test_a_declared_large_question_is_refused_unread(app: FastAPI) -> None:
    sent = send_body(app, "POST", "/api/ask", 9 * MB, headers={"content-type": "application/json"})
    assert sent.status == 413 and "trop volumineuse" in sent.detail()
    assert sent.bytes_read == 0


def test_a_chunked_large_question_is_cut_at_the_limit(app: FastAPI) -> None:
    sent = send_body(
        app, "POST", "/api/ask", 9 * MB, declare_length=False, headers={"content-type": "application/json"}
    )
    assert sent.status == 413 and "64 Ko" in sent.detail()
    assert sent.bytes_read <= SMALL_LIMIT + CHUNK


def test_an_upload_without_token_is_refused_before_its_body(app: FastAPI) -> None:
    for size in (60 * MB, MB):  # past the upload limit, and within it
        sent = send_body(app, "POST", UPLOAD, size, headers=MULTIPART, start=FILE_PART)
        assert sent.status in (401, 413), sent.status
        assert sent.bytes_read == 0
    sent = send_body(app, "PUT", f"{UPLOAD}/guide", MB, declare_length=False, headers=MULTIPART, start=FILE_PART)
    assert sent.status == 401 and "Jeton" in sent.detail()
    assert sent.bytes_read == 0


def test_an_upload_past_the_limit_is_cut_even_with_the_token(app: FastAPI, tmp_path: Path) -> None:
    auth = {**MULTIPART, "authorization": f"Bearer {TOKEN}"}
    declared = send_body(app, "POST", UPLOAD, 60 * MB, headers=auth, start=FILE_PART)
    assert declared.status == 413 and declared.bytes_read == 0
    chunked = send_body(app, "POST", UPLOAD, 60 * MB, declare_length=False, headers=auth, start=FILE_PART)
    assert chunked.status == 413 and "Mo" in chunked.detail()
    assert chunked.bytes_read <= 2 * MB + SMALL_LIMIT + CHUNK


def test_bodies_within_their_limit_still_reach_the_routes(app: FastAPI) -> None:
    sent = send_body(app, "POST", "/api/ask", 1000, headers={"content-type": "application/json"})
    assert sent.status == 422  # read whole, then found to be no question: the route got it
    assert sent.bytes_read == 1000
