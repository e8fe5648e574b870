"""Cut loaded units into passages with langchain's recursive splitter, tuned for French prose.

Every chunk keeps its document, page, section, character offsets within its unit, and the
speaker of the interview turn it belongs to. Sentences that try to instruct the assistant
(indirect prompt injection) are removed here, once, before anything is embedded or shown.
"""

from __future__ import annotations

import re

from langchain_core.documents import Document
from langchain_text_splitters import RecursiveCharacterTextSplitter

from core.injection import strip_instructions
from core.types import Chunk, DocumentInfo

# Paragraph, line, then sentence boundaries (French punctuation) before words.
_SEPARATORS = ["\n\n", "\n", ". ", " ? ", "? ", " ! ", "! ", " ; ", "; ", ", ", " ", ""]
# "Mickaël Audegond : …" or "Paroles d’élus : …" at the start of a line.
_SPEAKER = re.compile(r"^([A-ZÉÈ][\w’'\-]+(?: [\w’'\-]+){0,3}) ?: ", re.M)
_HEADING_MIN_CHARS, _HEADING_MAX_CHARS = 3, 70
_LIST_ITEM = re.compile(r"^\s*([-•*]|\d+[.)])\s")


def make_splitter(chunk_size: int, chunk_overlap: int) -> RecursiveCharacterTextSplitter:
    return RecursiveCharacterTextSplitter(
        chunk_size=chunk_size,
        chunk_overlap=chunk_overlap,
        separators=_SEPARATORS,
        keep_separator="end",
        add_start_index=True,
        strip_whitespace=True,
    )


def chunk_units(units: list[Document], info: DocumentInfo, splitter: RecursiveCharacterTextSplitter) -> list[Chunk]:
    chunks: list[Chunk] = []
    carried_section: str | None = None
    for raw_unit in units:
        unit = Document(page_content=strip_instructions(raw_unit.page_content), metadata=raw_unit.metadata)
        text = unit.page_content
        unit_section = unit.metadata.get("section")
        for piece in splitter.split_documents([unit]):
            start = int(piece.metadata["start_index"])
            section = unit_section or heading_before(text, start) or carried_section
            chunks.append(
                Chunk(
                    chunk_id=f"{info.doc_id}:{len(chunks)}",
                    doc_id=info.doc_id,
                    title=info.title,
                    text=piece.page_content,
                    page=unit.metadata.get("page"),
                    section=section,
                    start=start,
                    end=start + len(piece.page_content),
                    speaker=speaker_before(text, start + len(piece.page_content)),
                    author=info.author,
                )
            )
        if unit.metadata.get("page") is not None:
            carried_section = heading_before(text, len(text)) or carried_section
    return chunks


def speaker_before(text: str, offset: int) -> str:
    """The last 'Name :' turn that starts before `offset`, unless it is the interviewer's."""
    names = [m.group(1) for m in _SPEAKER.finditer(text, 0, offset)]
    return names[-1] if names else ""


def heading_before(text: str, offset: int) -> str | None:
    """The last heading-like line before `offset` in unstructured text (PDF page, .txt).

    A heading here is a short line, not a list item, that does not end like a sentence.
    """
    heading = None
    for line in text[:offset].splitlines():
        if _looks_like_heading(line.strip()):
            heading = line.strip()
    return heading


def _looks_like_heading(line: str) -> bool:
    return (
        _HEADING_MIN_CHARS <= len(line) <= _HEADING_MAX_CHARS
        and not _LIST_ITEM.match(line)
        and line[-1] not in ".,;:!?»)"
        and not line[0].islower()
        and not line.isdigit()
    )
