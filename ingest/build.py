"""Incremental, atomic index build.

Only files whose content changed are read and embedded again; vectors of unchanged files are
copied from the previous generation, and so is the vector of any passage or sentence whose embedded text the
previous generation holds (an edited file's untouched passages; every text after a new index version, which reads
and cuts every file again, when the embedder is the same). Everything is written into a new generation (a fresh
folder and collection) and `current.json` is switched at the very end, so a run that dies
half-way leaves the previous index whole and in use.
"""

from __future__ import annotations

import errno
import json
import logging
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from rich.progress import Progress

from core.settings import Settings
from core.types import Chunk, Sentence
from ingest.chunking import chunk_document, make_splitter
from ingest.corpus import (
    document_info,
    fingerprint,
    list_files,
    overlong_token_share,
    read_manifest,
    readable_size,
    unreadable_reason,
)
from ingest.embeddings import Embedder, get_embedder
from ingest.estimate import record_pace
from ingest.loaders import UnreadableFile, load_file
from ingest.lock import IndexLock
from ingest.store import (
    POINTER,
    ChromaStore,
    VectorStore,
    build_bm25,
    embedder_identity,
    read_chunks,
    read_pointer,
    read_sentences,
    write_chunks,
    write_json_atomically,
    write_sentences,
)
from ingest.vectors import Previous, ProgressCallback, compute_vectors, embedded_context, late_chunked, timed

log = logging.getLogger("cuabot.ingest")

# Bump when loaders, chunking or the analysis stored with each sentence (core/text.py) change: every file is then
# read, cut and analysed again, and only the texts the live index holds no vector for are embedded (`_same_vectors`).
# v8: dates typeset one pair of digits a line; v9: hyphenated words and names (« Saint-Laurent-Blangy »); v10: lemmas
# without hyphens (« re-conditionnables » and « reconditionnables »); v11: heading paths (« Demande en France › Pièces
# à fournir »), lists and tables in HTML and Markdown, DILA fiches, instructions to the assistant kept out, each
# sentence's web addresses and phone numbers; v12: a table row is one sentence, a line ending with a web address is cut
# only after a full stop, no sentence opens with « : »; v13: a fiche's words keep the space an inline element holds
# (« demander une attestation », not « uneattestation »); v14: the levels of a passage's heading path that are
# situations or cases (a fiche's « Naissance en France »); v15: no sentence opens inside a token (« ?name(coq) ») nor
# with « € » or « % » (« Montant : 225,91 € »); v16: nor with a closing « » » (« (voir Section 7.4, « Qu'est ce qu'un
# fichier de contrôle ? ») présent dans tous les paquets. »); v17: a word's inclusive ending in brackets read as the
# word (« Caisse(s) de retraite étrangère(s) »), and whether a sentence offers an online service or a form and
# whether it refers back, stored; v18: a dotted acronym read as its letters (« l'I.A. » holds the name « IA »); v19: a
# rank as one word however it is written (« 4ème », « quatrième » -> « 4e »; « 1re », « première » -> « 1er »); v20:
# an HTML link to another site that is an entry of its own followed by its address (« Service en ligne : Demande en
# ligne (https://…) »); v21: an HTML panel shown by a tab or a radio button under its label, marked as a case; v22: a
# Markdown page read as the HTML it stands for (its lists, tables, links and emphasis); v23: the levels a fiche types as
# parts of a chapter (SousChapitre), a sentence's own numbers and whether it gives a time of day, stored.
INDEX_VERSION = 23


def index_signature(settings: Settings) -> str:
    """What the stored vectors depend on besides the files themselves."""
    chunking = settings.ingestion
    signature = f"v{INDEX_VERSION}:{embedder_identity(settings)}:{chunking.chunk_size}:{chunking.chunk_overlap}"
    return signature + _sentence_vectors_form(settings)


def _sentence_vectors_form(settings: Settings) -> str:
    """How a sentence's vector is formed besides its text, as the signature ends: late-chunked sentence vectors differ
    from separately embedded ones (ingest/vectors.py), and so do those embedded under their heading line."""
    late = late_chunked(settings)
    return (":late" if late else "") + (":heading" if settings.embedding.sentence_heading else "")


