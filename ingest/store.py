"""The index on disk: a vector store (Chroma, embedded or server) plus a French BM25 index.

Layout of `index_dir`:
    current.json          pointer to the live generation (replaced atomically)
    chroma/               embedded Chroma (one collection per generation)
    gen-<id>/chunks.jsonl every chunk of that generation, verbatim, with its metadata
    gen-<id>/bm25/        the lexical index over the same chunks
    gen-<id>/sentences.jsonl  every sentence of those chunks (context, lemmas), in order
    gen-<id>/sentence_vectors.npy  one embedding per sentence context, same order
    gen-<id>/manifest.json  file hashes -> chunk ids (for incremental builds)

Readers resolve `current.json` once and only ever see a complete generation.
"""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any, Protocol, TypeVar
from urllib.parse import urlparse

import bm25s
import chromadb
import httpx
import numpy as np
from chromadb.config import Settings as ChromaSettings

from core.settings import Settings
from core.text import is_table_row, stemmer
from core.types import Chunk, Sentence
from ingest.int8 import INT8_IDENTITY
from ingest.remote_embeddings import RemoteConfig

POINTER = "current.json"
SENTENCES = "sentences.jsonl"
SENTENCE_VECTORS = "sentence_vectors.npy"
VECTOR_BATCH = 1000  # ids per read from the store (a Chroma server caps a request's size)
_T = TypeVar("_T")


class StoreUnavailable(RuntimeError):
    """The vector store's server cannot be reached: no question can be searched until it is back."""


class VectorStore(Protocol):
    """What the index needs from a vector database."""

    def create(self, name: str) -> None: ...

    def add(self, name: str, ids: list[str], vectors: np.ndarray, doc_ids: list[str]) -> None: ...

    def vectors(self, name: str, ids: list[str]) -> dict[str, np.ndarray]: ...

    def query(self, name: str, vector: np.ndarray, k: int, doc_ids: list[str] | None) -> list[tuple[str, float]]: ...

    def drop(self, name: str) -> None: ...

    def names(self) -> list[str]: ...


class ChromaStore:
    """Chroma with embeddings always passed in: its default embedding function never runs.

    On a Chroma server (`store.chroma_url`), a failure to reach it is `StoreUnavailable`; the client's connections
    are opened per request, so the same store answers again once the server is back.
    """

    def __init__(self, client: Any, url: str | None = None) -> None:
        self._client = client
        self._url = url

    @classmethod
    def from_settings(cls, settings: Settings) -> ChromaStore:
        chroma_settings = ChromaSettings(anonymized_telemetry=False)
        if not settings.store.chroma_url:
            path = str(settings.index_dir / "chroma")
            return cls(chromadb.PersistentClient(path=path, settings=chroma_settings))
        url = urlparse(settings.store.chroma_url)
        try:  # the client asks the server for its tenant at once; chromadb says ValueError when it is down
            client = chromadb.HttpClient(
                host=url.hostname or "localhost",
                port=url.port or (443 if url.scheme == "https" else 8000),
                ssl=url.scheme == "https",
                settings=chroma_settings,
            )
        except (ValueError, httpx.TransportError) as exc:
            raise StoreUnavailable(f"{settings.store.chroma_url} : {exc}") from exc
        return cls(client, settings.store.chroma_url)

    def problem(self, timeout_s: float) -> str | None:
        """Why the Chroma server cannot answer now (for /api/health), or None; always None when embedded."""
        if self._url is None:
            return None
        try:
            httpx.get(f"{self._url.rstrip('/')}/api/v2/heartbeat", timeout=timeout_s).raise_for_status()
        except httpx.HTTPError as exc:
            return f"serveur Chroma de l'index injoignable ({self._url}) : {type(exc).__name__}"
        return None

    def create(self, name: str) -> None:
        self._reach(
            lambda: self._client.create_collection(
                name, embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
            )
        )

    def add(self, name: str, ids: list[str], vectors: np.ndarray, doc_ids: list[str]) -> None:
        if ids:
            metadatas = [{"doc_id": d} for d in doc_ids]
            self._reach(lambda: self._collection(name).add(ids=ids, embeddings=vectors, metadatas=metadatas))

    def vectors(self, name: str, ids: list[str]) -> dict[str, np.ndarray]:
        if not ids:
            return {}
        got = self._reach(lambda: self._collection(name).get(ids=ids, include=["embeddings"]))
        return {i: np.asarray(v, dtype=np.float32) for i, v in zip(got["ids"], got["embeddings"], strict=True)}

    def query(self, name: str, vector: np.ndarray, k: int, doc_ids: list[str] | None) -> list[tuple[str, float]]:
        where = {"doc_id": {"$in": doc_ids}} if doc_ids else None
        result = self._reach(
            lambda: self._collection(name).query(
                query_embeddings=[vector], n_results=k, where=where, include=["distances"]
            )
        )
        return [(i, 1.0 - float(d)) for i, d in zip(result["ids"][0], result["distances"][0], strict=True)]

    def drop(self, name: str) -> None:
        self._reach(lambda: self._client.delete_collection(name))

    def names(self) -> list[str]:
        return self._reach(lambda: [c.name for c in self._client.list_collections()])

    def _collection(self, name: str) -> Any:
        return self._client.get_collection(name, embedding_function=None)

    def _reach(self, call: Callable[[], _T]) -> _T:
        """`call` on the store; a server that does not answer is `StoreUnavailable`."""
        try:
            return call()
        except httpx.TransportError as exc:
            raise StoreUnavailable(f"{self._url} : {type(exc).__name__}") from exc


