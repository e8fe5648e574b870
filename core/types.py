"""Data types shared by ingest, bot, ui and eval (the only module they all import)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

from core.text import Analysis, AnswerKind, AskedList

# The levels of a heading path, as loaders write `Chunk.section` (« Demande en France › Pièces à fournir › Carte
# perdue ou volée »): a démarches page's situations, chapters and cases
SECTION_SEPARATOR = " › "


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
    # The levels of `section` (0 = first) that are one of several situations or cases, as the document's own
    # structure marks them (a DILA fiche's Situation and Cas); empty when it marks none
    case_levels: tuple[int, ...] = ()
    # The levels of `section` the document's own structure types as parts of a chapter (a DILA fiche's
    # SousChapitre: « Détail des taxes et redevances › Taxe régionale »); empty when it types none
    subchapter_levels: tuple[int, ...] = ()

    def embedded_text(self) -> str:
        """Text given to the embedder and BM25: the passage prefixed with its context.

        Facts tied to a person or place named only in a heading, speaker line or
        signature are otherwise unreachable (see the prototype's retrieval misses).
        """
        return self.heading_line() + "\n" + self.text

    def heading_line(self) -> str:
        """Where the passage stands, on one line: « titre — section — Intervenant : … — Auteur : … »."""
        parts = [self.title]
        if self.section:
            parts.append(self.section)
        if self.speaker:
            parts.append(f"Intervenant : {self.speaker}")
        if self.author:
            parts.append(f"Auteur : {self.author}")
        return " — ".join(parts)


@dataclass(frozen=True)
class IndexedDocument:
    """A document of the live index and how many passages it has there."""

    info: DocumentInfo
    passages: int


@dataclass
class Passage:
    """A retrieved chunk with its scores for one question."""

    chunk: Chunk
    score: float
    dense_score: float = 0.0
    lexical_score: float = 0.0
    rank: int = 0
    cited: bool = False


@dataclass(frozen=True)
class Sentence:
    """One sentence of an indexed passage, analysed once at ingestion.

    `context` is what a resident reads and what is embedded: the sentence itself, or, for a
    short line (a speaker's name, a table row), the sentence with the line after it.
    """

    sentence_id: str
    chunk_id: str
    position: int
    text: str
    context: str
    lemmas: tuple[str, ...] = ()
    names: tuple[str, ...] = ()
    numbers: tuple[str, ...] = ()
    # the numbers of the sentence's own text (`numbers` are its context's, the line read with a short one too)
    own_numbers: tuple[str, ...] = ()
    negated: bool = False
    # web addresses and phone numbers the context gives (an online service's line, a contact), and whether it gives a
    # time of day (opening hours: « de 9 h à 12 h »)
    links: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    time_of_day: bool = False
    # whether it offers an online service or a form with its address (« Service en ligne : … : https://… »)
    offers_service: bool = False
    # whether it opens by referring back to what the sentence before it names (« Elle vous permet… », « Ce délai… »)
    refers_back: bool = False
    # character offsets of `context` within the passage's text
    start: int = 0
    end: int = 0
    # the passage's title and section, analysed at ingestion (verification reads them)
    heading_lemmas: tuple[str, ...] = ()
    heading_names: tuple[str, ...] = ()
    heading_numbers: tuple[str, ...] = ()

    @property
    def source(self) -> Analysis:
        """What the sentence (with its context) and its passage's headings say, as one analysis."""
        return Analysis(
            lemmas=frozenset(self.lemmas) | frozenset(self.heading_lemmas),
            names=frozenset(self.names) | frozenset(self.heading_names),
            numbers=frozenset(self.numbers) | frozenset(self.heading_numbers),
            negated=self.negated,
            links=frozenset(self.links),
            phones=frozenset(self.phones),
        )


@dataclass(frozen=True)
class Turn:
    """One earlier message of the conversation."""

    role: Literal["user", "assistant"]
    content: str


@dataclass(frozen=True)
class Question:
    """A resident's question, analysed once and carried through every step of the answer.

    `query` is what is searched: the question itself, or for a short follow-up ("et en 2025 ?")
    the previous question with it. `analysis` is of the question alone: the numbers the resident
    asks about now, not those of an earlier turn.
    """

    text: str
    query: str
    analysis: Analysis
    query_analysis: Analysis
    kind: AnswerKind | None = None
    # Numbers the question states in digits: the evidence must hold them (core.text.stated_numbers)
    stated_numbers: frozenset[str] = frozenset()
    # Names the question states where it asks, not about the asker (core.text.stated_names): the evidence must hold them
    stated_names: frozenset[str] = frozenset()
    # What it asks, part by part, when it asks several things (core.text.question_parts): each part is ranked too
    parts: tuple[Question, ...] = ()
    # The list it asks for (core.text.asked_list): which documents to bring, who may claim it; shown whole
    asks_list: AskedList | None = None
    # What a « combien de … ? » question counts (core.text.counted_thing): « 2 procurations » settles it
    counted: str | None = None
    # Its searched lemmas that words of a broader meaning cover as well (core.text.broader_places: « Espagne » is
    # covered by « pays européen »)
    broader: Mapping[str, frozenset[str]] = field(default_factory=dict)


@dataclass
class Evidence:
    """A sentence ranked for one question; `number` is the [n] used in the answer."""

    number: int
    sentence: Sentence
    chunk: Chunk
    score: float
    dense_score: float = 0.0
    lexical_score: float = 0.0
    # The sentence's own context when `sentence` reads on past it (EvidenceRanker.completed), else ""
    own_context: str = ""


class Outcome(StrEnum):
    """The one answerability decision of the pipeline."""

    ANSWER = "answer"  # a model sentence verified against the evidence, with the evidence
    EVIDENCE_ONLY = "evidence_only"  # the evidence alone, introduced honestly (draft failed or timed out)
    REFUSE = "refuse"  # weak evidence, a near-miss, an injection: the human channel


@dataclass
class AnswerSentence:
    text: str
    citations: list[int]


@dataclass(frozen=True)
class DroppedSentence:
    """A sentence of the model's draft that verification removed, and why (in French, for conseillers)."""

    text: str
    reason: str


@dataclass
class Answer:
    """Everything the pipeline decided for one question; text for people is composed at the edges."""

    outcome: Outcome
    reason: str
    evidence: list[Evidence] = field(default_factory=list)
    question: Question | None = None
    sentences: list[AnswerSentence] = field(default_factory=list)
    passages: list[Passage] = field(default_factory=list)
    dropped: list[DroppedSentence] = field(default_factory=list)
    draft: str = ""
    injection: bool = False
    timings: dict[str, float] = field(default_factory=dict)
    prompt_tokens: int = 0
    # strong enough to be shown alone when the model finds no answer in it (bot/answer/answerability.py)
    strong_evidence: bool = False
    # The cases of the page that the answer's could be confused with (« Carte périmée », « Carte perdue »…), the
    # shown one first: named to the resident when the question does not say which applies (bot/answer/cases.py)
    cases: tuple[str, ...] = ()
    # The evidence read whatever the model cites: the first shown, and a procedure's online service line
    # (bot/answer/service.py, `quoted_anyway`)
    quoted: tuple[int, ...] = ()

    @property
    def refused(self) -> bool:
        return self.outcome is Outcome.REFUSE

    @property
    def cited(self) -> list[Evidence]:
        """The evidence the resident reads: cited by the answer's sentences, or all of it when evidence only."""
        if self.outcome is Outcome.REFUSE:
            return []
        if self.outcome is Outcome.EVIDENCE_ONLY:
            return self.evidence
        numbers = {n for s in self.sentences for n in s.citations} | set(self.quoted)
        return [e for e in self.evidence if e.number in numbers]
