"""Embeddings on a server (ingest/remote_embeddings.py), against real servers on loopback, never a mock.

- A small scripted HTTP server of this file (http.server in a thread, OpenAI's /v1/embeddings shape):
  batching, prefixes, retries on 429/5xx with back-off and Retry-After, refusals and garbage answers,
  through the real client and real sockets. Fast.
- llama.cpp's own server (`python -m llama_cpp.server --embedding true`) with the Qwen GGUF of the model
  cache, mean-pooled: the vectors, a build with `embedding.backend=openai` that records the embedder's identity,
  and `cuabot ask` / `cuabot serve` refusing an index built by another embedder. Slow (a real model);
  skipped, with the reason, when the GGUF is not in the cache.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pydantic import ValidationError

from bench.servers import free_port, served
from core.models import QWEN_CODER_GGUF, is_installed, model_path
from core.settings import Settings
from ingest.build import build_index, index_signature
from ingest.remote_embeddings import EmbeddingServerError, RemoteConfig, RemoteEmbedder, retry_after_seconds
from ingest.store import IndexReader, embedder_mismatch, read_pointer
from tests.fixtures.doubles import build_small_index
from tests.fixtures.factories import make_settings

CUABOT = Path(sys.executable).parent / "cuabot"
MODEL_NAME = "qwen-embed"
START_TIMEOUT_S = 180.0


# --- a scripted OpenAI-style embeddings server -------------------------------------------------------------


class Scripted:
    """Answers the queued replies first, then 200s with one vector per text ([len(text), 1, 2], unnormalised,
    listed in reverse order with their `index`); records every request it receives."""

    def __init__(self) -> None:
        self.replies: list[tuple[int, dict[str, str], bytes | None, float]] = []
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        scripted = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                scripted.requests.append({"path": self.path, **body})
                scripted.headers.append(dict(self.headers))
                status, headers, payload, delay_s = scripted.replies.pop(0) if scripted.replies else (200, {}, None, 0)
                if payload is None:
                    rows = [{"index": i, "embedding": [len(t), 1.0, 2.0]} for i, t in enumerate(body["input"])]
                    headers = {"Content-Type": "application/json", **headers}
                    payload = json.dumps({"object": "list", "data": rows[::-1], "model": body["model"]}).encode()
                time.sleep(delay_s)
                try:
                    self.send_response(status)
                    for key, value in headers.items():
                        self.send_header(key, value)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:  # the client gave up waiting (timeout tests)
                    pass

            def log_message(self, *_args: Any) -> None:
                pass

        return Handler

    def then(self, status: int, body: str | None = None, delay_s: float = 0.0, **headers: str) -> Scripted:
        """Queue one reply: `body` None is the normal answer; header names with "_" for "-"."""
        encoded = None if body is None else body.encode()
        self.replies.append((status, {k.replace("_", "-"): v for k, v in headers.items()}, encoded, delay_s))
        return self


@pytest.fixture
def scripted() -> Iterator[Scripted]:
    server = Scripted()
    thread = threading.Thread(target=server.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.server.shutdown()
        server.server.server_close()


def remote(url: str, **overrides: Any) -> RemoteEmbedder:
    config = {"url": url, "model": "m", "retry_base_s": 0.01, "max_attempts": 3, "timeout_s": 120.0, **overrides}
    return RemoteEmbedder(RemoteConfig(**config))


def test_batches_split_requests_and_keep_order_prefixes_and_unit_vectors(scripted: Scripted) -> None:
    embedder = remote(scripted.url, batch_size=2, query_prefix="query: ", document_prefix="passage: ", api_key="k")
    texts = ["a", "bb", "ccc", "dddd", "eeeee"]
    vectors = embedder.embed_documents(texts)
    query = embedder.embed_query("où ?")

    assert [len(r["input"]) for r in scripted.requests] == [2, 2, 1, 1]
    assert [t for r in scripted.requests[:3] for t in r["input"]] == [f"passage: {t}" for t in texts]
    assert scripted.requests[3]["input"] == ["query: où ?"]
    assert {r["path"] for r in scripted.requests} == {"/v1/embeddings"}
    assert {r["model"] for r in scripted.requests} == {"m"} and scripted.headers[0]["Authorization"] == "Bearer k"
    assert vectors.dtype == np.float32 and vectors.shape == (5, 3) and query.shape == (3,)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-6)
    expected = np.array([[len(f"passage: {t}"), 1, 2] for t in texts], dtype=np.float32)
    np.testing.assert_allclose(vectors, expected / np.linalg.norm(expected, axis=1, keepdims=True), rtol=1e-6)
    assert embedder.name == "openai:m (préfixes 'query: ' / 'passage: ')"
    assert embedder.embed_documents([]).shape == (0, 3)


@pytest.mark.parametrize("base", ["{url}", "{url}/", "{url}/v1", "{url}/v1/embeddings"])
def test_the_base_url_may_name_v1_or_not(scripted: Scripted, base: str) -> None:
    remote(base.format(url=scripted.url)).embed_query("x")
    assert scripted.requests[0]["path"] == "/v1/embeddings"


def test_429_is_retried_after_the_servers_retry_after(scripted: Scripted) -> None:
    scripted.then(429, '{"error": {"message": "trop de requêtes"}}', Retry_After="1")
    started = time.monotonic()
    vector = remote(scripted.url, retry_base_s=0.01).embed_query("bonjour")
    assert time.monotonic() - started >= 1.0  # the server's second, not the 10 ms back-off
    assert len(scripted.requests) == 2 and vector.shape == (3,)


def test_5xx_are_retried_with_exponential_backoff_then_a_french_error(scripted: Scripted) -> None:
    scripted.then(502, "bad gateway").then(503, "busy")
    assert remote(scripted.url, retry_base_s=0.01).embed_query("x").shape == (3,)
    assert len(scripted.requests) == 3

    scripted.requests.clear()
    for _ in range(4):
        scripted.then(500, '{"detail": "CUDA out of memory"}')
    started = time.monotonic()
    with pytest.raises(EmbeddingServerError, match=r"n'a pas répondu après 4 tentative\(s\) : HTTP 500 CUDA out"):
        remote(scripted.url, retry_base_s=0.2, max_attempts=4).embed_query("x")
    assert len(scripted.requests) == 4
    assert time.monotonic() - started >= 0.2 + 0.4 + 0.8  # doubled each time (jitter only adds, at most 25 %)


def test_a_server_too_slow_is_tried_again_then_a_french_error(scripted: Scripted) -> None:
    scripted.then(200, delay_s=1.0)
    assert remote(scripted.url, timeout_s=0.3).embed_query("x").shape == (3,)
    assert len(scripted.requests) == 2

    scripted.then(200, delay_s=1.0).then(200, delay_s=1.0)
    with pytest.raises(
        EmbeddingServerError, match=r"2 tentative\(s\) : pas de réponse en 0.3 s .*EMBEDDING__TIMEOUT_S"
    ):
        remote(scripted.url, timeout_s=0.3, max_attempts=2).embed_query("x")


def test_refusals_are_not_retried_and_name_the_setting(scripted: Scripted) -> None:
    scripted.then(401, '{"error": {"message": "invalid api key"}}')
    with pytest.raises(
        EmbeddingServerError, match=r"refuse la requête \(HTTP 401 : invalid api key\).*EMBEDDING__API_KEY"
    ):
        remote(scripted.url).embed_query("x")
    scripted.then(404, "Not Found")
    with pytest.raises(EmbeddingServerError, match=r"HTTP 404.*CUABOT_EMBEDDING__URL"):
        remote(scripted.url).embed_query("x")
    assert len(scripted.requests) == 2


def test_an_unreachable_server_is_a_clear_french_error() -> None:
    embedder = remote(f"http://127.0.0.1:{free_port()}", max_attempts=2)
    with pytest.raises(EmbeddingServerError, match=r"n'a pas répondu après 2 tentative\(s\) : connexion impossible"):
        embedder.embed_documents(["x"])
    assert embedder.requests == 2
    with pytest.raises(EmbeddingServerError, match="Adresse du serveur d'embeddings invalide"):
        remote("127.0.0.1:8080")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("<html>proxy login</html>", "Réponse illisible"),
        ('{"data": []}', r"0 vecteur\(s\) pour 1 texte"),
        ('{"data": [{"index": 0, "embedding": [[0.1, 0.2], [0.3, 0.4]]}]}', "pooling"),  # one vector per token
        ('{"data": [{"index": 0, "embedding": [NaN, 1.0]}]}', "non finis"),
        ('{"data": [{"index": 0, "embedding": [0.0, 0.0]}]}', "vecteur nul"),
        ('{"error": "model not loaded"}', "Réponse illisible"),
    ],
)
def test_garbage_answers_are_refused(scripted: Scripted, body: str, message: str) -> None:
    scripted.then(200, body, Content_Type="application/json")
    with pytest.raises(EmbeddingServerError, match=message):
        remote(scripted.url).embed_query("x")
    assert len(scripted.requests) == 1


def test_a_change_of_dimension_is_refused(scripted: Scripted) -> None:
    embedder = remote(scripted.url)
    embedder.embed_query("x")
    scripted.then(200, '{"data": [{"index": 0, "embedding": [1.0, 2.0]}]}')
    with pytest.raises(EmbeddingServerError, match=r"changé de dimension \(3 puis 2\)"):
        embedder.embed_query("x")


def test_retry_after_reads_seconds_and_http_dates() -> None:
    assert retry_after_seconds("3") == 3.0 and retry_after_seconds(None) is None and retry_after_seconds("x") is None
    in_five_seconds = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 5))
    assert 3 <= (retry_after_seconds(in_five_seconds) or 0) <= 6


def test_settings_need_the_url_and_the_model() -> None:
    with pytest.raises(ValidationError, match="CUABOT_EMBEDDING__URL .* et CUABOT_EMBEDDING__MODEL .* sont requis"):
        make_settings(embedding__backend="openai", embedding__url="http://127.0.0.1:1")


def test_the_startup_check_compares_the_index_embedder(tmp_path: Path) -> None:
    index = build_small_index(tmp_path)
    e5 = make_settings(embedding__backend="e5", index_dir=index)
    remote_settings = e5.changed(embedding__backend="openai", embedding__url="http://127.0.0.1:1", embedding__model="x")
    assert embedder_mismatch(e5) is None
    problem = embedder_mismatch(remote_settings)
    assert problem is not None
    assert "construit avec l'embedder « e5 » ; le service utilise « openai:x »" in problem
    assert "relancez « cuabot ingest »" in problem


# --- llama.cpp's own server, embedding mode, the real model -------------------------------------------------


def _die_with_parent() -> None:
    """In the server's process: SIGKILL when the test process dies, even without its finally (Linux)."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


