"""Request and response models of the public HTTP API (the contract the widget and partners use)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class Turn(BaseModel):
    role: Literal["user", "assistant"]
    content: str = Field(max_length=4000)


class AskRequest(BaseModel):
    question: str
    history: list[Turn] = Field(default_factory=list)
    documents: list[str] | None = Field(
        default=None, description="Restrict retrieval to these document ids (helpdesk filter)."
    )


class Source(BaseModel):
    id: int = Field(description="The number used in the answer's [n] markers.")
    document: str
    title: str
    page: int | None
    section: str | None
    excerpt: str = Field(description="The passage text, verbatim from the document.")
    score: float


class RetrievedPassage(Source):
    rank: int
    cited: bool


class EvidenceQuote(BaseModel):
    """A sentence of a document, verbatim, ranked for the question."""

    id: int = Field(description="The number used in the answer's [n] markers.")
    text: str = Field(description="The sentence, with the following line when it is short (a name, a label).")
    sentence_id: str
    document: str
    title: str
    page: int | None
    section: str | None
    score: float


class AnswerSentencePublic(BaseModel):
    text: str
    citations: list[int]


class AskResponse(BaseModel):
    answer: str = Field(description="The text to show: the model's checked sentences and the quotes, or the refusal.")
    refused: bool
    sources: list[Source] = Field(description="The passages holding the quoted sentences.")
    timings: dict[str, float]
    fallback: bool = Field(default=False, description="True when the evidence is shown without a model sentence.")
    outcome: Literal["answer", "evidence_only", "refuse"]
    reason: str = Field(description="Why this outcome was chosen (for conseillers and logs).")
    answer_sentences: list[AnswerSentencePublic] = Field(default_factory=list)
    evidence: list[EvidenceQuote] = Field(default_factory=list, description="The quotes the resident reads.")


class EvidenceEvent(BaseModel):
    """First event of the stream, before any model token: the ranked sentences and the retrieved passages."""

    evidence: list[EvidenceQuote]
    passages: list[RetrievedPassage]


class FeedbackRequest(BaseModel):
    question: str = Field(default="", max_length=1000)
    answer: str = Field(default="", max_length=8000)
    rating: Literal["up", "down"]
    reasons: list[str] = Field(default_factory=list, max_length=10)
    comment: str = Field(default="", max_length=2000)
    origin: Literal["widget", "helpdesk", "api"] = "api"


class FeedbackResponse(BaseModel):
    id: int


class DocumentSummary(BaseModel):
    document: str
    title: str
    publisher: str
    date: str
    chunks: int


class ErrorResponse(BaseModel):
    """A refusal of the request itself (busy, too many questions), in French."""

    detail: str


class HealthResponse(BaseModel):
    status: Literal["ok", "degraded"]
    model_loaded: bool
    index_loaded: bool
    documents: int
    chunks: int
    embedder: str
    generator: str
    reason: str | None = None  # why the service is degraded (evidence only until it is fixed)
