"""The corpus folder's rules, one home for the build and the staff routes.

A document's id, which files are indexable, the folder's manifest (title, publisher, date per
file), a file's fingerprint (for change detection), and whether its text is readable: a PDF
whose text layer lacks spaces ("Ilexisteplusieursmanièresd'enregistrer") gives long runs of
letters that no search can match, and is better refused with its French reason.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from langchain_core.documents import Document

from core.types import DocumentInfo
from ingest.loaders import SUPPORTED_SUFFIXES, document_title
from ingest.store import write_json_atomically

CORPUS_MANIFEST = "manifest.json"
OVERLONG_TOKEN_CHARS = 25
_ADDRESS_MARKS = ("/", "\\", "@", "www.")


def doc_id_of(rel: str) -> str:
    """The id the index gives a file: its path in the corpus folder without suffix, "/" as "-"."""
    return Path(rel).with_suffix("").as_posix().replace("/", "-")


def list_files(folder: Path) -> tuple[list[Path], list[tuple[str, str]]]:
    """The indexable files of `folder`, and the other files with the French reason they are skipped.

    Hidden files and folders (an upload being checked) and the manifest are neither.
    """
    indexable: list[Path] = []
    unsupported: list[tuple[str, str]] = []
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if not path.is_file() or rel == CORPUS_MANIFEST or any(p.startswith(".") for p in Path(rel).parts):
            continue
        if path.suffix.lower() in SUPPORTED_SUFFIXES:
            indexable.append(path)
        else:
            unsupported.append((rel, f"format non pris en charge ({path.suffix or 'sans extension'})"))
    return indexable, unsupported


def corpus_files(folder: Path) -> dict[str, str]:
    """doc_id -> relative path of every indexable file of the folder."""
    return {
        doc_id_of(p.relative_to(folder).as_posix()): p.relative_to(folder).as_posix() for p in list_files(folder)[0]
    }


def read_manifest(folder: Path) -> dict[str, dict[str, str]]:
    """The folder's metadata per file (title, publisher, date, author, url)."""
    path = folder / CORPUS_MANIFEST
    return dict(json.loads(path.read_text(encoding="utf-8")).get("documents", {})) if path.exists() else {}


def write_manifest(folder: Path, documents: dict[str, dict[str, str]]) -> None:
    write_json_atomically({"documents": documents}, folder / CORPUS_MANIFEST)


def document_info(rel: str, path: Path, units: list[Document], manifest: dict[str, dict[str, str]]) -> DocumentInfo:
    """What the manifest says of a file, its title and address otherwise found in the file itself (a fiche's page)."""
    meta = manifest.get(rel, {})
    return DocumentInfo(
        doc_id=doc_id_of(rel),
        title=meta.get("title") or document_title(path, units),
        publisher=meta.get("publisher", ""),
        date=meta.get("date", ""),
        author=meta.get("author", ""),
        url=meta.get("url") or next((str(u.metadata["url"]) for u in units if u.metadata.get("url")), ""),
    )


def fingerprint(path: Path, old: dict[str, Any] | None = None) -> dict[str, Any]:
    """Size, mtime and sha256; the file is not read when size and mtime are those of `old`."""
    stat = path.stat()
    if old and old["size"] == stat.st_size and old["mtime_ns"] == stat.st_mtime_ns:
        return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": old["sha256"]}
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": digest}


def is_unchanged(path: Path, entry: dict[str, Any]) -> bool:
    """True when the file still has the content fingerprinted in `entry`."""
    return bool(fingerprint(path, entry)["sha256"] == entry["sha256"])


def readable_size(size: int) -> str:
    """A file size for staff, in French units: "12,3 Mo", "30 Ko"."""
    if size >= 1024 * 1024:
        return f"{size / 1024 / 1024:.1f} Mo".replace(".", ",")
    return f"{-(-size // 1024)} Ko"


def overlong_token_share(text: str) -> float:
    """Share of whitespace-separated tokens longer than 25 characters, URLs and paths left out."""
    tokens = [t for t in text.split() if not any(mark in t for mark in _ADDRESS_MARKS)]
    if not tokens:
        return 0.0
    return sum(len(t) > OVERLONG_TOKEN_CHARS for t in tokens) / len(tokens)


def unreadable_reason(share: float, threshold: float) -> str | None:
    """Why a document whose share of glued words is `share` cannot be indexed, in French; None when it can."""
    if share <= threshold:
        return None
    return f"texte illisible ({share * 100:.0f} % de mots collés) : PDF à refaire ou à convertir"
