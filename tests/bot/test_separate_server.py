"""Generation on a separate server: llama.cpp's own OpenAI-compatible server, the API under uvicorn with 2 workers.

The setup of an authority that runs its model apart (vLLM, the Albert API, llama.cpp's server):
CUABOT_GENERATION__BACKEND=openai and CUABOT_GENERATION__BASE_URL, nothing else changed. Both servers are real
processes on 127.0.0.1; the API reads the shipped corpus indexed with e5.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from bench.load.run import llama_server_command, uvicorn_command
from bench.servers import free_port, served
from bot.answer.generation import OpenAICompatibleGenerator
from bot.answer.prompts import build_prompt, fixed_prefix
from core.settings import Authority
from tests.fixtures.doubles import drained
from tests.fixtures.factories import make_settings
from tests.fixtures.live_server import served_api_env

pytestmark = pytest.mark.slow

CORPUS_QUESTIONS = {
    "Combien de visiteurs au Numericamp 2024 ?": "450 visiteurs",
    "Combien d'intervenants ont pris la parole pendant la journée Numericamp ?": "57 intervenants",
    "Combien de partenaires exposants au Numericamp ?": "36 partenaires exposants",
}
# A near-miss refused on its missing year: the similarity thresholds are calibrated for EmbeddingGemma, not e5
UNANSWERABLE = "Combien de visiteurs au Numericamp 2031 ?"
TIMEOUT_S = 240.0


@pytest.fixture(scope="module")
def llama_server() -> Iterator[str]:
    """llama.cpp's OpenAI-compatible server (llama-cpp-python[server]) with the project's GGUF model."""
    port = free_port()
    with served(llama_server_command(port), port, {}, ready_timeout_s=300, ready_path="/v1/models") as url:
        yield f"{url}/v1"


@pytest.fixture(scope="module")
def api(llama_server: str, e5_corpus_index: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The API under uvicorn --workers 2, phrasing through the llama.cpp server."""
    root = tmp_path_factory.mktemp("separate-server")
    env = served_api_env(
        root,
        e5_corpus_index,
        CUABOT_GENERATION__BACKEND="openai",
        CUABOT_GENERATION__BASE_URL=llama_server,
        CUABOT_GENERATION__TIMEOUT_S="120",
    )
    port = free_port()
    with served(uvicorn_command(port, workers=2), port, env, ready_timeout_s=300) as url:
        yield url


def test_the_remote_model_says_when_its_token_limit_cut_the_answer(llama_server: str) -> None:
    """The server's finish reason « length » at the token limit, « stop » when the model ends its answer."""
    question = "Quel jour a lieu la collecte ?"
    prompt = build_prompt(fixed_prefix(Authority()), question, [])
    settings = make_settings(generation__backend="openai", generation__base_url=llama_server)
    assert drained(OpenAICompatibleGenerator(settings.changed(generation__max_tokens=2)).stream(prompt))[1] is True
    assert drained(OpenAICompatibleGenerator(settings).stream(prompt))[1] is False


def ask(api: str, question: str) -> dict[str, Any]:
    response = httpx.post(f"{api}/api/ask", json={"question": question}, timeout=TIMEOUT_S)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_health_names_the_remote_generator(api: str) -> None:
    health = httpx.get(f"{api}/api/health", timeout=30).json()
    assert health["status"] == "ok" and health["generator"] == "openai-compatible"


def test_corpus_question_is_phrased_by_the_remote_model_with_its_quote(api: str) -> None:
    question, fact = next(iter(CORPUS_QUESTIONS.items()))
    body = ask(api, question)
    assert body["outcome"] in {"answer", "evidence_only"}, body["reason"]
    assert "first_token_s" in body["timings"]  # the llama.cpp server streamed tokens
    assert any(fact in quote["text"] for quote in body["evidence"])
    assert fact in body["answer"] and body["sources"][0]["document"] == "numericamp-livre-blanc-2024"


def test_unanswerable_question_is_refused(api: str) -> None:
    body = ask(api, UNANSWERABLE)
    assert body["outcome"] == "refuse" and body["refused"] and body["evidence"] == []


def test_concurrent_residents_are_all_answered(api: str) -> None:
    questions = [*list(CORPUS_QUESTIONS)[1:], UNANSWERABLE]
    with ThreadPoolExecutor(len(questions)) as pool:
        bodies = list(pool.map(lambda q: ask(api, q), questions))
    for body, fact in zip(bodies, list(CORPUS_QUESTIONS.values())[1:], strict=False):
        assert body["outcome"] in {"answer", "evidence_only"} and fact in body["answer"], body["reason"]
    assert bodies[-1]["outcome"] == "refuse"