def _same_vectors(pointer: dict[str, Any], settings: Settings) -> bool:
    """Whether the live generation's vectors are those this build computes for the same texts: the same embedder, and
    sentence vectors formed the same way, whatever the index version and the chunking. A late-chunked sentence's
    vector reads its whole passage, not its text alone: never reused."""
    signature, form = pointer.get("signature", ""), _sentence_vectors_form(settings)
    same_form = signature.endswith(form) and not signature.removesuffix(form).endswith((":late", ":heading"))
    return pointer.get("embedder") == embedder_identity(settings) and same_form and not late_chunked(settings)


DISK_FULL = (
    "Espace disque insuffisant pour écrire le nouvel index : l'index précédent reste en service. "
    "Libérez de la place puis relancez l'indexation."
)
# The same on a first build, when no earlier index can serve
DISK_FULL_FIRST = "Espace disque insuffisant pour écrire l'index. Libérez de la place puis relancez l'indexation."
# How the embedded store (Chroma over SQLite) says it: « (code: 13) database or disk is full »
_DISK_FULL_WORDS = ("database or disk is full", "no space left on device")


class DiskFull(RuntimeError):
    """The index folder's disk filled up while the next generation was written (that generation is removed)."""

    def __init__(self, first_build: bool = False) -> None:
        super().__init__(DISK_FULL_FIRST if first_build else DISK_FULL)


def _is_disk_full(error: BaseException) -> bool:
    """ENOSPC, or a store error saying so, anywhere in the chain of causes."""
    cause: BaseException | None = error
    seen: set[int] = set()
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, OSError) and cause.errno == errno.ENOSPC:
            return True
        if any(words in str(cause).lower() for words in _DISK_FULL_WORDS):
            return True
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    return False


@contextmanager
def _raising_disk_full(index_dir: Path) -> Iterator[None]:
    """A full disk raised as DiskFull (what staff can act on), any other error as it is."""
    try:
        yield
    except Exception as exc:
        if _is_disk_full(exc):
            raise DiskFull(first_build=read_pointer(index_dir) is None) from exc
        raise


def outdated_index(settings: Settings) -> str | None:
    """The start-up warning: a French message when the live index was built by an earlier version of the
    assistant or with other chunking settings, else None. It still answers; the next re-index rebuilds it whole."""
    pointer = read_pointer(settings.index_dir)
    if pointer is None or pointer.get("signature") == index_signature(settings):
        return None
    return (
        f"L'index {settings.index_dir} a été construit par une version antérieure de l'assistant ou avec d'autres "
        "réglages de découpage : il répond toujours, mais lancez « cuabot ingest » (ou « Réindexer » sur la page "
        "d'administration) pour le reconstruire."
    )


@dataclass
class BuildReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    # Text quality of every document read in this run: share of over-long (glued) tokens
    quality: dict[str, float] = field(default_factory=dict)
    # Documents skipped because their words come out glued together, with the over-long token share
    garbled: list[tuple[str, float]] = field(default_factory=list)
    # Sentences of the documents read in this run kept out of the index for instructing the assistant (indirect
    # prompt injection), per file: text, page, section (also in the generation's manifest, for the staff page)
    instructions: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    embedded_chunks: int = 0
    # Passages to embed whose vector the previous generation held for the same text (`_previous_passage_vectors`)
    reused_chunks: int = 0
    total_chunks: int = 0
    embedded_sentences: int = 0
    total_sentences: int = 0
    seconds: float = 0.0
    # Passages embedded per second of the whole build (reading, analysis, embeddings, writes)
    passages_per_s: float = 0.0
    # Passages analysed and embedded, and their pace: what staff see, what estimates use (ingest/estimate.py)
    analysed_passages: int = 0
    analysed_per_s: float = 0.0
    # How this build's new sentence vectors were computed: "late" or "separate" (ingest/vectors.py)
    sentence_vectors: str = ""
    # Where the time went, in seconds: read (files, extraction, chunking), model (loading the embedder),
    # analyse (sentences, spaCy), embed (transformer passes), store (vector store), bm25, write (files)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)


@dataclass
class _Previous:
    """What the live generation holds, or nothing."""

    files: dict[str, dict[str, Any]]
    chunks: dict[str, list[Chunk]]
    collection: str | None
    sentences: dict[str, list[Sentence]] = field(default_factory=dict)
    sentence_vectors: dict[str, np.ndarray] = field(default_factory=dict)
    vectors_by_sentence: dict[str, np.ndarray] = field(default_factory=dict)
    # Its passages' ids by embedded text, when this build would compute the same vectors (`_same_vectors`)
    passage_ids: dict[str, str] = field(default_factory=dict)


