"""The index on a real Chroma server (`chroma run`, as a deployment with CUABOT_STORE__CHROMA_URL would use it).

The shipped corpus is indexed with e5 through the server; the questions of tests/bot/test_retrieval.py
must then find the same passages and evidence as on the embedded store. The e5 vectors are taken
from the session's embedded index (`e5_corpus_index`) where it has them: the build, the server
and the queries are real, and the run does not pay for embedding the corpus twice.
"""

import sys
from collections.abc import Iterator
from pathlib import Path

import chromadb
import numpy as np
import pytest

from bench.servers import free_port, served
from bot.answer.evidence import EvidenceRanker
from bot.answer.retrieval import Retriever
from bot.answer.service import read_question
from core.settings import REPO_ROOT, Settings
from ingest.build import build_index
from ingest.embeddings import E5Embedder
from ingest.store import IndexReader, read_pointer
from tests.fixtures.factories import make_settings

pytestmark = pytest.mark.slow
CHROMA = Path(sys.executable).parent / "chroma"
START_TIMEOUT_S = 60.0


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("chroma-server")
    port = free_port()
    command = [str(CHROMA), "run", "--path", str(folder / "data"), "--host", "127.0.0.1", "--port", str(port)]
    with served(command, port, {"ANONYMIZED_TELEMETRY": "False"}, START_TIMEOUT_S, "/api/v2/heartbeat") as url:
        yield url


class KnownVectorsEmbedder(E5Embedder):
    """e5, answering from the vectors an embedded e5 index of the same corpus already holds."""

    def __init__(self, index_dir: Path) -> None:
        reader = IndexReader(make_settings(embedding__backend="e5", index_dir=index_dir))
        vectors = reader.store.vectors(reader.collection, [c.chunk_id for c in reader.chunks])
        self.known = {c.embedded_text(): vectors[c.chunk_id] for c in reader.chunks}
        self.known.update((s.context, v) for s, v in zip(reader.sentences, reader.sentence_vectors, strict=True))

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        missing = [t for t in texts if t not in self.known]
        if missing:
            self.known.update(zip(missing, super().embed_documents(missing), strict=True))
        return np.vstack([self.known[t] for t in texts])


@pytest.fixture(scope="module")
def server_settings(chroma_url: str, e5_corpus_index: Path, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    index_dir = tmp_path_factory.mktemp("server-index") / "index"
    with pytest.MonkeyPatch.context() as env:
        env.setenv("CUABOT_STORE__CHROMA_URL", chroma_url)
        settings = make_settings(embedding__backend="e5", index_dir=index_dir)
    embedder = KnownVectorsEmbedder(e5_corpus_index)
    report = build_index(settings, REPO_ROOT / "corpus", lambda _s: embedder)
    assert len(report.added) == 5 and not report.skipped
    return settings


def test_the_vectors_live_on_the_server(server_settings: Settings, chroma_url: str) -> None:
    pointer = read_pointer(server_settings.index_dir)
    assert pointer is not None and not (server_settings.index_dir / "chroma").exists()
    client = chromadb.HttpClient(host="127.0.0.1", port=int(chroma_url.rsplit(":", 1)[1]))
    reader = IndexReader(server_settings)
    assert client.get_collection(pointer["collection"]).count() == len(reader.chunks) > 50


def _evidence(settings: Settings, question: str) -> tuple[list[str], list[str], list[str]]:
    """Dense hits, fused passages and the first three evidence sentences for `question`."""
    reader = IndexReader(settings)
    ranker = EvidenceRanker(reader, settings)
    vector = E5Embedder().embed_query(question)
    passages = Retriever(reader, settings).search(question, vector)
    evidence = ranker.rank(
        ranker.terms(read_question(question, [], settings.retrieval.follow_up_max_words)), vector, passages
    )
    return (
        [c.chunk_id for c, _ in reader.dense(vector, 10)],
        [p.chunk.chunk_id for p in passages],
        [e.sentence.context for e in evidence[:3]],
    )


@pytest.mark.parametrize(
    "question",
    [
        "Combien de visiteurs au Numericamp 2024 ?",
        "Combien d'intervenants ont pris la parole au Numericamp ?",
        "Qui animait l'atelier cyber-attaque ?",
    ],
)
def test_retrieval_through_the_server_matches_the_embedded_store(
    server_settings: Settings, e5_corpus_index: Path, question: str
) -> None:
    """The questions of tests/bot/test_retrieval.py: same passages and evidence, whichever store holds the vectors."""
    embedded = make_settings(embedding__backend="e5", index_dir=e5_corpus_index)
    dense, passages, evidence = _evidence(server_settings, question)
    assert len(dense) == 10 and len(evidence) == 3
    assert (dense, passages, evidence) == _evidence(embedded, question)