@pytest.fixture(scope="module")
def llama_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """llama.cpp's OpenAI-compatible server in embedding mode on a free loopback port, always stopped."""
    models_dir = make_settings().models_dir
    if not is_installed(QWEN_CODER_GGUF, models_dir):
        pytest.skip(f"{QWEN_CODER_GGUF.assembled_name} absent de {models_dir} : lancez « cuabot models install »")
    port = free_port()
    command = [
        sys.executable, "-m", "llama_cpp.server", "--model", str(model_path(QWEN_CODER_GGUF, models_dir)),
        "--model_alias", MODEL_NAME, "--embedding", "true", "--host", "127.0.0.1", "--port", str(port),
        "--n_ctx", "512", "--n_batch", "512", "--n_threads", "2", "--verbose", "false",
        # a generative model has no pooling of its own: one mean vector per text, not one per token
        "--kv_overrides", "qwen2.pooling_type=int:1",
    ]  # fmt: skip
    with served(command, port, {}, START_TIMEOUT_S, "/v1/models", preexec_fn=_die_with_parent) as url:
        yield url


def openai_settings(url: str, index_dir: Path, **overrides: Any) -> Settings:
    return make_settings(
        embedding__backend="openai", embedding__url=url, embedding__model=MODEL_NAME, index_dir=index_dir, **overrides
    )


