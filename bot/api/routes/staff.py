"""Staff routes (`/api/admin/...`, bearer token): the corpus folder, re-indexing, question analytics.

Uploads are checked before they reach the corpus: type found from the content (not the name),
size limit, the file read by the same loader as the index; a refused file leaves the corpus as
it was. Changes reach residents after a re-index, built aside in a background thread while the
service answers from the previous generation (`current.json` switches atomically at the end).
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import unicodedata
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, HTTPException, UploadFile
from fastapi.responses import Response
from langchain_core.documents import Document

from bot.api.convert import index_estimate, reindex_report
from bot.api.deps import ADMIN_REFUSALS, AnalyticsStoreDep, ServiceDep, SettingsDep, from_state, require_admin
from bot.api.display import count, number, passages_computed, rate_text, time_left
from bot.api.schemas import IgnoredInstruction, IndexEstimate, ReindexReport, ReindexStatus, StaffDocument
from bot.stores.analytics import AnalyticsSummary, csv_text, summarise
from core.settings import REPO_ROOT, Settings
from core.types import DocumentInfo
from ingest.build import DiskFull, build_index
from ingest.chunking import chunk_document, make_splitter
from ingest.corpus import (
    corpus_files,
    doc_id_of,
    is_unchanged,
    overlong_token_share,
    read_manifest,
    unreadable_reason,
    write_manifest,
)
from ingest.embeddings import Embedder
from ingest.estimate import estimate, estimate_read
from ingest.loaders import UnreadableFile, load_file
from ingest.lock import IndexBusy, IndexLock
from ingest.store import IndexReader, VectorStore

log = logging.getLogger("cuabot.staff")

ADMIN_PAGE_DIR = REPO_ROOT / "ui" / "admin"
_READ_CHUNK = 1024 * 1024
_HTML_START = re.compile(rb"^\s*(<!doctype html|<html|<head|<body|<article|<main)", re.IGNORECASE)
_MARKDOWN_HINT = re.compile(r"^(#{1,6} |[-*] |\d+\. |>)", re.MULTILINE)
_FORMATS = "un PDF, une page HTML, un fichier Markdown ou un texte"
# Same wording as a build of another process refused by the index lock (ingest/lock.py)
BUSY = "Une indexation est déjà en cours : réessayez quand elle sera finie."

router = APIRouter(
    prefix="/api/admin", tags=["administration"], dependencies=[Depends(require_admin)], responses=ADMIN_REFUSALS
)


# --- Re-index job ----------------------------------------------------------------------------


Phase = Literal["", "reading", "passages", "writing"]
STAGES: dict[Phase, str] = {
    "": "",
    "reading": "Lecture des documents",
    "passages": "Analyse et embeddings des passages",
    "writing": "Écriture de l'index",
}


@dataclass
class ReindexJob:
    """At most one build at a time; its progress is read by GET /api/admin/reindex.

    `done`/`total` count the files read, plus one step for writing the new generation; `passages_done`/
    `passages_total`, `passages_per_s` and `eta_s` follow the passages analysed and embedded (the longest
    phase), the pace and seconds left null until the first group of passages is done.
    """

    state: Literal["idle", "running", "done", "failed"] = "idle"
    phase: Phase = ""
    done: int = 0
    total: int = 0
    passages_done: int = 0
    passages_total: int = 0
    passages_per_s: float | None = None
    eta_s: float | None = None
    started_at: str | None = None
    finished_at: str | None = None
    report: ReindexReport | None = None
    error: str | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    # Held while the corpus folder changes, so that a build never starts half-way through an upload
    corpus_lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def running(self) -> bool:
        return self.state == "running"

    def start(self, settings: Settings, embedder: Embedder, store: VectorStore) -> bool:
        """Start the build in a thread; False when one is already running here, IndexBusy when another process
        builds in the same index folder (its lock is taken here, so that the refusal comes before the 202)."""
        with self._lock:
            if self.running:
                return False
            index_lock = IndexLock(settings.index_dir)
            index_lock.acquire()
            self.state, self.started_at, self.finished_at, self.report, self.error = "running", _now(), None, None, None
            self.done = self.total = self.passages_done = self.passages_total = 0
            self.passages_per_s = self.eta_s = None
            self.phase = "reading"
        args = (settings, embedder, store, index_lock)
        threading.Thread(target=self._run, args=args, daemon=True, name="reindex").start()
        return True

    def _run(self, settings: Settings, embedder: Embedder, store: VectorStore, index_lock: IndexLock) -> None:
        try:
            report = build_index(
                settings,
                settings.corpus_dir,
                embedder_factory=lambda _settings: embedder,  # the service's own: no second model in memory
                store=store,
                on_file_read=self._file_read,
                on_progress=self._passages,
                lock=index_lock,
            )
            self.report, self.done, self.state = reindex_report(report), self.total, "done"
        except Exception as exc:  # the page must show the failure, not a bar stuck at 80 %
            log.exception("re-index failed")
            self.error = failure_message(exc)
            self.state, self.eta_s = "failed", None
        finally:
            index_lock.release()
        self.phase = ""
        self.finished_at = _now()

    def _file_read(self, done: int, total: int) -> None:
        # One more step than files: writing the new generation
        self.done, self.total = done, total + 1
        if done == total:
            self.phase = "passages"

    def _passages(self, done: int, total: int, rate: float, eta_s: float) -> None:
        self.passages_done, self.passages_total = done, total
        self.passages_per_s, self.eta_s = (round(rate, 3), round(eta_s, 1)) if done else (None, None)
        if done == total:
            self.phase = "writing"

    @property
    def stage(self) -> str:
        """The phase in French, as the staff page names it."""
        return STAGES[self.phase]

    @property
    def progress_text(self) -> str:
        """The progress in French, as the staff page shows it ("" when there is none to show)."""
        pace = f" ({rate_text(self.passages_per_s)})" if self.passages_per_s else ""
        if self.state == "done" and self.report is not None:
            # The pace is that of the passages analysed: shown when each of them was computed, not found by text
            done = passages_computed(self.report.embedded_passages, self.report.reused_passages)
            return f"Indexation terminée : {done}{'' if self.report.reused_passages else pace}."
        if not self.running:
            return ""
        if self.phase == "reading" or not self.passages_total:
            return f"{self.stage}…"
        passages = f"{self.stage} : {count(self.passages_done, 'passage')} sur {number(self.passages_total)}"
        if self.phase == "writing":
            return passages + pace
        left = time_left(self.eta_s) if self.eta_s is not None else "durée restante en cours d'estimation"
        return f"{passages} — {left}{pace}"

    def status(self) -> ReindexStatus:
        return ReindexStatus(**{k: getattr(self, k) for k in ReindexStatus.model_fields})


def failure_message(error: Exception) -> str:
    """What staff read of a failed build: the build's own French message when it has one (a full disk)."""
    if isinstance(error, DiskFull):
        return str(error)
    return f"L'indexation a échoué ({error.__class__.__name__}) : l'index précédent reste en service."


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


