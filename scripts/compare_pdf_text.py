"""Compare PDF text extractors on one file: share of over-long (glued) tokens and seconds.

Usage: .venv/bin/python scripts/compare_pdf_text.py [file.pdf]
(default: the Debian reference manual copied by scripts/fetch_debian_reference.sh)
Prints a Markdown table; each extractor reads the whole file once, in this process.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

import pypdfium2 as pdfium
from pypdf import PdfReader

from ingest.corpus import overlong_token_share
from ingest.loaders import load_file

DEFAULT = Path(__file__).resolve().parent.parent / "data" / "corpora" / "debian-reference" / "debian-reference.fr.pdf"


def pypdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(path).pages)


def pdfium_text(path: Path) -> str:
    document = pdfium.PdfDocument(path)
    try:
        return "\n".join(page.get_textpage().get_text_bounded() for page in document)
    finally:
        document.close()


def loader_text(path: Path) -> str:
    return "\n".join(unit.page_content for unit in load_file(path))


EXTRACTORS: dict[str, Callable[[Path], str]] = {
    "pypdf 7.1 `extract_text()`": pypdf_text,
    "pypdfium2 5.15 `get_text_bounded()`": pdfium_text,
    "cuabot `load_file` (PDFium + cut words, running lines, tables)": loader_text,
}


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT
    print(f"{path.name}: {len(PdfReader(path).pages)} pages\n")
    print("| Extracteur | Mots > 25 caractères | Mots | Secondes |")
    print("|---|---:|---:|---:|")
    for name, extract in EXTRACTORS.items():
        started = time.perf_counter()
        text = extract(path)
        seconds = time.perf_counter() - started
        share = overlong_token_share(text)
        print(f"| {name} | {share * 100:.2f} % | {len(text.split()):,} | {seconds:.1f} |")


if __name__ == "__main__":
    main()
