"""The cases of a démarches page: sibling headings under one parent (« Pièces à fournir › Carte périmée »,
« Pièces à fournir › Carte perdue ou volée »), each with steps, documents or amounts of its own.

A question that states its case (« pour un mineur », « carte perdue ») is answered from that case: the ranking
weighs the heading path. One that states none is answered from the best case, and the resident is told which
cases exist, so that a step of another case is never read as theirs. Everything here is read from the index's
headings, analysed at ingestion: no text is analysed at question time.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.answer.evidence import Chapter
from core.types import SECTION_SEPARATOR, Chunk, Evidence, Question
from ingest.store import IndexReader


@dataclass(frozen=True)
class Case:
    """One case of a page: its heading (the path's last level) and the heading words no sibling shares."""

    title: str
    own_lemmas: frozenset[str]


class Cases:
    """The sibling cases of every heading path of an index, grouped by document and parent path."""

    def __init__(self, reader: IndexReader) -> None:
        lemmas: dict[tuple[str, str], dict[str, frozenset[str]]] = {}
        chapters = _chapter_levels(reader.chunks)
        for chunk in reader.chunks:
            key = _parent(chunk)
            if key is None or chunk.section is None:
                continue
            rows = reader.sentences_by_chunk.get(chunk.chunk_id, [])
            heading = frozenset(reader.sentences[rows[0]].heading_lemmas) if rows else frozenset()
            lemmas.setdefault(key, {}).setdefault(_last_level(chunk.section), heading)
        self._groups = {
            key: _cases(titles) for key, titles in lemmas.items() if len(titles) > 1 and key not in chapters
        }

    def beside(self, question: Question, best: Evidence) -> tuple[str, ...]:
        """The cases beside the best evidence's own, its own first, when the question states none of them."""
        key = _parent(best.chunk)
        group = self._groups.get(key) if key else None
        if not group or best.chunk.section is None:
            return ()
        asked = question.query_analysis.lemmas
        if any(case.own_lemmas & asked for case in group):
            return ()
        own = _last_level(best.chunk.section)
        return (own, *(case.title for case in group if case.title != own))

    def same_case(self, ranked: list[Evidence]) -> list[Evidence]:
        """The ranked evidence without the sentences of the best one's sibling cases (« En Guyane » beside « Cas
        général »): those cases are named to the resident (`beside`), their steps and amounts never shown as theirs."""
        if not ranked:
            return ranked
        best = ranked[0].chunk
        key = _parent(best)
        if key is None or key not in self._groups or best.section is None:
            return ranked
        own = _last_level(best.section)
        return [e for e in ranked if _parent(e.chunk) != key or _last_level(e.chunk.section or "") == own]


def _parent(chunk: Chunk) -> tuple[str, str] | None:
    """The document and the parent heading path of a chunk's section, or None for a section of one level."""
    if not chunk.section or SECTION_SEPARATOR not in chunk.section:
        return None
    return chunk.doc_id, chunk.section.rpartition(SECTION_SEPARATOR)[0]


def _chapter_levels(chunks: list[Chunk]) -> set[tuple[str, str]]:
    """The document and parent path of each level of headings that are a page's chapters, not cases (« Démarche »,
    « Pièces à fournir », « Coût »): one of them names a `Chapter` (the documents to provide, what it costs)."""
    levels = set()
    for chunk in chunks:
        path = (chunk.section or "").split(SECTION_SEPARATOR)
        for depth in range(1, len(path)):
            if any(chapter.names(path[depth]) for chapter in Chapter):
                levels.add((chunk.doc_id, SECTION_SEPARATOR.join(path[:depth])))
    return levels


def _last_level(section: str) -> str:
    return section.rpartition(SECTION_SEPARATOR)[2]


def _cases(headings: dict[str, frozenset[str]]) -> list[Case]:
    """Each sibling with the heading words that set it apart (the path's shared words removed)."""
    shared = frozenset.intersection(*headings.values())
    return [Case(title, lemmas - shared) for title, lemmas in headings.items()]
