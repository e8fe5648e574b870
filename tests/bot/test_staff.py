"""Staff routes over a real uvicorn server: documents of a corpus copy, uploads, re-index under load."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.api.app import create_api
from tests.fixtures.factories import make_service
from tests.fixtures.live_server import live_server
from tests.fixtures.staff import ADMIN_AUTH as AUTH
from tests.fixtures.staff import ADMIN_TOKEN as TOKEN
from tests.fixtures.staff import SlowDocumentEmbedder, staff_settings

NEW_DOC = (
    "# Médiathèque de Saint-Laurent-Blangy\n\n"
    "La médiathèque de Saint-Laurent-Blangy prête des liseuses numériques aux habitants.\n"
    "Le prêt d'une liseuse est gratuit pour une durée de trois semaines.\n"
)
CORPUS_QUESTION = "Combien de visiteurs au Numericamp 2024 ?"
NEW_QUESTION = "Combien de temps dure le prêt d'une liseuse à la médiathèque de Saint-Laurent-Blangy ?"
REINDEX_TIMEOUT_S = 120.0


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, e5_corpus_index: Path) -> Iterator[dict[str, Any]]:
    settings = staff_settings(tmp_path_factory.mktemp("staff"), e5_corpus_index, api__upload_max_bytes=64_000)
    service = make_service(settings, embedder=SlowDocumentEmbedder())
    with live_server(create_api(service, settings)) as url, httpx.Client(base_url=url, timeout=60) as client:
        yield {"client": client, "settings": settings, "url": url}


def documents(client: httpx.Client) -> dict[str, dict[str, Any]]:
    response = client.get("/api/admin/documents", headers=AUTH)
    assert response.status_code == 200, response.text
    return {d["document"]: d for d in response.json()}


def upload(client: httpx.Client, name: str, data: bytes, method: str = "POST", path: str = "", **fields: str) -> Any:
    return client.request(
        method, f"/api/admin/documents{path}", headers=AUTH, files={"file": (name, data)}, data=fields
    )


def test_staff_routes_refuse_a_wrong_or_missing_token(server: dict[str, Any]) -> None:
    client = server["client"]
    for headers in ({}, {"Authorization": "Bearer faux"}, {"Authorization": TOKEN}):
        for method, path in [
            ("GET", "/api/admin/documents"),
            ("POST", "/api/admin/reindex"),
            ("GET", "/api/admin/analytics"),
            ("DELETE", "/api/admin/documents/forum-ia-lambersart"),
        ]:
            response = client.request(method, path, headers=headers)
            assert response.status_code == 401 and "Jeton" in response.json()["detail"], (method, path)
    assert (server["settings"].corpus_dir / "forum-ia-lambersart.txt").exists()


def test_documents_list_the_corpus_with_what_the_index_holds(server: dict[str, Any]) -> None:
    docs = documents(server["client"])
    assert len(docs) == 5 and {d["status"] for d in docs.values()} == {"indexed"}
    white_paper = docs["numericamp-livre-blanc-2024"]
    assert white_paper["title"].startswith("Livre blanc") and white_paper["publisher"] == "Communauté Urbaine d'Arras"
    assert white_paper["date"] == "2024-04-16" and white_paper["pages"] >= 10 and white_paper["passages"] >= 10
    assert white_paper["indexed_at"] and docs["forum-ia-lambersart"]["pages"] is None


@pytest.mark.parametrize(
    ("name", "data", "status", "reason"),
    [
        ("rapport.pdf", b"%PDF-1.7\n" + b"\x8f\x02 pas un vrai PDF " * 40, 422, "Fichier refusé"),
        ("image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), 415, "non pris en charge"),
        ("vide.md", b"", 422, "vide"),
        ("gros.txt", b"Une phrase assez longue pour remplir le fichier. " * 2000, 413, "trop volumineux"),
        ("forum-ia-lambersart.txt", b"Un autre texte sur le forum.", 409, "existe déjà"),
    ],
)
def test_refused_uploads_leave_the_corpus_as_it_was(
    server: dict[str, Any], name: str, data: bytes, status: int, reason: str
) -> None:
    folder: Path = server["settings"].corpus_dir
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    response = upload(server["client"], name, data, title="Essai")
    assert response.status_code == status and reason in response.json()["detail"]
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


def test_the_type_comes_from_the_content_not_the_name(server: dict[str, Any]) -> None:
    client, folder = server["client"], server["settings"].corpus_dir
    response = upload(client, "compte-rendu.pdf", "Compte rendu du conseil : séance du 3 mars.".encode(), date="2025")
    assert response.status_code == 201 and response.json()["file"] == "compte-rendu.txt"
    assert (folder / "compte-rendu.txt").exists() and not (folder / "compte-rendu.pdf").exists()
    assert documents(client)["compte-rendu"]["status"] == "pending"
    assert client.delete("/api/admin/documents/compte-rendu", headers=AUTH).status_code == 204
    assert "compte-rendu" not in documents(client) and not (folder / "compte-rendu.txt").exists()


def test_replace_keeps_metadata_and_remove_marks_the_indexed_file(server: dict[str, Any]) -> None:
    client = server["client"]
    html = b"<!doctype html><html><body><h1>Forum IA</h1><p>Le forum a eu lieu en 2025 a Lambersart.</p></body></html>"
    response = upload(client, "forum.txt", html, method="PUT", path="/forum-ia-lambersart")
    assert response.status_code == 200, response.text
    assert (
        response.json()["file"] == "forum-ia-lambersart.html" and response.json()["publisher"] == "Ville de Lambersart"
    )
    docs = documents(client)
    assert docs["forum-ia-lambersart"]["status"] == "pending"
    assert upload(client, "x.md", b"# Titre", method="PUT", path="/inconnu").status_code == 404


def test_reindex_runs_aside_while_residents_keep_getting_answers(server: dict[str, Any]) -> None:
    client, url = server["client"], server["url"]
    added = upload(client, "mediatheque-liseuses.md", NEW_DOC.encode(), title="Prêt de liseuses", publisher="Ville")
    assert added.status_code == 201, added.text
    assert client.delete("/api/admin/documents/tribune-ia-revolution-industrielle", headers=AUTH).status_code == 204

    answers: list[tuple[float, int, str]] = []
    stop = threading.Event()

    def resident() -> None:
        with httpx.Client(base_url=url, timeout=60) as own:
            while not stop.is_set():
                response = own.post("/api/ask", json={"question": CORPUS_QUESTION})
                answers.append((time.monotonic(), response.status_code, response.json().get("outcome", "")))

    residents = [threading.Thread(target=resident) for _ in range(2)]
    for thread in residents:
        thread.start()
    try:
        started = client.post("/api/admin/reindex", headers=AUTH)
        assert started.status_code == 202 and started.json()["state"] == "running"
        begun = time.monotonic()
        second = client.post("/api/admin/reindex", headers=AUTH)
        assert second.status_code == 409 and "en cours" in second.json()["detail"]
        assert upload(client, "autre.md", b"# Autre\n\nUn texte.").status_code == 409
        status = started.json()
        progress = []
        while status["state"] == "running" and time.monotonic() - begun < REINDEX_TIMEOUT_S:
            progress.append((status["done"], status["total"]))
            time.sleep(0.2)
            status = client.get("/api/admin/reindex", headers=AUTH).json()
        finished = time.monotonic()
    finally:
        stop.set()
        for thread in residents:
            thread.join()

    assert status["state"] == "done", status
    report = status["report"]
    # The forum was replaced by an HTML file (previous test): a new file for the index, the old one removed
    assert report["added"] == ["forum-ia-lambersart.html", "mediatheque-liseuses.md"]
    assert report["removed"] == ["forum-ia-lambersart.txt", "tribune-ia-revolution-industrielle.md"]
    assert status["done"] == status["total"] > 0 and any(t and d < t for d, t in progress)
    assert status["passages_done"] == status["passages_total"] > 0 and status["passages_per_s"] > 0
    assert status["eta_s"] == 0 and "passages calculés" in status["progress_text"]
    during = [a for a in answers if begun < a[0] < finished]
    assert during and all(code == 200 and outcome == "answer" for _, code, outcome in answers)

    docs = documents(client)
    assert docs["mediatheque-liseuses"]["status"] == "indexed" and docs["mediatheque-liseuses"]["passages"] >= 1
    assert "tribune-ia-revolution-industrielle" not in docs
    body = client.post("/api/ask", json={"question": NEW_QUESTION}).json()
    assert body["evidence"] and body["evidence"][0]["document"] == "mediatheque-liseuses"
