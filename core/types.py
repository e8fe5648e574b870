"""Data types shared by ingest, bot, ui and eval (the only module they all import)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class DocumentInfo:
    """What the corpus manifest says about one source file."""

    doc_id: str
    title: str
    publisher: str = ""
    date: str = ""
    author: str = ""
    url: str = ""


@dataclass(frozen=True)
class Chunk:
    """One indexed passage: verbatim text plus where it comes from."""

    chunk_id: str
    doc_id: str
    title: str
    text: str
    page: int | None = None
    section: str | None = None
    start: int = 0
    end: int = 0
    speaker: str = ""
    author: str = ""

    def embedded_text(self) -> str:
        """Text given to the embedder and BM25: the passage prefixed with its context.

        Facts tied to a person or place named only in a heading, speaker line or
        signature are otherwise unreachable (see the prototype's retrieval misses).
        """
        parts = [self.title]
        if self.section:
            parts.append(self.section)
        if self.speaker:
            parts.append(f"Intervenant : {self.speaker}")
        if self.author:
            parts.append(f"Auteur : {self.author}")
        return " — ".join(parts) + "\n" + self.text


@dataclass
class Passage:
    """A retrieved chunk with its scores for one question."""

    chunk: Chunk
    score: float
    dense_score: float = 0.0
    lexical_score: float = 0.0
    rank: int = 0
    cited: bool = False


@dataclass
class AnswerResult:
    """Everything the pipeline knows about one answer (the API and UIs show parts of it)."""

    answer: str
    refused: bool
    passages: list[Passage]
    cited_ids: list[int] = field(default_factory=list)
    dropped_sentences: list[str] = field(default_factory=list)
    fallback: bool = False
    timings: dict[str, float] = field(default_factory=dict)
    prompt_tokens: int = 0
