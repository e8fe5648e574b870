"""Between the domain (core.types, the stores) and the HTTP contract (bot/api/schemas.py), both ways.

The contract's requests become the domain's values here (a question checked against the limits,
turns, a feedback), and the domain's answers become the contract's responses. The French text
of an answer is composed by bot/api/display.py.
"""

from __future__ import annotations

import json

from fastapi import HTTPException

from bot.answer.service import StreamEvent
from bot.api import schemas
from bot.api.display import SHIPPED_AUTHORITY, answer_text, answer_with_sources, estimate_message
from bot.stores.feedback import Feedback
from core.settings import Authority, Settings
from core.types import Answer, Chunk, Evidence, IndexedDocument, Outcome, Passage, Turn
from ingest.build import BuildReport
from ingest.estimate import Estimate

# --- Contract to domain ----------------------------------------------------------------------


def question_text(question: str, settings: Settings) -> str:
    """The cleaned question, or a 422 with a French reason."""
    question = question.strip()
    if not question:
        raise HTTPException(422, "La question est vide : écrivez votre question en quelques mots.")
    if len(question) > settings.api.max_question_chars:
        raise HTTPException(
            422, f"La question est trop longue ({len(question)} caractères, maximum {settings.api.max_question_chars})."
        )
    if not any(c.isalpha() for c in question):
        raise HTTPException(422, "La question doit contenir des mots.")
    return question


def to_turns(history: list[schemas.Turn], settings: Settings) -> list[Turn]:
    """The last `api.max_history_turns` messages of the conversation, as the service reads them."""
    recent = history[-settings.api.max_history_turns :] if settings.api.max_history_turns else []
    return [Turn(t.role, t.content) for t in recent]


def conversation(request: schemas.ChatCompletionRequest, settings: Settings) -> tuple[str, list[Turn]]:
    """An OpenAI request's last user message (the question, checked) and earlier user/assistant turns."""
    *earlier, last = request.messages
    if last.role != "user":
        raise HTTPException(
            422, "Requête invalide : le dernier message doit être celui de l'utilisateur (role « user »)."
        )
    history = [
        schemas.Turn(role=m.role, content=m.text()[: schemas.MAX_TURN_CHARS])
        for m in earlier
        if m.role == "user" or m.role == "assistant"
    ]
    return question_text(last.text(), settings), to_turns(history, settings)


def to_feedback(request: schemas.FeedbackRequest) -> Feedback:
    return Feedback(
        rating=request.rating,
        origin=request.origin,
        question=request.question,
        answer=request.answer,
        reasons=tuple(dict.fromkeys(request.reasons)),
        comment=request.comment,
    )


# --- Domain to contract ----------------------------------------------------------------------


def chunk_source(chunk: Chunk, number: int, score: float) -> schemas.Source:
    """A passage as the contract shows it: numbered like the answer's [n], its score rounded."""
    return schemas.Source(
        id=number,
        document=chunk.doc_id,
        title=chunk.title,
        page=chunk.page,
        section=chunk.section,
        excerpt=chunk.text,
        score=round(score, 4),
    )


def passage_to_source(passage: Passage) -> schemas.RetrievedPassage:
    source = chunk_source(passage.chunk, passage.rank, passage.score)
    return schemas.RetrievedPassage(**source.model_dump(), rank=passage.rank, cited=passage.cited)


def evidence_quote(evidence: Evidence) -> schemas.EvidenceQuote:
    chunk = evidence.chunk
    return schemas.EvidenceQuote(
        id=evidence.number,
        text=" ".join(evidence.sentence.context.split()),
        sentence_id=evidence.sentence.sentence_id,
        document=chunk.doc_id,
        title=chunk.title,
        page=chunk.page,
        section=chunk.section,
        score=round(evidence.score, 4),
    )


def evidence_source(evidence: Evidence) -> schemas.Source:
    """The passage holding a quoted sentence, numbered like the quote. Steps read on past their passage (a
    procedure's, into the next passages or its sub-sections) are their own excerpt: the source holds what is cited."""
    source = chunk_source(evidence.chunk, evidence.number, evidence.dense_score)
    if evidence.sentence.end > len(evidence.chunk.text):
        return source.model_copy(update={"excerpt": evidence.sentence.context})
    return source