@dataclass
class _NextGeneration:
    """The generation being assembled: each file's fingerprint and chunks, and what to embed."""

    previous: _Previous
    infos: dict[str, dict[str, str]]
    splitter: Any
    settings: Settings
    report: BuildReport = field(default_factory=BuildReport)
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    chunks_by_file: dict[str, list[Chunk]] = field(default_factory=dict)
    to_embed: list[Chunk] = field(default_factory=list)

    def add_file(self, path: Path, rel: str) -> None:
        old = self.previous.files.get(rel)
        size, limit = path.stat().st_size, self.settings.ingestion.max_document_bytes
        if size > limit:
            self._skip(rel, f"fichier trop volumineux ({readable_size(size)} ; maximum {readable_size(limit)})", old)
            return
        entry = fingerprint(path, old)
        if old and entry["sha256"] == old["sha256"]:
            self._keep_previous(rel, {**old, **entry})
            self.report.unchanged.append(rel)
            return
        try:
            units = load_file(path, self.settings.ingestion)
        except UnreadableFile as exc:
            self._skip(rel, str(exc), old)
            return
        share = overlong_token_share("\n".join(u.page_content for u in units))
        self.report.quality[rel] = share
        if unreadable := unreadable_reason(share, self.settings.ingestion.garbled_token_share):
            self.report.garbled.append((rel, share))
            self._skip(rel, unreadable, old)
            return
        info = document_info(rel, path, units, self.infos)
        chunks, ignored = chunk_document(units, info, self.splitter)
        instructions = [asdict(sentence) for sentence in ignored]
        self.files[rel] = {**entry, "doc_id": info.doc_id, "info": asdict(info), "ignored_instructions": instructions}
        if instructions:
            self.report.instructions[rel] = instructions
        self.chunks_by_file[rel] = chunks
        self.to_embed.extend(chunks)
        (self.report.updated if old else self.report.added).append(rel)

    def _skip(self, rel: str, reason: str, old: dict[str, Any] | None) -> None:
        if old:
            reason += " ; l'ancienne version reste dans l'index"
            self._keep_previous(rel, old)
        self.report.skipped.append((rel, reason))

    def _keep_previous(self, rel: str, entry: dict[str, Any]) -> None:
        self.files[rel] = entry
        self.chunks_by_file[rel] = self.previous.chunks[rel]


def build_index(
    settings: Settings,
    folder: Path | None = None,
    embedder_factory: Callable[[Settings], Embedder] = get_embedder,
    store: VectorStore | None = None,
    on_file_read: Callable[[int, int], None] | None = None,
    on_progress: ProgressCallback | None = None,
    lock: IndexLock | None = None,
) -> BuildReport:
    """`on_file_read(done, total)` follows the reading of the files (the admin page's progress bar), then
    `on_progress(done, total, rate, eta_s)` the passages analysed and embedded: done out of total,
    passages per second, seconds left (ingest/vectors.py).

    The whole build holds the index folder's lock (`lock`, when the caller took it already): IndexBusy when
    another build runs; DiskFull when the disk filled up, the previous generation still live."""
    with lock or IndexLock(settings.index_dir):
        return _build(settings, folder, embedder_factory, store, on_file_read, on_progress)


def _build(
    settings: Settings,
    folder: Path | None,
    embedder_factory: Callable[[Settings], Embedder],
    store: VectorStore | None,
    on_file_read: Callable[[int, int], None] | None,
    on_progress: ProgressCallback | None,
) -> BuildReport:
    started = time.perf_counter()
    folder = (folder or settings.corpus_dir).resolve()
    if not folder.is_dir():
        raise FileNotFoundError(f"Dossier introuvable : {folder}")
    settings.index_dir.mkdir(parents=True, exist_ok=True)
    with _raising_disk_full(settings.index_dir):  # the embedded store writes to its database as it opens
        store = store or ChromaStore.from_settings(settings)
    previous = _load_previous(settings)
    plan = _NextGeneration(
        previous,
        read_manifest(folder),
        make_splitter(settings.ingestion.chunk_size, settings.ingestion.chunk_overlap),
        settings,
    )
    report = plan.report
    candidates, unsupported = list_files(folder)
    report.skipped.extend(unsupported)
    with timed(report.timings, "read"), Progress() as progress:
        task = progress.add_task("Lecture des documents", total=len(candidates))
        for done, path in enumerate(candidates, start=1):
            plan.add_file(path, path.relative_to(folder).as_posix())
            progress.advance(task)
            if on_file_read:
                on_file_read(done, len(candidates))
    report.removed = sorted(set(previous.files) - set(plan.files) - {r for r, _ in report.skipped})
    report.total_chunks = sum(len(c) for c in plan.chunks_by_file.values())

    if report.changed or previous.collection is None:
        _write_generation(settings, store, plan, embedder_factory, on_progress)
        # The pace of the passages embedded: counting those whose vector was found would make estimates too short
        computed = report.analysed_passages - report.reused_chunks
        record_pace(settings, computed, report.analysed_per_s * computed / max(report.analysed_passages, 1))
    elif plan.files != previous.files:
        _refresh_fingerprints(settings, plan.files)
    _remove_stale_generations(settings, store)
    report.seconds = time.perf_counter() - started
    report.passages_per_s = report.embedded_chunks / report.seconds if report.seconds else 0.0
    return report