TEXTS = [
    "La déchetterie de Dainville est ouverte le samedi de 9 h à 12 h.",
    "Le conseil communautaire se réunit une fois par mois à l'hôtel de communauté.",
    "Les bus du réseau Artis circulent de 6 h à 21 h en semaine.",
]


@pytest.mark.slow
def test_llama_server_gives_one_unit_vector_per_text_whatever_the_batch(llama_url: str) -> None:
    by_two = remote(llama_url, model=MODEL_NAME, batch_size=2)
    vectors = by_two.embed_documents(TEXTS)
    alone = np.vstack([remote(llama_url, model=MODEL_NAME, batch_size=1).embed_documents([t]) for t in TEXTS])
    query = by_two.embed_query("Quand la déchetterie est-elle ouverte ?")

    assert vectors.dtype == np.float32 and vectors.shape == (3, 1536) and query.shape == (1536,)
    assert by_two.requests == 3  # two batches, then the query
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    assert (vectors * alone).sum(axis=1).min() > 0.999  # batching changes nothing
    assert np.abs(vectors @ vectors.T - np.eye(3)).max() > 0.01  # three texts, three vectors


@pytest.mark.slow
def test_a_build_with_the_server_records_its_identity_and_start_up_refuses_another(
    llama_url: str, tmp_path: Path
) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for number, text in enumerate(TEXTS):
        (corpus / f"page-{number}.md").write_text(f"# Page {number}\n\n{text}\n", encoding="utf-8")
    settings = openai_settings(llama_url, tmp_path / "index")

    report = build_index(settings, corpus)
    pointer = read_pointer(settings.index_dir)
    assert pointer is not None and len(report.added) == 3 and report.embedded_chunks == 3
    assert pointer["embedder"] == f"openai:{MODEL_NAME}" and f":openai:{MODEL_NAME}:" in pointer["signature"]
    assert pointer["signature"] == index_signature(settings)
    manifest = json.loads((settings.index_dir / pointer["generation"] / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["embedder"] == f"openai:{MODEL_NAME}"
    reader = IndexReader(settings)
    assert reader.embedder_name == f"openai:{MODEL_NAME}" and reader.sentence_vectors.shape[1] == 1536
    chunk = reader.chunks[1]
    query = remote(llama_url, model=MODEL_NAME).embed_query(chunk.embedded_text())
    assert reader.dense(query, 1)[0][0].chunk_id == chunk.chunk_id
    assert build_index(settings, corpus).embedded_chunks == 0  # same identity: nothing embedded again

    def cuabot(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
        environment = {
            **os.environ,
            "CUABOT_SETTINGS_FILE": str(tmp_path / "absent.env"),
            "CUABOT_INDEX_DIR": str(settings.index_dir),
            "CUABOT_FEEDBACK_DB": str(tmp_path / "feedback.sqlite3"),
            "CUABOT_EMBEDDING__BACKEND": "openai",
            "CUABOT_EMBEDDING__URL": llama_url,
            "CUABOT_EMBEDDING__MODEL": MODEL_NAME,
            "CUABOT_GENERATION__BACKEND": "mock",
            "COLUMNS": "500",
            **env,
        }
        return subprocess.run([str(CUABOT), *args], env=environment, capture_output=True, text=True, timeout=300)

    answered = cuabot("ask", "Quand la déchetterie de Dainville est-elle ouverte ?")
    assert answered.returncode == 0, answered.stdout + answered.stderr
    assert "Page 0" in answered.stdout

    other_model = cuabot("ask", "Quand ?", CUABOT_EMBEDDING__MODEL="autre-modele")
    assert other_model.returncode == 2, other_model.stdout + other_model.stderr
    assert (
        f"a été construit avec l'embedder « openai:{MODEL_NAME} » ; le service utilise « openai:autre-modele »"
        in other_model.stdout
    )
    assert "relancez « cuabot ingest »" in other_model.stdout

    local = cuabot("serve", "--port", str(free_port()), CUABOT_EMBEDDING__BACKEND="e5")
    assert local.returncode == 2, local.stdout + local.stderr
    assert f"« openai:{MODEL_NAME} » ; le service utilise « e5 »" in local.stdout
    assert "Assistant prêt" not in local.stdout
