"""Cut loaded units into passages with langchain's recursive splitter, tuned for French prose.

Every chunk keeps its document, page, section, character offsets within its unit, and the
speaker of the interview turn it belongs to. Sentences that try to instruct the assistant
(indirect prompt injection) are removed here, once, before anything is embedded or shown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from langchain_core.documents import Document
from langchain_text_splitters import RecursiveCharacterTextSplitter

from core.injection import instructs_the_assistant, split_instructions
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


@dataclass(frozen=True)
class IgnoredSentence:
    """A document's sentence kept out of the index because it instructs the assistant, where staff find it."""

    text: str
    page: int | None
    section: str | None


def chunk_units(units: list[Document], info: DocumentInfo, splitter: RecursiveCharacterTextSplitter) -> list[Chunk]:
    return chunk_document(units, info, splitter)[0]


def chunk_document(
    units: list[Document], info: DocumentInfo, splitter: RecursiveCharacterTextSplitter
) -> tuple[list[Chunk], list[IgnoredSentence]]:
    """The document's passages, and the sentences left out of them for instructing the assistant."""
    chunks: list[Chunk] = []
    ignored: list[IgnoredSentence] = []
    carried_section: str | None = None
    for raw_unit in units:
        text, instructions = split_instructions(raw_unit.page_content)
        unit = Document(page_content=text, metadata=raw_unit.metadata)
        unit_section = unit.metadata.get("section")
        has_turns = unit.metadata.get("turns", True)  # a format without interviews says so (ingest/dila.py)
        # the levels of the unit's heading path its loader marks: they hold for passages under that path only
        case_levels = tuple(unit.metadata.get("case_levels", ()))
        subchapter_levels = tuple(unit.metadata.get("subchapter_levels", ()))
        if unit_section and instructs_the_assistant(unit_section):  # a heading is shown with its passages too
            ignored.append(IgnoredSentence(unit_section, unit.metadata.get("page"), None))
            unit_section = None
        for instruction in instructions:
            where = unit_section or heading_before(raw_unit.page_content, instruction.start) or carried_section
            ignored.append(IgnoredSentence(instruction.text, unit.metadata.get("page"), where))
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
                    speaker=speaker_before(text, start + len(piece.page_content)) if has_turns else "",
                    author=info.author,
                    case_levels=case_levels if section == unit_section else (),
                    subchapter_levels=subchapter_levels if section == unit_section else (),
                )
            )
        if unit.metadata.get("page") is not None:
            carried_section = heading_before(text, len(text)) or carried_section
    return chunks, ignored


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
