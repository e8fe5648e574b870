"""Request and response models of the HTTP API: the contract the widget, partners and staff pages use.

Named by role: `…Request` is what a client sends, the rest what the API answers. The domain
(bot/answer, bot/stores, core) never sees these; bot/api/convert.py converts both ways. One
answer is the domain's own: the staff analytics summary (bot/stores/analytics.py), served as is.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from bot.stores.feedback import MAX_ANSWER_CHARS, MAX_COMMENT_CHARS, MAX_QUESTION_CHARS, FeedbackReason

# Longest texts a client may send back (a turn of the conversation, a feedback's fields)
MAX_TURN_CHARS = 4000
MAX_FEEDBACK_QUESTION_CHARS = MAX_QUESTION_CHARS
MAX_FEEDBACK_ANSWER_CHARS = MAX_ANSWER_CHARS
MAX_FEEDBACK_COMMENT_CHARS = MAX_COMMENT_CHARS

OutcomeName = Literal["answer", "evidence_only", "refuse"]

# --- Asking (/api/ask, /api/ask/stream) ------------------------------------------------------


class Turn(BaseModel):
    role: Literal["user", "assistant"]
    content: str = Field(max_length=MAX_TURN_CHARS)


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
    outcome: OutcomeName
    reason: str = Field(description="Why this outcome was chosen (for conseillers and logs).")
    answer_sentences: list[AnswerSentencePublic] = Field(default_factory=list)
    evidence: list[EvidenceQuote] = Field(default_factory=list, description="The quotes the resident reads.")
    cases: list[str] = Field(
        default_factory=list,
        description="The page's cases when the question names none: the answer's first, then the others.",
    )


class EvidenceEvent(BaseModel):
    """First event of the stream, before any model token: the ranked sentences and the retrieved passages."""

    evidence: list[EvidenceQuote]
    passages: list[RetrievedPassage]


class ErrorResponse(BaseModel):
    """A refusal of the request itself (busy, too many questions), in French."""

    detail: str


# --- Feedback, documents, health, the widget's settings --------------------------------------


class FeedbackRequest(BaseModel):
    question: str = Field(default="", max_length=MAX_FEEDBACK_QUESTION_CHARS)
    answer: str = Field(default="", max_length=MAX_FEEDBACK_ANSWER_CHARS)
    rating: Literal["up", "down"]
    reasons: list[FeedbackReason] = Field(
        default_factory=list,
        max_length=len(FeedbackReason),
        description="Reason codes (a repeated one counts once): "
        + ", ".join(f"`{reason.value}` ({reason.label})" for reason in FeedbackReason)
        + "; any other value is refused (422).",
    )
    comment: str = Field(default="", max_length=MAX_FEEDBACK_COMMENT_CHARS)
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
    # why the service is degraded: the model server (evidence only) or the Chroma server (503) unreachable
    reason: str | None = None


class WidgetConfig(BaseModel):
    """What the widget needs from the server before a resident asks: its limits and the texts it shows."""

    authority: str = Field(description="The authority whose documents are served (`CUABOT_AUTHORITY__NAME`).")
    title: str = Field(description="The widget's heading, naming the authority.")
    intro: str = Field(description="The line under the heading: what the answers come from, no personal data.")

    max_question_chars: int = Field(description="Longest question accepted by /api/ask.")
    max_history_turns: int = Field(description="Earlier messages of the conversation read with a question.")
    max_turn_chars: int = Field(description="Longest earlier message accepted in `history`.")
    max_feedback_question_chars: int
    max_feedback_answer_chars: int
    evidence_lead: str = Field(description="The line introducing the quotes shown without a model sentence.")
    busy_message: str = Field(description="Shown when the model's queue is full (503).")
    rate_limited_message: str = Field(description="Shown when a client asked too often (429).")


# --- Staff (/api/admin/...) ------------------------------------------------------------------


class IgnoredInstruction(BaseModel):
    """A document's sentence kept out of the index because it instructs the assistant (indirect prompt injection)."""

    text: str
    page: int | None
    section: str | None


class StaffDocument(BaseModel):
    """One file of the staff corpus folder, with what the live index holds of it."""

    document: str
    file: str
    title: str
    publisher: str
    date: str
    pages: int | None
    passages: int
    indexed_at: str | None
    status: Literal["indexed", "pending", "removed"]
    ignored_instructions: list[IgnoredInstruction] = Field(
        default_factory=list,
        description="sentences addressed to the assistant, left out of the index (for an upload: of the file sent)",
    )
    # Answers to an upload only: how long indexing the file should take
    estimate: IndexEstimate | None = None


class IndexEstimate(BaseModel):
    """How long indexing should take (ingest/estimate.py); past `long`, the staff page asks to confirm."""

    documents: int
    passages: int = Field(description="passages expected, from pages or characters")
    seconds: float
    passages_per_s: float
    measured: bool = Field(description="the pace was measured on this installation, else the default setting")
    long: bool
    message: str


class SkippedFile(BaseModel):
    file: str
    reason: str


class GarbledFile(BaseModel):
    file: str
    share: float


class ReindexReport(BaseModel):
    added: list[str]
    updated: list[str]
    removed: list[str]
    unchanged: int
    skipped: list[SkippedFile]
    garbled: list[GarbledFile]
    passages: int
    embedded_passages: int = Field(description="Passages whose vectors this build computed")
    reused_passages: int = Field(
        description="Changed files' passages whose vectors the live index held for the same text (not computed again)"
    )
    seconds: float


class ReindexStatus(BaseModel):
    state: Literal["idle", "running", "done", "failed"]
    phase: Literal["", "reading", "passages", "writing"]
    stage: str
    done: int = Field(description="files read, then one step for writing the new generation")
    total: int
    passages_done: int
    passages_total: int
    passages_per_s: float | None = Field(description="null until the first passages are done")
    eta_s: float | None = Field(description="seconds left, null until they can be estimated")
    progress_text: str = Field(description="the progress in French, as the staff page shows it")
    started_at: str | None
    finished_at: str | None
    report: ReindexReport | None
    error: str | None


# --- OpenAI-compatible (/v1) -----------------------------------------------------------------

MODEL_ID = "cuabot"


class ContentPart(BaseModel):
    model_config = ConfigDict(extra="ignore")
    type: str
    text: str = ""


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[ContentPart] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return " ".join(p.text for p in self.content if p.type == "text")
        return self.content or ""


class ChatCompletionRequest(BaseModel):
    """The OpenAI request; sampling options (temperature, max_tokens…) are accepted and ignored."""

    model_config = ConfigDict(extra="ignore")
    model: str = MODEL_ID
    messages: list[ChatMessage] = Field(min_length=1, max_length=50)
    stream: bool = False


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


class AssistantMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str


class ChatChoice(BaseModel):
    index: int = 0
    message: AssistantMessage
    finish_reason: Literal["stop"] = "stop"


class ChatCompletionResponse(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[ChatChoice]
    sources: list[Source] = Field(description="The passages behind the footnotes [n] of the text.")
    outcome: OutcomeName


class ChunkDelta(BaseModel):
    role: Literal["assistant"] | None = None
    content: str | None = None


class ChunkChoice(BaseModel):
    index: int = 0
    delta: ChunkDelta
    finish_reason: Literal["stop"] | None = None


class ChatCompletionChunk(BaseModel):
    id: str
    object: Literal["chat.completion.chunk"] = "chat.completion.chunk"
    created: int
    model: str
    choices: list[ChunkChoice]
    sources: list[Source] | None = Field(default=None, description="On the last chunk only.")
    outcome: OutcomeName | None = None
