"""Staff see the cost before they pay it: an upload's estimated indexing time, the re-index's pace and time left.

Over a one-document corpus indexed with e5 (seconds), served in-process; the re-index runs the real build with the
service's own embedder, here e5 dressed as a late-chunking span embedder.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bot.api.app import create_api
from bot.api.routes.staff import ReindexJob
from ingest.embeddings import E5Embedder
from tests.fixtures.doubles import SpanE5, build_small_index
from tests.fixtures.factories import make_service, make_settings
from tests.fixtures.staff import ADMIN_AUTH as AUTH
from tests.fixtures.staff import ADMIN_TOKEN

SHORT_DOC = "# Médiathèque\n\nLa médiathèque prête des liseuses pour trois semaines.\n"
REINDEX_TIMEOUT_S = 120.0


def long_doc(services: int) -> str:
    """About one passage a service: each paragraph is a few sentences on a service of its own."""
    return "\n\n".join(
        f"## Service {i}\n\nLe service municipal numéro {i} accueille les habitants du lundi au vendredi. "
        f"Il traite les demandes de la commune {i} en moins de {i + 2} jours ouvrés. "
        f"Les dossiers sont déposés au guichet {i} de l'hôtel communautaire ou en ligne. "
        f"Une permanence téléphonique répond aux questions sur le service {i} chaque matin. "
        f"Les pièces justificatives demandées sont listées sur la page {i} du site de la communauté urbaine."
        for i in range(services)
    )


@pytest.fixture
def staff(tmp_path: Path) -> Iterator[dict[str, Any]]:
    index = build_small_index(tmp_path)
    settings = make_settings(
        embedding__backend="e5",
        embedding__sentence_vectors="late",
        embedding__batch_size=4,
        corpus_dir=tmp_path / "corpus",
        index_dir=index,
        feedback_db=tmp_path / "fb.sqlite3",
        analytics_db=tmp_path / "analytics.sqlite3",
        access__admin_token=ADMIN_TOKEN,
    )
    embedder = SpanE5()
    with TestClient(create_api(make_service(settings, embedder=embedder), settings)) as client:
        yield {"client": client, "settings": settings, "embedder": embedder}


def upload(client: TestClient, name: str, text: str) -> dict[str, Any]:
    response = client.post("/api/admin/documents", headers=AUTH, files={"file": (name, text.encode())})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def reindex(client: TestClient) -> tuple[dict[str, Any], dict[str, Any]]:
    """The status POST /reindex answers, and the last one once the build is over."""
    started = client.post("/api/admin/reindex", headers=AUTH)
    assert started.status_code == 202, started.text
    status, begun = started.json(), time.monotonic()
    while status["state"] == "running" and time.monotonic() - begun < REINDEX_TIMEOUT_S:
        time.sleep(0.1)
        status = client.get("/api/admin/reindex", headers=AUTH).json()
    return started.json(), status


def test_an_upload_says_how_long_its_indexing_will_take(staff: dict[str, Any]) -> None:
    client, settings = staff["client"], staff["settings"]
    short = upload(client, "mediatheque.md", SHORT_DOC)["estimate"]
    assert short["documents"] == short["passages"] == 1 and not short["long"] and not short["measured"]
    assert short["message"].startswith("L'indexation de ce document prendra moins d'une minute (1 passage environ")
    assert "Estimation prudente" in short["message"]

    text = long_doc(60)
    long = upload(client, "services.md", text)["estimate"]
    # One passage a service (each section is shorter than a passage), at the default pace: 0.25 passage/s
    assert long["passages"] == 60 and long["passages_per_s"] == 0.25
    assert long["seconds"] == pytest.approx(long["passages"] / 0.25, abs=0.1)
    assert long["seconds"] > settings.api.reindex_confirm_above_s
    assert long["long"] and "L'indexation de ce document prendra environ" in long["message"]
    assert (settings.corpus_dir / "services.md").read_text(encoding="utf-8") == text

    pending = client.get("/api/admin/reindex/estimate", headers=AUTH).json()
    assert pending["documents"] == 2 and pending["passages"] == long["passages"] + 1 and pending["long"]
    assert pending["message"].startswith("L'indexation de ces 2 documents prendra environ")


def test_reindex_state_carries_pace_and_time_left_from_the_real_build(staff: dict[str, Any]) -> None:
    client, embedder = staff["client"], staff["embedder"]
    estimated = upload(client, "services.md", long_doc(12))["estimate"]["passages"]
    started, status = reindex(client)
    assert started["phase"] == "reading" and started["passages_per_s"] is None and started["eta_s"] is None
    assert status["state"] == "done", status
    assert status["passages_done"] == status["passages_total"] == status["report"]["embedded_passages"] >= 10
    assert status["report"]["reused_passages"] == 0
    assert estimated == status["passages_total"]  # the estimate counted the passages the build then made
    assert status["passages_per_s"] > 0 and status["eta_s"] == 0
    assert status["progress_text"].startswith(f"Indexation terminée : {status['passages_total']} passages calculés (")
    assert embedder.spans  # the build's own late-chunking path ran with the service's embedder

    # The pace this build measured is the one the next estimate uses
    assert client.get("/api/admin/reindex/estimate", headers=AUTH).json()["documents"] == 0
    estimate = upload(client, "mediatheque.md", SHORT_DOC)["estimate"]
    assert estimate["measured"] and estimate["passages_per_s"] == pytest.approx(status["passages_per_s"], rel=0.01)
    assert "Estimation prudente" not in estimate["message"]


def test_a_reindex_reports_the_passages_it_took_from_the_index(tmp_path: Path) -> None:
    """An edited document's untouched passages keep their vectors (same embedder, sentences embedded apart): the
    report and the page's progress line say how many were computed and how many taken from the index."""
    settings = make_settings(
        embedding__backend="e5",
        corpus_dir=tmp_path / "corpus",
        index_dir=build_small_index(tmp_path),
        feedback_db=tmp_path / "fb.sqlite3",
        analytics_db=tmp_path / "analytics.sqlite3",
        access__admin_token=ADMIN_TOKEN,
    )
    with TestClient(create_api(make_service(settings, embedder=E5Embedder()), settings)) as client:
        upload(client, "services.md", long_doc(12))
        assert reindex(client)[1]["report"]["reused_passages"] == 0
        edited = long_doc(12).replace("commune 3 ", "commune numéro 3 ").encode()
        replaced = client.put("/api/admin/documents/services", headers=AUTH, files={"file": ("services.md", edited)})
        assert replaced.status_code == 200, replaced.text
        _, status = reindex(client)
    report = status["report"]
    assert status["state"] == "done" and report["updated"] == ["services.md"]
    assert report["embedded_passages"] == 1 and report["reused_passages"] == 11
    assert (
        status["progress_text"] == "Indexation terminée : 1 passage calculé (11 autres repris de l'index, même texte)."
    )


def test_pace_and_time_left_are_null_until_the_first_passages_are_done() -> None:
    job = ReindexJob(state="running")
    job._file_read(3, 3)
    job._passages(0, 965, 0.0, 0.0)
    status = job.status()
    assert (status.phase, status.passages_done, status.passages_total) == ("passages", 0, 965)
    assert status.passages_per_s is None and status.eta_s is None
    assert status.progress_text.endswith("0 passage sur 965 — durée restante en cours d'estimation")
    job._passages(120, 965, 3.14, 230.0)
    status = job.status()
    assert (status.passages_per_s, status.eta_s) == (3.14, 230.0)
    assert status.progress_text == (
        "Analyse et embeddings des passages : 120 passages sur 965 — environ 4 minutes restantes (3,1 passages/s)"
    )
    job._passages(965, 965, 3.2, 0.0)
    assert job.status().phase == "writing" and "restante" not in job.status().progress_text
