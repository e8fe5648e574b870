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


class AskResponse(BaseModel):
    answer: str
    refused: bool
    sources: list[Source]
    timings: dict[str, float]
    fallback: bool = False


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


class HealthResponse(BaseModel):
    status: Literal["ok", "degraded"]
    model_loaded: bool
    index_loaded: bool
    documents: int
    chunks: int
    embedder: str
    generator: str