def evidence_event(evidence: list[Evidence], passages: list[Passage]) -> schemas.EvidenceEvent:
    return schemas.EvidenceEvent(
        evidence=[evidence_quote(e) for e in evidence], passages=[passage_to_source(p) for p in passages]
    )


def to_response(answer: Answer, authority: Authority = SHIPPED_AUTHORITY) -> schemas.AskResponse:
    """The answer's contract; its text names `authority` (the routes pass the settings') where it refuses."""
    return schemas.AskResponse(
        answer=answer_text(answer, authority),
        refused=answer.refused,
        sources=[evidence_source(e) for e in answer.cited],
        timings={k: round(v, 3) for k, v in answer.timings.items()},
        fallback=answer.outcome is Outcome.EVIDENCE_ONLY,
        outcome=answer.outcome.value,
        reason=answer.reason,
        answer_sentences=[schemas.AnswerSentencePublic(text=s.text, citations=s.citations) for s in answer.sentences],
        evidence=[evidence_quote(e) for e in answer.cited],
        cases=list(answer.cases) if answer.outcome is not Outcome.REFUSE else [],
    )


def stream_message(event: StreamEvent, authority: Authority) -> dict[str, str]:
    """One Server-Sent Event of /api/ask/stream: `evidence`, `token`, `sentence` or `done`."""
    if event.kind == "evidence":
        return {"event": "evidence", "data": evidence_event(event.evidence, event.passages).model_dump_json()}
    if event.kind == "token":
        return {"event": "token", "data": json.dumps({"text": event.text}, ensure_ascii=False)}
    if event.kind == "sentence":
        assert event.sentence is not None
        sentence = schemas.AnswerSentencePublic(text=event.sentence.text, citations=event.sentence.citations)
        return {"event": "sentence", "data": sentence.model_dump_json()}
    assert event.answer is not None
    return {"event": "done", "data": to_response(event.answer, authority).model_dump_json()}


def document_summary(document: IndexedDocument) -> schemas.DocumentSummary:
    info = document.info
    return schemas.DocumentSummary(
        document=info.doc_id, title=info.title, publisher=info.publisher, date=info.date, chunks=document.passages
    )


def to_chat_completion(
    answer: Answer, completion_id: str, created: int, authority: Authority
) -> schemas.ChatCompletionResponse:
    """The answer as OpenAI's chat completion: the text with its footnotes, and the structured sources."""
    return schemas.ChatCompletionResponse(
        id=completion_id,
        created=created,
        model=schemas.MODEL_ID,
        choices=[schemas.ChatChoice(message=schemas.AssistantMessage(content=answer_with_sources(answer, authority)))],
        sources=[evidence_source(e) for e in answer.cited],
        outcome=answer.outcome.value,
    )


def to_chat_chunk(
    completion_id: str, created: int, delta: schemas.ChunkDelta, final: Answer | None = None
) -> schemas.ChatCompletionChunk:
    """One chunk of a streamed completion; the last (`final`) carries the structured sources and the outcome."""
    return schemas.ChatCompletionChunk(
        id=completion_id,
        created=created,
        model=schemas.MODEL_ID,
        choices=[schemas.ChunkChoice(delta=delta, finish_reason="stop" if final else None)],
        sources=[evidence_source(e) for e in final.cited] if final else None,
        outcome=final.outcome.value if final else None,
    )


def reindex_report(report: BuildReport) -> schemas.ReindexReport:
    return schemas.ReindexReport(
        added=report.added,
        updated=report.updated,
        removed=report.removed,
        unchanged=len(report.unchanged),
        skipped=[schemas.SkippedFile(file=f, reason=r) for f, r in report.skipped],
        garbled=[schemas.GarbledFile(file=f, share=round(s, 4)) for f, s in report.garbled],
        passages=report.total_chunks,
        embedded_passages=report.embedded_chunks,
        reused_passages=report.reused_chunks,
        seconds=round(report.seconds, 2),
    )


def index_estimate(estimate: Estimate) -> schemas.IndexEstimate:
    return schemas.IndexEstimate(
        documents=estimate.documents,
        passages=estimate.passages,
        seconds=round(estimate.seconds, 1),
        passages_per_s=round(estimate.passages_per_s, 3),
        measured=estimate.measured,
        long=estimate.long,
        message=estimate_message(estimate),
    )
