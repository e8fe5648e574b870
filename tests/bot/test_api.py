"""The public HTTP contract, served by FastAPI's test client over a stand-in generator."""

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bot.api import create_api
from bot.pipeline import Pipeline
from core.settings import Settings
from ingest.embeddings import E5Embedder
from ingest.store import IndexReader
from tests.conftest import StandInGenerator


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory, e5_corpus_index: Path) -> Iterator[TestClient]:
    root = tmp_path_factory.mktemp("api")
    settings = Settings(
        embedder="e5",
        index_dir=e5_corpus_index,
        feedback_db=root / "fb.sqlite3",
        refusal_threshold=0.0,
        admin_token="test-token",
        _env_file=None,  # type: ignore[call-arg]
    )
    pipeline = Pipeline(settings, E5Embedder(), StandInGenerator("Il y avait 450 visiteurs."), IndexReader(settings))
    with TestClient(create_api(pipeline, settings)) as test_client:
        yield test_client


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ({"question": ""}, "vide"),
        ({"question": "   \n "}, "vide"),
        ({"question": "a" * 1001}, "trop longue"),
        ({"question": "?!? 123"}, "mots"),
        ({"question": 42}, "Requête invalide"),
        ({}, "Requête invalide"),
    ],
)
def test_bad_questions_get_a_422_in_french(client: TestClient, payload: dict, reason: str) -> None:
    response = client.post("/api/ask", json=payload)
    assert response.status_code == 422 and reason in response.json()["detail"]


def test_ask_returns_the_cited_sources_only(client: TestClient) -> None:
    body = client.post(
        "/api/ask", json={"question": "Numericamp en chiffres : combien de visiteurs et de partenaires exposants ?"}
    ).json()
    assert not body["refused"] and "450" in body["answer"]
    assert len(body["sources"]) == 1
    source = body["sources"][0]
    assert source["document"] == "numericamp-livre-blanc-2024" and source["page"] >= 1
    assert "450 visiteurs" in source["excerpt"] and f"[{source['id']}]" in body["answer"]
    assert {"retrieval_s", "total_s"} <= set(body["timings"])


def test_stream_sends_sources_then_tokens_then_done(client: TestClient) -> None:
    events = []
    with client.stream(
        "POST",
        "/api/ask/stream",
        json={"question": "Numericamp en chiffres : combien de visiteurs et de partenaires exposants ?"},
    ) as r:
        event = None
        for line in r.iter_lines():
            if line.startswith("event:"):
                event = line.split(":", 1)[1].strip()
            elif line.startswith("data:"):
                events.append((event, json.loads(line.split(":", 1)[1])))
    kinds = [k for k, _ in events]
    assert kinds[0] == "sources" and kinds[-1] == "done" and "token" in kinds
    assert len(events[0][1]["sources"]) == Settings().context_passages
    assert "450" in events[-1][1]["answer"]


def test_health_and_documents(client: TestClient) -> None:
    health = client.get("/api/health").json()
    assert health["status"] == "ok" and health["documents"] == 5 and health["chunks"] > 50
    documents = client.get("/api/documents").json()
    assert {d["document"] for d in documents} >= {"forum-ia-lambersart", "numericamp-livre-blanc-2024"}


def test_feedback_is_stored(client: TestClient) -> None:
    response = client.post("/api/feedback", json={"rating": "down", "reasons": ["incorrect"], "comment": "non"})
    assert response.status_code == 200 and response.json()["id"] >= 1


def test_admin_export_needs_the_token(client: TestClient) -> None:
    client.post("/api/feedback", json={"rating": "up", "comment": "écrire à a.b@exemple.fr"})
    assert client.get("/api/admin/feedback.csv").status_code == 401
    assert client.get("/api/admin/feedback.csv", headers={"Authorization": "Bearer wrong"}).status_code == 401
    response = client.get("/api/admin/feedback.csv", headers={"Authorization": "Bearer test-token"})
    assert response.status_code == 200 and response.text.startswith("id,")
    assert "a.b@exemple.fr" not in response.text and "[courriel]" in response.text
