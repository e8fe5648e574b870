"""A PDF's title and page texts, read in a child process bounded in memory, time and pages.

A 1 MB PDF can inflate a content stream to gigabytes, announce 10,000 pages or nest its objects
until the parser's recursion gives out; PDFium is C code that Python cannot interrupt. So the file
is read by this module run as a script in a child process, which lowers its own address-space limit
(RLIMIT_AS) and CPU time before opening the file; the parent kills it past the wall-clock limit.
Whatever goes wrong comes back as `PdfRefused` with its French reason, and the parent's memory
never holds more than the extracted text.

The child imports only the standard library, pypdf and pypdfium2 (run as a file, not as a module of
the `ingest` package, so it loads neither the embedder nor the rest of the loaders).
"""

from __future__ import annotations

import json
import resource
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_MEBIBYTE = 1024 * 1024
# The child's exit status when it wrote a French refusal on stdout rather than the text
_REFUSED = 3


class PdfRefused(Exception):
    """The PDF was not read; the message says why, in French, for staff."""


@dataclass(frozen=True)
class PdfLimits:
    """What reading one PDF may cost (core/settings.py `Ingestion.pdf_*`)."""

    max_pages: int
    max_memory_mb: int
    timeout_s: float


@dataclass(frozen=True)
class PdfText:
    title: str
    pages: list[str]


def read_pdf(path: Path, limits: PdfLimits) -> PdfText:
    """The PDF's title and each page's text, read by a bounded child process; `PdfRefused` when it cannot be."""
    cpu_seconds = int(limits.timeout_s) + 1
    command = [sys.executable, "-I", str(Path(__file__).resolve()), str(path)]
    command += [str(limits.max_pages), str(limits.max_memory_mb * _MEBIBYTE), str(cpu_seconds)]
    try:
        child = subprocess.run(command, capture_output=True, timeout=limits.timeout_s, check=False)
    except subprocess.TimeoutExpired as exc:
        raise PdfRefused(_too_slow(limits)) from exc
    if child.returncode == 0:
        result = json.loads(child.stdout)
        return PdfText(result["title"], result["pages"])
    if child.returncode == _REFUSED:
        raise PdfRefused(json.loads(child.stdout)["refused"])
    if child.returncode in (-signal.SIGXCPU, -signal.SIGKILL):
        raise PdfRefused(_too_slow(limits))
    raise PdfRefused(f"PDF trop lourd à lire (plus de {limits.max_memory_mb} Mo de mémoire) ou corrompu")


def _too_slow(limits: PdfLimits) -> str:
    return f"PDF trop long à lire (plus de {limits.timeout_s:g} s)".replace(".", ",")


# --- The child ------------------------------------------------------------------------------


def _limit_self(memory_bytes: int, cpu_seconds: int) -> None:
    """The child's own address space and CPU seconds, set before it imports the parsers (the wall clock is the
    parent's)."""
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))


def _extract(path: Path, max_pages: int) -> dict[str, Any]:
    """Title and page texts, or {"refused": reason}: pypdf checks the file and reads its title, PDFium reads the
    text (pypdf glues words together); the page count is checked before any page is read."""
    import pypdfium2 as pdfium
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(path)
        if reader.is_encrypted:
            return {"refused": "PDF protégé par un mot de passe"}
        announced = len(reader.pages)
        if announced > max_pages:
            return {"refused": f"PDF trop long ({announced} pages ; maximum {max_pages})"}
        title = (reader.metadata.title if reader.metadata else None) or ""
        document = pdfium.PdfDocument(path)
        if len(document) > max_pages:
            return {"refused": f"PDF trop long ({len(document)} pages ; maximum {max_pages})"}
        pages = _pdfium_pages(document)
    except MemoryError:
        return {"refused": "PDF trop lourd à lire (mémoire dépassée)"}
    except RecursionError:
        return {"refused": "PDF illisible (objets imbriqués trop profondément)"}
    except (PdfReadError, pdfium.PdfiumError, OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        return {"refused": f"PDF illisible ou corrompu ({exc.__class__.__name__})"}
    if len(pages) != announced:
        return {"refused": f"PDF incohérent ({announced} pages annoncées, {len(pages)} lues)"}
    return {"title": str(title), "pages": pages}


def _pdfium_pages(document: Any) -> list[str]:
    """Each page's text in reading order, with plain \\n line breaks."""
    try:
        pages = []
        for page in document:
            textpage = page.get_textpage()
            pages.append(textpage.get_text_bounded().replace("\r\n", "\n"))
            textpage.close()
            page.close()
        return pages
    finally:
        document.close()


def main() -> None:
    path, max_pages, memory_bytes, cpu_seconds = Path(sys.argv[1]), *map(int, sys.argv[2:5])
    _limit_self(memory_bytes, cpu_seconds)
    result = _extract(path, max_pages)
    sys.stdout.write(json.dumps(result, ensure_ascii=False))
    sys.exit(_REFUSED if "refused" in result else 0)


if __name__ == "__main__":
    main()