def _load_previous(settings: Settings) -> _Previous:
    """The live generation: its files and chunks to keep when its signature is this build's; else, when its vectors
    are the ones this build would compute, only those vectors, found by text (every file is read and cut again)."""
    pointer = read_pointer(settings.index_dir)
    same = pointer is not None and pointer.get("signature") == index_signature(settings)
    by_text = pointer is not None and _same_vectors(pointer, settings)
    if pointer is None or not (same or by_text):
        return _Previous(files={}, chunks={}, collection=None)
    generation = settings.index_dir / pointer["generation"]
    manifest = json.loads((generation / "manifest.json").read_text(encoding="utf-8"))
    by_doc: dict[str, list[Chunk]] = {}
    for chunk in read_chunks(generation / "chunks.jsonl"):
        by_doc.setdefault(chunk.doc_id, []).append(chunk)
    files = manifest["files"]
    chunks = {rel: by_doc.get(entry["doc_id"], []) for rel, entry in files.items()}
    sentences, vectors = read_sentences(generation)
    by_chunk: dict[str, list[Sentence]] = {}
    for sentence in sentences:
        by_chunk.setdefault(sentence.chunk_id, []).append(sentence)
    chunk_by_id = {c.chunk_id: c for kept in chunks.values() for c in kept}
    return _Previous(
        files=files if same else {},
        chunks=chunks if same else {},
        collection=pointer["collection"],
        sentences=by_chunk if same else {},
        sentence_vectors={
            embedded_context(chunk_by_id[s.chunk_id], s, settings.embedding.sentence_heading): v
            for s, v in zip(sentences, vectors, strict=True)
            if s.chunk_id in chunk_by_id
        },
        vectors_by_sentence={s.sentence_id: v for s, v in zip(sentences, vectors, strict=True)} if same else {},
        passage_ids={chunk.embedded_text(): chunk_id for chunk_id, chunk in chunk_by_id.items()} if by_text else {},
    )


def _write_generation(
    settings: Settings,
    store: VectorStore,
    plan: _NextGeneration,
    embedder_factory: Callable[[Settings], Embedder],
    on_progress: ProgressCallback | None = None,
) -> None:
    """Write the next generation aside, then point `current.json` at it.

    A failure leaves nothing of it behind (its folder and collection removed), the pointer naming the previous
    generation; a full disk is told as DiskFull, any other error propagates as it is."""
    generation_id = time.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]
    generation = settings.index_dir / f"gen-{generation_id}"
    collection = f"cuabot-{generation_id}"
    with _raising_disk_full(settings.index_dir):
        try:
            generation.mkdir()
            _fill_generation(settings, store, plan, embedder_factory, on_progress, generation, collection)
            _point_to(settings, generation, collection)
        except BaseException:
            _remove_partial_generation(store, generation, collection)
            raise


def _remove_partial_generation(store: VectorStore, generation: Path, collection: str) -> None:
    """Best effort: what a full disk keeps from being removed now, the next build removes (stale generations)."""
    shutil.rmtree(generation, ignore_errors=True)
    try:
        if collection in store.names():
            store.drop(collection)
    except Exception:
        log.warning("collection %s of the failed build left for the next build to remove", collection, exc_info=True)