# The application's one re-index job (made by `create_api`)
ReindexJobDep = Annotated[ReindexJob, Depends(from_state("reindex_job"))]


# --- Corpus folder ---------------------------------------------------------------------------


def sniff_suffix(data: bytes, declared_name: str) -> str:
    """The format, from the bytes themselves: the file's name only tells Markdown from plain text."""
    if data.startswith(b"%PDF-"):
        return ".pdf"
    head = data[:4096]
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise HTTPException(415, f"Type de fichier non pris en charge : envoyez {_FORMATS}.")
    if _HTML_START.match(head.lstrip(b"\xef\xbb\xbf")):
        return ".html"
    text = head.decode("utf-8", errors="ignore")
    if Path(declared_name).suffix.lower() in {".md", ".markdown"} or _MARKDOWN_HINT.search(text):
        return ".md"
    return ".txt"


def slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:80]


def read_upload(upload: UploadFile, limit: int) -> bytes:
    """The upload's bytes, refused (413) past the size limit without reading further."""
    data = bytearray()
    while chunk := upload.file.read(_READ_CHUNK):
        data.extend(chunk)
        if len(data) > limit:
            raise HTTPException(413, f"Fichier trop volumineux : maximum {limit / 1_048_576:.0f} Mo.")
    if not data:
        raise HTTPException(422, "Le fichier est vide.")
    return bytes(data)


def check_readable(data: bytes, suffix: str, folder: Path, settings: Settings) -> tuple[Path, list[Document]]:
    """Write the upload to a hidden file of the folder (the index skips it) and read it as the index will.

    Returns that file for the caller to rename into place, and what it read (the estimate counts its passages);
    removes it and answers 422 when unreadable.
    """
    staged = folder / f".upload-{uuid.uuid4().hex}{suffix}"
    staged.write_bytes(data)
    try:
        units = load_file(staged, settings.ingestion)
        share = overlong_token_share("\n".join(u.page_content for u in units))
        if unreadable := unreadable_reason(share, settings.ingestion.garbled_token_share):
            raise UnreadableFile(unreadable)
    except UnreadableFile as exc:
        staged.unlink(missing_ok=True)
        raise HTTPException(422, f"Fichier refusé : {exc}.") from exc
    return staged, units


def metadata(title: str, publisher: str, date: str, previous: dict[str, str] | None = None) -> dict[str, str]:
    old = previous or {}
    return {
        "title": title.strip() or old.get("title", ""),
        "publisher": publisher.strip() or old.get("publisher", ""),
        "date": date.strip() or old.get("date", ""),
        "author": old.get("author", ""),
        "url": old.get("url", ""),
    }