def store_problem(store: VectorStore, timeout_s: float) -> str | None:
    """Why the vector store cannot answer now; only a Chroma server can be unreachable."""
    return store.problem(timeout_s) if isinstance(store, ChromaStore) else None


def tokenize(texts: list[str]) -> Any:
    return bm25s.tokenize(texts, stopwords="fr", stemmer=stemmer(), show_progress=False)


def build_bm25(chunks: list[Chunk], folder: Path) -> None:
    retriever = bm25s.BM25()
    retriever.index(tokenize([c.embedded_text() for c in chunks]), show_progress=False)
    retriever.save(str(folder))


def write_chunks(chunks: list[Chunk], path: Path) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for chunk in chunks:
            fh.write(json.dumps(asdict(chunk), ensure_ascii=False) + "\n")


# The fields of a `Chunk` that JSON stores as lists
_CHUNK_TUPLES = ("case_levels", "subchapter_levels")


def read_chunks(path: Path) -> list[Chunk]:
    with path.open(encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh if line.strip()]
    return [Chunk(**{**row, **{key: tuple(row.get(key, ())) for key in _CHUNK_TUPLES}}) for row in rows]


def write_sentences(sentences: list[Sentence], vectors: np.ndarray, folder: Path) -> None:
    with (folder / SENTENCES).open("w", encoding="utf-8") as fh:
        for sentence in sentences:
            fh.write(json.dumps(asdict(sentence), ensure_ascii=False) + "\n")
    np.save(folder / SENTENCE_VECTORS, vectors.astype(np.float32))


# The fields of a `Sentence` that JSON stores as lists
_SENTENCE_TUPLES = (
    "lemmas",
    "names",
    "numbers",
    "own_numbers",
    "links",
    "phones",
    "heading_lemmas",
    "heading_names",
    "heading_numbers",
)


def read_sentences(folder: Path) -> tuple[list[Sentence], np.ndarray]:
    """The sentences of a generation and their vectors (row i belongs to sentence i)."""
    with (folder / SENTENCES).open(encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh if line.strip()]
    sentences = [Sentence(**{**row, **{key: tuple(row.get(key, ())) for key in _SENTENCE_TUPLES}}) for row in rows]
    return sentences, np.load(folder / SENTENCE_VECTORS)


