"""The streams residents read carry only verified sentences: a sentence of the draft that verification removes is in
the conseillers' `token` events, never in the widget's `sentence` and `done` events nor in the OpenAI-compatible
stream."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bot.answer.generation import MockGenerator, Tokens
from bot.answer.prompts import Prompt
from bot.api.app import create_api
from ingest.build import build_index
from ingest.embeddings import E5Embedder
from tests.fixtures.factories import e5_index_settings, make_service

DOCUMENT = (
    "# Bilan du Numericamp 2024\n\nLe Numericamp 2024 a réuni 450 visiteurs à la Citadelle d'Arras.\n\n"
    "Il a duré deux jours et accueilli 36 partenaires exposants.\n"
)
QUESTION = "Combien de visiteurs au Numericamp 2024 ?"
# No document holds this number: verification removes the sentence
REMOVED_NUMBER = "98765"
REMOVED = f"Le Numericamp 2024 a accueilli {REMOVED_NUMBER} visiteurs [1]."
KEPT = "Il y a eu 450 visiteurs au Numericamp 2024 [1]."


class RemovedSentenceFirst(MockGenerator):
    """TEST DOUBLE of bot.answer.generation.Generator: a sentence verification removes, one it keeps, then the
    mock's answer (the first evidence sentence restated, cited)."""

    def stream(self, prompt: Prompt) -> Tokens:
        for word in f"{REMOVED} {KEPT}".split(" "):
            yield word + " "
        return (yield from super().stream(prompt))


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The API over a one-document index (the shipped corpus takes minutes to index here)."""
    root = tmp_path_factory.mktemp("stream-verified")
    (root / "corpus").mkdir()
    (root / "corpus" / "numericamp.md").write_text(DOCUMENT, encoding="utf-8")
    settings = e5_index_settings(root, root / "index", answerability__min_evidence_score=0.0)
    build_index(settings, root / "corpus", lambda _s: E5Embedder())
    with TestClient(create_api(make_service(settings, RemovedSentenceFirst()), settings)) as test_client:
        yield test_client


def server_sent_events(client: TestClient, path: str, body: dict[str, Any]) -> list[tuple[str, str]]:
    """(event, data) of each event of the stream; `message` when the event is unnamed (OpenAI's chunks)."""
    events, name = [], "message"
    with client.stream("POST", path, json=body) as response:
        assert response.status_code == 200
        for line in response.iter_lines():
            if line.startswith("event:"):
                name = line.split(":", 1)[1].strip()
            elif line.startswith("data:"):
                events.append((name, line.split(":", 1)[1].strip()))
                name = "message"
    return events


def test_the_widgets_events_carry_only_verified_sentences(client: TestClient) -> None:
    events = server_sent_events(client, "/api/ask/stream", {"question": QUESTION})
    kinds = [kind for kind, _ in events]
    assert kinds[0] == "evidence" and kinds[-1] == "done"
    tokens = "".join(json.loads(data)["text"] for kind, data in events if kind == "token")
    assert REMOVED_NUMBER in tokens  # the draft held it: conseillers read it
    sentences = [json.loads(data) for kind, data in events if kind == "sentence"]
    done = json.loads(events[-1][1])
    assert done["outcome"] == "answer" and sentences == done["answer_sentences"] != []
    last_token = len(kinds) - 1 - kinds[::-1].index("token")
    assert kinds.index("sentence") < last_token  # shown while the model writes
    drawn = [data for kind, data in events if kind in ("sentence", "done")]
    assert not any(REMOVED_NUMBER in data for data in drawn)


def test_the_openai_compatible_stream_carries_only_verified_text(client: TestClient) -> None:
    body = {"model": "cuabot", "messages": [{"role": "user", "content": QUESTION}]}
    whole = client.post("/v1/chat/completions", json=body).json()["choices"][0]["message"]["content"]
    events = server_sent_events(client, "/v1/chat/completions", {**body, "stream": True})
    chunks = [json.loads(data) for _, data in events[:-1]]
    text = "".join(chunk["choices"][0]["delta"].get("content") or "" for chunk in chunks)
    assert chunks[-1]["outcome"] == "answer" and text == whole
    assert text.startswith("Il y a eu 450 visiteurs au Numericamp 2024 [1].") and REMOVED_NUMBER not in text