def _fill_generation(
    settings: Settings,
    store: VectorStore,
    plan: _NextGeneration,
    embedder_factory: Callable[[Settings], Embedder],
    on_progress: ProgressCallback | None,
    generation: Path,
    collection: str,
) -> None:
    """The new collection's vectors and the generation folder's files (chunks, sentences, BM25, manifest)."""
    previous, files, chunks_by_file, to_embed = plan.previous, plan.files, plan.chunks_by_file, plan.to_embed
    report, timings = plan.report, plan.report.timings
    fresh_ids = {c.chunk_id for c in to_embed}
    kept = [c for chunks in chunks_by_file.values() for c in chunks if c.chunk_id not in fresh_ids]
    with timed(timings, "store"):
        store.create(collection)
        if kept and previous.collection:
            copied = store.vectors(previous.collection, [c.chunk_id for c in kept])
            store.add(collection, list(copied), np.vstack(list(copied.values())), [c.doc_id for c in kept])
    embedder = cache(lambda: embedder_factory(settings))  # loaded only if something needs embedding
    all_chunks = [c for rel in sorted(chunks_by_file) for c in chunks_by_file[rel]]
    with timed(timings, "store"):
        by_text = _previous_passage_vectors(store, previous, to_embed)
    known = Previous(previous.sentences, previous.vectors_by_sentence, previous.sentence_vectors, by_text)
    vectors = compute_vectors(settings, all_chunks, fresh_ids, known, embedder, timings, on_progress)
    report.embedded_chunks, report.reused_chunks = len(to_embed) - vectors.reused, vectors.reused
    report.embedded_sentences, report.total_sentences = vectors.embedded_sentences, len(vectors.sentences)
    report.sentence_vectors = vectors.mode
    report.analysed_passages, report.analysed_per_s = vectors.analysed, vectors.analysed_per_s
    with timed(timings, "store"):
        if to_embed:
            passages = np.vstack([vectors.passages[c.chunk_id] for c in to_embed])
            store.add(collection, [c.chunk_id for c in to_embed], passages, [c.doc_id for c in to_embed])
    with timed(timings, "write"):
        write_sentences(vectors.sentences, vectors.sentence_vectors, generation)
        write_chunks(all_chunks, generation / "chunks.jsonl")
    with timed(timings, "bm25"):
        build_bm25(all_chunks, generation / "bm25")
    write_json_atomically({"embedder": embedder_identity(settings), "files": files}, generation / "manifest.json")


def _previous_passage_vectors(store: VectorStore, previous: _Previous, to_embed: list[Chunk]) -> dict[str, np.ndarray]:
    """The live generation's vectors of the passages to embed whose embedded text it holds, by that text: the same
    text gives the same vector."""
    wanted = {chunk_id: text for c in to_embed if (chunk_id := previous.passage_ids.get(text := c.embedded_text()))}
    if not wanted or previous.collection is None:
        return {}
    return {wanted[chunk_id]: vector for chunk_id, vector in store.vectors(previous.collection, list(wanted)).items()}


def _point_to(settings: Settings, generation: Path, collection: str) -> None:
    """Make `generation` the live one (atomic), remembering the one before for the servers still reading it."""
    old_pointer = read_pointer(settings.index_dir) or {}
    write_json_atomically(
        {
            "generation": generation.name,
            "collection": collection,
            "embedder": embedder_identity(settings),
            "signature": index_signature(settings),
            "previous": {k: old_pointer.get(k) for k in ("generation", "collection")},
        },
        settings.index_dir / POINTER,
    )


def _refresh_fingerprints(settings: Settings, files: dict[str, dict[str, Any]]) -> None:
    """Same content, new mtimes (a copy, a checkout): remember them so the next run skips hashing."""
    pointer = read_pointer(settings.index_dir)
    assert pointer is not None
    path = settings.index_dir / pointer["generation"] / "manifest.json"
    write_json_atomically({"embedder": embedder_identity(settings), "files": files}, path)


def _remove_stale_generations(settings: Settings, store: VectorStore) -> None:
    """Keep the live generation and the one before it (a running server may still read it)."""
    pointer = read_pointer(settings.index_dir)
    if pointer is None:
        return
    previous = pointer.get("previous") or {}
    keep_dirs = {pointer["generation"], previous.get("generation")}
    keep_collections = {pointer["collection"], previous.get("collection")}
    for path in settings.index_dir.glob("gen-*"):
        if path.name not in keep_dirs:
            shutil.rmtree(path, ignore_errors=True)
    for name in store.names():
        if name.startswith("cuabot-") and name not in keep_collections:
            store.drop(name)