def write_json_atomically(data: dict[str, Any], path: Path) -> None:
    """Write to a temporary file, flush to disk, then rename over the target (atomic on POSIX)."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        json.dump(data, fh, ensure_ascii=False, indent=1)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def read_pointer(index_dir: Path) -> dict[str, Any] | None:
    path = index_dir / POINTER
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def embedder_identity(settings: Settings) -> str:
    """The embedder as the index records it: "gemma", "gemma-int8-<recipe>", "e5", "openai:<model>" (vectors of two
    differ; gemma's torch and onnx runtimes give the same vectors, its int8 copy close but other ones, and each int8
    recipe its own)."""
    embedding = settings.embedding
    if embedding.backend == "openai":
        return RemoteConfig.from_settings(settings).identity
    return INT8_IDENTITY if embedding.backend == "gemma" and embedding.runtime == "int8" else embedding.backend


def embedder_mismatch(settings: Settings) -> str | None:
    """The start-up check: a French message when the live index was built by another embedder than the settings'.

    Vectors of two embedders are not comparable: every question would find unrelated passages.
    """
    pointer = read_pointer(settings.index_dir)
    built, serving = (pointer or {}).get("embedder"), embedder_identity(settings)
    if pointer is None or built == serving:
        return None
    return (
        f"L'index {settings.index_dir} a été construit avec l'embedder « {built} » ; "
        f"le service utilise « {serving} » : relancez « cuabot ingest » pour le reconstruire avec celui-ci "
        "(ou remettez les réglages CUABOT_EMBEDDING__BACKEND, CUABOT_EMBEDDING__MODEL, "
        "CUABOT_EMBEDDING__*_PREFIX de la construction)."
    )


def table_rows(sentences: list[Sentence]) -> frozenset[str]:
    """The ids of the sentences that are a table's rows (« Colonne : valeur ; Colonne : valeur »), read once when an
    index is loaded: the read-on stops before one, and a question naming one row is shown it without the others."""
    return frozenset(sentence.sentence_id for sentence in sentences if is_table_row(sentence.text))


class IndexReader:
    """A read-only view of one complete generation of the index."""

    def __init__(self, settings: Settings, store: VectorStore | None = None) -> None:
        pointer = read_pointer(settings.index_dir)
        if pointer is None:
            raise FileNotFoundError(f"Aucun index dans {settings.index_dir} : lancez « cuabot ingest ».")
        self.generation_dir = settings.index_dir / pointer["generation"]
        self.collection: str = pointer["collection"]
        self.embedder_name: str = pointer["embedder"]
        self.store = store or ChromaStore.from_settings(settings)
        self.chunks = read_chunks(self.generation_dir / "chunks.jsonl")
        self.by_id = {c.chunk_id: c for c in self.chunks}
        self._bm25 = bm25s.BM25.load(str(self.generation_dir / "bm25"))
        manifest = json.loads((self.generation_dir / "manifest.json").read_text(encoding="utf-8"))
        self.documents: dict[str, dict[str, Any]] = {f["doc_id"]: f["info"] for f in manifest["files"].values()}
        self.sentences, self.sentence_vectors = read_sentences(self.generation_dir)
        self.sentences_by_chunk: dict[str, list[int]] = {}
        for row, sentence in enumerate(self.sentences):
            self.sentences_by_chunk.setdefault(sentence.chunk_id, []).append(row)
        self.table_rows = table_rows(self.sentences)
        exact = 0 < len(self.chunks) <= settings.store.exact_search_max_passages
        self._passage_vectors = self._read_passage_vectors() if exact else None

    def dense(self, vector: np.ndarray, k: int, doc_ids: list[str] | None = None) -> list[tuple[Chunk, float]]:
        """The k passages closest to `vector`: exact for a small index, else HNSW.

        Every embedder returns unit vectors (ingest/embeddings.py), so the dot product is the cosine.
        """
        if self._passage_vectors is None:
            hits = self.store.query(self.collection, vector, k, doc_ids)
            return [(self.by_id[i], score) for i, score in hits if i in self.by_id]
        scores = self._passage_vectors @ vector
        ranked = (int(row) for row in np.argsort(-scores, kind="stable"))
        allowed = (row for row in ranked if not doc_ids or self.chunks[row].doc_id in doc_ids)
        return [(self.chunks[row], float(scores[row])) for row in itertools.islice(allowed, k)]

    def _read_passage_vectors(self) -> np.ndarray:
        """The passage vectors in chunk order, read from the store in batches."""
        ids = [chunk.chunk_id for chunk in self.chunks]
        found: dict[str, np.ndarray] = {}
        for start in range(0, len(ids), VECTOR_BATCH):
            found.update(self.store.vectors(self.collection, ids[start : start + VECTOR_BATCH]))
        return np.stack([found[i] for i in ids]).astype(np.float32)

    def lexical(self, query: str, k: int, doc_ids: list[str] | None = None) -> list[tuple[Chunk, float]]:
        tokens = tokenize([query])
        if not tokens.ids[0]:
            return []
        results, scores = self._bm25.retrieve(tokens, k=len(self.chunks), show_progress=False, n_threads=1)
        hits = []
        for position, score in zip(results[0], scores[0], strict=True):
            chunk = self.chunks[int(position)]
            if score > 0 and (not doc_ids or chunk.doc_id in doc_ids):
                hits.append((chunk, float(score)))
            if len(hits) == k:
                break
        return hits