def _indexed_as_is(folder: Path, rel: str, indexed: dict[str, dict[str, Any]]) -> bool:
    """The live index holds this file's present content."""
    entry = indexed.get(rel)
    return entry is not None and is_unchanged(folder / rel, entry)


def _pending_files(folder: Path, indexed: dict[str, dict[str, Any]]) -> list[Path]:
    """The files the next indexing reads and embeds: new, or changed since the live index."""
    return [folder / rel for rel in corpus_files(folder).values() if not _indexed_as_is(folder, rel, indexed)]


def _index_entries(reader: IndexReader) -> tuple[dict[str, dict[str, Any]], str | None]:
    """The live generation's files (rel -> fingerprint) and when it was written."""
    path = reader.generation_dir / "manifest.json"
    indexed_at = datetime.fromtimestamp(path.stat().st_mtime, UTC).isoformat(timespec="seconds")
    return json.loads(path.read_text(encoding="utf-8"))["files"], indexed_at


# --- Routes ----------------------------------------------------------------------------------

StaffUpload = Annotated[UploadFile, File(description="PDF, HTML, Markdown ou texte")]


@router.get("/documents", response_model=list[StaffDocument])
def list_documents(service: ServiceDep, settings: SettingsDep) -> list[StaffDocument]:
    """The corpus folder and the live index side by side: a file changed since is "pending"."""
    service.reload_if_reindexed()
    folder = settings.corpus_dir
    files, manifest = corpus_files(folder), read_manifest(folder)
    indexed, indexed_at = _index_entries(service.reader)
    passages: dict[str, int] = {}
    pages: dict[str, int] = {}
    for chunk in service.reader.chunks:
        passages[chunk.doc_id] = passages.get(chunk.doc_id, 0) + 1
        if chunk.page:
            pages[chunk.doc_id] = max(pages.get(chunk.doc_id, 0), chunk.page)
    rows = []
    for rel in sorted(set(files.values()) | set(indexed)):
        doc_id, entry, meta = doc_id_of(rel), indexed.get(rel), manifest.get(rel, {})
        info = (entry or {}).get("info", {})
        present = rel in files.values()
        if not present and files.get(doc_id, rel) != rel:
            continue  # replaced by a file of another format: one row, the new file's
        current = present and _indexed_as_is(folder, rel, indexed)
        rows.append(
            StaffDocument(
                document=doc_id,
                file=rel,
                title=meta.get("title") or info.get("title") or doc_id,
                publisher=meta.get("publisher", info.get("publisher", "")),
                date=meta.get("date", info.get("date", "")),
                pages=pages.get(doc_id) if entry else None,
                passages=passages.get(doc_id, 0) if entry else 0,
                indexed_at=indexed_at if entry else None,
                status="indexed" if current else "pending" if present else "removed",
                ignored_instructions=(entry or {}).get("ignored_instructions", []),
            )
        )
    return rows


@dataclass(frozen=True)
class DocumentUpload:
    """The upload form of POST and PUT /documents: the file's bytes and format, and the metadata fields."""

    data: bytes
    suffix: str
    filename: str
    title: str
    publisher: str
    date: str


def read_document_upload(
    settings: SettingsDep,
    file: StaffUpload,
    title: Annotated[str, Form(max_length=300)] = "",
    publisher: Annotated[str, Form(max_length=200)] = "",
    date: Annotated[str, Form(max_length=40)] = "",
) -> DocumentUpload:
    """The file read within the size limit (413, or 422 when empty) and typed from its content (415)."""
    data = read_upload(file, settings.api.upload_max_bytes)
    filename = file.filename or ""
    return DocumentUpload(data, sniff_suffix(data, filename), filename, title, publisher, date)


DocumentUploadDep = Annotated[DocumentUpload, Depends(read_document_upload)]


@router.post("/documents", response_model=StaffDocument, status_code=201)
def add_document(settings: SettingsDep, job: ReindexJobDep, upload: DocumentUploadDep) -> StaffDocument:
    """Add a file to the corpus folder (indexed at the next re-index)."""
    name = slug(Path(upload.filename).stem) or slug(upload.title) or f"document-{uuid.uuid4().hex[:8]}"
    folder = settings.corpus_dir
    with job.corpus_lock:
        if job.running:
            raise HTTPException(409, BUSY)
        if name in corpus_files(folder):
            raise HTTPException(409, f"Un document « {name} » existe déjà : remplacez-le ou renommez le fichier.")
        staged, units = check_readable(upload.data, upload.suffix, folder, settings)
        rel = f"{name}{upload.suffix}"
        os.replace(staged, folder / rel)
        manifest = read_manifest(folder)
        manifest[rel] = metadata(upload.title, upload.publisher, upload.date)
        write_manifest(folder, manifest)
    return _pending(settings, rel, manifest[rel], units)


@router.put("/documents/{document}", response_model=StaffDocument)
def replace_document(
    document: str, settings: SettingsDep, job: ReindexJobDep, upload: DocumentUploadDep
) -> StaffDocument:
    """Replace a file (its format may change); empty fields keep the previous title, publisher, date."""
    folder = settings.corpus_dir
    with job.corpus_lock:
        if job.running:
            raise HTTPException(409, BUSY)
        old_rel = _existing(folder, document)
        staged, units = check_readable(upload.data, upload.suffix, folder, settings)
        rel = Path(old_rel).with_suffix(upload.suffix).as_posix()
        os.replace(staged, folder / rel)
        if rel != old_rel:
            (folder / old_rel).unlink()
        manifest = read_manifest(folder)
        manifest[rel] = metadata(upload.title, upload.publisher, upload.date, manifest.pop(old_rel, None))
        write_manifest(folder, manifest)
    return _pending(settings, rel, manifest[rel], units)


@router.delete("/documents/{document}", status_code=204)
def remove_document(document: str, settings: SettingsDep, job: ReindexJobDep) -> Response:
    """Remove a file and its metadata (it leaves the index at the next re-index)."""
    folder = settings.corpus_dir
    with job.corpus_lock:
        if job.running:
            raise HTTPException(409, BUSY)
        rel = _existing(folder, document)
        (folder / rel).unlink()
        manifest = read_manifest(folder)
        if manifest.pop(rel, None) is not None:
            write_manifest(folder, manifest)
    return Response(status_code=204)


def _existing(folder: Path, document: str) -> str:
    rel = corpus_files(folder).get(document)
    if rel is None:
        raise HTTPException(404, f"Document introuvable : {document}.")
    return rel


def _pending(settings: Settings, rel: str, meta: dict[str, str], units: list[Document]) -> StaffDocument:
    """The file just stored, with how long its indexing should take (its passages counted from what the upload
    check read)."""
    return StaffDocument(
        document=doc_id_of(rel),
        file=rel,
        title=meta["title"] or doc_id_of(rel),
        publisher=meta["publisher"],
        date=meta["date"],
        pages=None,
        passages=0,
        indexed_at=None,
        status="pending",
        ignored_instructions=_ignored_instructions(settings, units),
        estimate=index_estimate(estimate_read(settings, units)),
    )


def _ignored_instructions(settings: Settings, units: list[Document]) -> list[IgnoredInstruction]:
    """What the index will leave out of the file for instructing the assistant, told to staff at the upload."""
    splitter = make_splitter(settings.ingestion.chunk_size, settings.ingestion.chunk_overlap)
    _, ignored = chunk_document(units, DocumentInfo(doc_id="upload", title="upload"), splitter)
    return [IgnoredInstruction(**asdict(sentence)) for sentence in ignored]


@router.post("/reindex", response_model=ReindexStatus, status_code=202)
def start_reindex(service: ServiceDep, settings: SettingsDep, job: ReindexJobDep) -> ReindexStatus:
    """Build the next index generation aside; the service answers from the current one meanwhile."""
    with job.corpus_lock:
        try:
            started = job.start(settings, service.embedder, service.reader.store)
        except IndexBusy as exc:  # `cuabot ingest` or another worker builds in the same index folder
            raise HTTPException(409, str(exc)) from exc
    if not started:
        raise HTTPException(409, BUSY)
    return job.status()


@router.get("/reindex", response_model=ReindexStatus)
def reindex_status(job: ReindexJobDep) -> ReindexStatus:
    return job.status()


@router.get("/reindex/estimate", response_model=IndexEstimate)
def reindex_estimate(service: ServiceDep, settings: SettingsDep) -> IndexEstimate:
    """How long the next indexing should take: the new and changed files, at this installation's pace."""
    service.reload_if_reindexed()
    indexed, _ = _index_entries(service.reader)
    return index_estimate(estimate(settings, _pending_files(settings.corpus_dir, indexed)))


# The store's own summary is the contract: what staff read, defined once (bot/stores/analytics.py)
@router.get("/analytics", response_model=AnalyticsSummary)
def analytics(store: AnalyticsStoreDep, settings: SettingsDep) -> AnalyticsSummary:
    """Questions per day, refusal and evidence-only rates, latency, most frequent unanswered topics."""
    rows = store.rows() if store else []
    return summarise(rows, settings.privacy.analytics_enabled, settings.privacy.analytics_retention_days)


@router.get("/analytics.csv", response_class=Response)
def analytics_csv(store: AnalyticsStoreDep) -> Response:
    text = csv_text(store.rows() if store else [])
    headers = {"Content-Disposition": 'attachment; filename="questions.csv"'}
    return Response(text, media_type="text/csv; charset=utf-8", headers=headers)
