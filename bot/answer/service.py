"""The one place a question becomes an Answer, evidence first.

    gather:  injection check -> Question (analysed once) -> passages (dense + BM25)
             -> evidence sentences ranked -> answerability (answer | refuse)
    phrase:  the model phrases the best sentences -> its draft verified against the evidence, sentence by
             sentence as it streams
             -> nothing verified but close evidence: the model says whether it answers at all
    finish:  timings, and which passages the resident reads

`stream` runs the three in order. How the phrasing step reaches the model is composed in by
the caller: directly (CLI, eval, bench) or through the API's admission queue, which may answer
`PhrasingUnavailable` (busy, late): the resident then gets the evidence alone. The system
decides which facts the resident reads (the evidence); the model only phrases them.
"""

from __future__ import annotations

import copy
import logging
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from collections.abc import Generator as Steps
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal, TypedDict, Unpack

import numpy as np

from bot.answer.answerability import Decision, after_verification, decide, not_found, without_phrasing
from bot.answer.cases import Cases
from bot.answer.evidence import EvidenceRanker, QuestionTerms, distinct, page_figure, settling
from bot.answer.generation import GenerationError, Generator, Streamed, build_generator
from bot.answer.prompts import NOT_FOUND_PHRASE, build_prompt, fixed_prefix, verdict_prompt
from bot.answer.retrieval import Retriever
from bot.answer.streamed_verification import StreamedVerification
from bot.answer.verification import has_citation
from core.injection import looks_like_injection
from core.memory import give_back_freed_memory
from core.privacy import mask_personal_data
from core.settings import Settings, get_settings
from core.text import (
    AnswerKind,
    AskedList,
    analyse,
    asked_list,
    broader_places,
    counted_thing,
    expected_answer_kind,
    fold,
    question_parts,
    stated_names,
    stated_numbers,
    word_count,
)
from core.types import Answer, AnswerSentence, DocumentInfo, Evidence, IndexedDocument, Outcome, Passage, Question, Turn
from ingest.embeddings import Embedder, get_embedder
from ingest.store import POINTER, IndexReader

log = logging.getLogger("cuabot.service")


@dataclass
class StreamEvent:
    """`token`: a piece of the model's unverified draft (for conseillers); `sentence`: one of its sentences once
    verification kept it (what residents read while the model writes)."""

    kind: Literal["evidence", "token", "sentence", "done"]
    evidence: list[Evidence] = field(default_factory=list)
    passages: list[Passage] = field(default_factory=list)
    text: str = ""
    sentence: AnswerSentence | None = None
    answer: Answer | None = None


class PhrasingUnavailable(Exception):
    """The model cannot phrase this answer now (busy, late, failed): the resident gets the evidence alone."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# How the phrasing step's events reach the caller: as they come, or through a queue for the model.
Phrasing = Callable[[Iterator[StreamEvent]], Iterator[StreamEvent]]


def direct(steps: Iterator[StreamEvent]) -> Iterator[StreamEvent]:
    """The phrasing step run in the caller's thread, as soon as asked (CLI, eval, bench)."""
    return steps


class Asking(TypedDict, total=False):
    """How a question is asked besides its words, as `QuestionService.stream` takes it."""

    history: list[Turn] | None
    documents: list[str] | None
    phrasing: Phrasing


def read_question(text: str, history: list[Turn], follow_up_max_words: int) -> Question:
    """The question analysed once; a short follow-up ("et en 2025 ?") is searched with the previous question."""
    previous = [t.content for t in history if t.role == "user"]
    follow_up = bool(previous) and word_count(text) <= follow_up_max_words
    query = f"{previous[-1]} {text}" if follow_up else text
    # « Et pour un mineur ? » asks what the earlier question asked, for another case (read alone, yes or no)
    kind, listed = expected_answer_kind(text), asked_list(text)
    if follow_up and kind in (None, AnswerKind.YES_NO):
        kind = expected_answer_kind(previous[-1]) or kind
        listed = listed or asked_list(previous[-1])
    # « qui a droit ? » reads as asking a name, « je remplis les conditions ? » as yes or no: no price, delay or steps
    if listed is AskedList.CONDITIONS and kind not in (None, AnswerKind.NAME, AnswerKind.YES_NO):
        listed = None
    parts = tuple(read_question(part, [], follow_up_max_words) for part in question_parts(text))
    analysis, searched = analyse(text), analyse(query)
    return Question(
        text,
        query,
        analysis,
        searched,
        kind,
        stated_numbers=stated_numbers(text),
        stated_names=stated_names(text, analysis.names),
        parts=parts,
        asks_list=listed,
        counted=counted_thing(text),
        broader=broader_places(searched.lemmas, query),
    )


def quoted_anyway(question: Question, evidence: list[Evidence]) -> tuple[int, ...]:
    """The evidence the resident reads whatever the model cites.

    The first shown, always: the best sentence, the page's list of documents for « quels papiers ? », the service
    line for « en ligne ? », a procedure's first step. The small model often phrases and cites a neighbour of it
    (a sentence beside the right one on the page); read beside the model's, the best evidence is never lost.
    For a « comment… ? » or an « en ligne ? », the page's online service or form line shown as well, unless the first
    holds one: the last shown of its page that offers one, where `EvidenceRanker.with_service` puts it (steps read on
    into a chapter may mention a « téléservice »; another page's service is another démarche's). For a question
    asking several things, each part's best sentence as well, shown after the best one, when it stands in the best
    one's page: an extract of another document would more often mislead than answer (cua and debian-faq's dev
    citations, measured).
    """
    if not evidence:
        return ()
    first = evidence[0]
    asks_service = question.kind in (AnswerKind.PROCEDURE, AnswerKind.LINK) and question.asks_list is None
    if asks_service and not first.sentence.offers_service:
        offers = [e.number for e in evidence if e.sentence.offers_service and e.chunk.doc_id == first.chunk.doc_id]
        return (first.number, *offers[-1:])
    if question.parts:  # each part's best sentence follows the best one (`QuestionService._each_part`)
        return tuple(e.number for e in evidence[: 1 + len(question.parts)] if e.chunk.doc_id == first.chunk.doc_id)
    return (first.number,)


def unphrased(answer: Answer, reason: str) -> Answer:
    """The answer without the model's phrasing: a copy, so that a phrasing thread still running cannot change
    what the resident reads; its evidence shown alone if strong, else a refusal."""
    decision = without_phrasing(answer.strong_evidence, reason)
    return replace(answer, outcome=decision.outcome, reason=decision.reason, sentences=[], timings=dict(answer.timings))


class QuestionService:
    def __init__(
        self, settings: Settings, embedder: Embedder, generator: Generator, reader: IndexReader | None = None
    ) -> None:
        self.settings = settings
        self.embedder = embedder
        self.generator = generator
        self.prefix = fixed_prefix(settings.authority)
        # Called with the question and its final Answer once each question is finished (statistics)
        self.listeners: list[Callable[[str, Answer], None]] = []
        self._pointer_mtime = 0.0
        self._reload_lock = threading.Lock()
        self.watcher: threading.Thread | None = None
        self._use(reader or self._load_reader())

    def with_settings(self, settings: Settings) -> QuestionService:
        """The same index and models answering with other evidence and decision settings (calibration tries
        thousands): nothing is loaded or computed again; retrieval keeps its own settings."""
        service = copy.copy(self)
        service.settings = settings
        service.ranker = self.ranker.with_settings(settings)
        service.listeners = []
        return service

    def _use(self, reader: IndexReader) -> None:
        """Answer from `reader` from now on; what loading it (and the models before it) left freed goes back to
        the system."""
        self.reader = reader
        self.retriever = Retriever(reader, self.settings)
        self.ranker = EvidenceRanker(reader, self.settings)
        self.cases = Cases(reader)
        give_back_freed_memory()

    def _load_reader(self) -> IndexReader:
        """The live generation; the pointer counts as read once it is loaded, so that a load the vector store's
        server failed (`StoreUnavailable`) is tried again at the next question."""
        mtime = self._pointer_path.stat().st_mtime if self._pointer_path.exists() else 0.0
        reader = IndexReader(self.settings)
        self._pointer_mtime = mtime
        return reader

    @property
    def _pointer_path(self) -> Path:
        return self.settings.index_dir / POINTER

    def reload_if_reindexed(self) -> None:
        """Pick up a new index generation written while serving (by this process, another worker or `cuabot
        ingest`); one load at a time, whichever thread looks first."""
        with self._reload_lock:
            if self._pointer_path.exists() and self._pointer_path.stat().st_mtime != self._pointer_mtime:
                self._use(self._load_reader())

    def watch_index(self) -> None:
        """Look at the index pointer every `store.watch_interval_s` in a thread of its own, so that a new
        generation is loaded even while every question waits for the model (a question only looks when it is
        admitted). Once per service; the thread ends with the service."""
        interval = self.settings.store.watch_interval_s
        if interval and self.watcher is None:
            self.watcher = threading.Thread(
                target=_watch, args=(weakref.ref(self), interval), daemon=True, name="index-watch"
            )
            self.watcher.start()

    def documents(self) -> list[IndexedDocument]:
        counts: dict[str, int] = {}
        for chunk in self.reader.chunks:
            counts[chunk.doc_id] = counts.get(chunk.doc_id, 0) + 1
        return [
            IndexedDocument(
                DocumentInfo(
                    doc_id=doc_id,
                    title=info.get("title", doc_id),
                    publisher=info.get("publisher", ""),
                    date=info.get("date", ""),
                    author=info.get("author", ""),
                    url=info.get("url", ""),
                ),
                passages=counts.get(doc_id, 0),
            )
            for doc_id, info in sorted(self.reader.documents.items())
        ]

    def ask(self, text: str, **asking: Unpack[Asking]) -> Answer:
        """The final answer of `stream`."""
        answer = None
        for event in self.stream(text, **asking):
            answer = event.answer or answer
        assert answer is not None
        return answer

    def stream(
        self,
        text: str,
        history: list[Turn] | None = None,
        documents: list[str] | None = None,
        phrasing: Phrasing = direct,
    ) -> Steps[StreamEvent, None, None]:
        """Evidence (before any model token), then the model's tokens, each of its sentences once verified, then the
        done event with the Answer."""
        started = time.perf_counter()
        answer = self.gather(text, history or [], documents, started)
        if not answer.injection:
            yield StreamEvent("evidence", evidence=answer.evidence, passages=answer.passages)
        if answer.outcome is Outcome.ANSWER:
            try:
                yield from phrasing(self.phrase(answer, started))
            except PhrasingUnavailable as exc:
                answer = unphrased(answer, exc.reason)
        answer = self.finish(answer, started)
        for listener in self.listeners:
            listener(text, answer)
        yield StreamEvent("done", answer=answer)

    def gather(self, text: str, history: list[Turn], documents: list[str] | None, started: float) -> Answer:
        """The evidence phase, without the model: injection check, passages, evidence, decision."""
        self.reload_if_reindexed()
        log.info("question: %s", mask_personal_data(text))
        if looks_like_injection(text) or any(looks_like_injection(t.content) for t in history):
            return Answer(Outcome.REFUSE, "instruction adressée à l'assistant", injection=True)
        question = read_question(text, history, self.settings.retrieval.follow_up_max_words)
        vector = self.embedder.embed_query(question.query)
        passages = self.retriever.search(question.query, vector, documents)
        terms = self.ranker.terms(question)
        evidence = self.evidence(question, terms, vector, passages)
        timings = {"evidence_s": time.perf_counter() - started}
        decision = decide(question, terms, evidence, self.settings)
        answered = decision.outcome is Outcome.ANSWER
        return Answer(
            decision.outcome,
            decision.reason,
            evidence,
            question=question,
            passages=passages,
            timings=timings,
            strong_evidence=decision.strong,
            cases=self.cases.beside(question, evidence[0]) if answered else (),
            quoted=quoted_anyway(question, evidence),
        )

    def evidence(
        self, question: Question, terms: QuestionTerms, vector: np.ndarray, passages: list[Passage]
    ) -> list[Evidence]:
        """The best sentences, none of another case than those the question states (`Cases.stated`) nor than the
        best one's, nor another row of a table whose row the question names (`Cases.named_row`); for a "how to"
        question, the best one's steps in order first (those of the last case stated, when the best one stands in
        no stated case: « par courrier, il est pas majoré » is not answered by the page's introduction) and the
        page's online service; for « which documents », the page's list of them first, in order; for a figure, a
        date, a price or a delay, the sentence of a chapter or of the best one's page that gives it first when none
        of those shown does; for « en ligne ? », the page's online service or form last when none of those shown
        offers one, in place of a shown line giving an address for no service (a form's notice is not the form)."""
        pages = [passage.chunk.doc_id for passage in passages]
        stated = self.cases.stated(question, pages)
        scored = stated.kept(self.ranker.rank(terms, vector, passages, with_repeats=True))
        ranked = self._each_part(question, distinct(scored), passages)
        settings = self.settings.evidence
        chapter = self.ranker.chapter_answer(ranked, terms, question, vector, pages, stated.against)
        first = chapter or page_figure(ranked, terms, settings.shown, self.settings.answerability.min_question_coverage)
        if first is None and question.kind is AnswerKind.PROCEDURE and ranked and not stated.within(ranked[0].chunk):
            first = next((e for e in ranked if stated.within(e.chunk, last=True)), None)  # the stated case's steps
        if first is not None:
            ranked = [first, *(e for e in ranked if e.sentence.sentence_id != first.sentence.sentence_id)]
        if not question.parts:  # a question of several parts may ask about several cases
            ranked = self.cases.named_row(question, self.cases.same_case(ranked))
        listed = question.asks_list is not None  # a chapter that is a list, shown whole
        if question.kind is AnswerKind.PROCEDURE or (chapter is not None and listed):
            steps = self.ranker.procedure(ranked, settings.procedure_max_chars, settings.shown)
            if listed:
                return steps
            return self.ranker.with_service(steps, ranked, terms, vector, settings.shown)
        shown = self.ranker.completed(
            ranked, settings.announced_max_chars, settings.shown, first_chars=settings.first_shown_chars
        )
        if question.kind is AnswerKind.LINK and not any(e.sentence.offers_service for e in shown):
            # a line giving an address for no service (a form's notice, a directory) is the one read for it
            address = next((e for e in reversed(shown) if e.sentence.links), None)
            return self.ranker.with_service(shown, ranked, terms, vector, settings.shown, instead_of=address)
        return shown

    def _each_part(self, question: Question, ranked: list[Evidence], passages: list[Passage]) -> list[Evidence]:
        """For a question that asks several things, the best sentence of each part, among the same passages,
        right after the best one for the whole question: one piece of evidence per part."""
        if not question.parts or not ranked:
            return ranked
        bests = []
        for part in question.parts:
            vector = self.embedder.embed_query(part.query)
            bests += self.ranker.rank(self.ranker.terms(part), vector, passages)[:1]
        return self.ranker.with_parts(ranked, bests)

    def phrase(self, answer: Answer, started: float) -> Iterator[StreamEvent]:
        """The phrasing step: the model phrases the evidence, then what the evidence supports is kept."""
        assert answer.question is not None
        prompt = build_prompt(self.prefix, answer.question.text, answer.evidence)
        answer.prompt_tokens = self.generator.count_tokens(prompt.own_messages)
        checked = StreamedVerification(answer.question, answer.evidence, self.settings.answerability.min_claim_support)
        try:
            streamed = Streamed(self.generator.stream(prompt))
            for token in streamed:
                answer.timings.setdefault("first_token_s", time.perf_counter() - started)
                yield StreamEvent("token", text=token)
                yield from _sentence_events(checked.add(token))
        except GenerationError as exc:
            log.warning("generation failed, evidence alone or a refusal: %s", exc)
            decision = without_phrasing(answer.strong_evidence, f"le modèle n'a pas répondu ({exc})")
            answer.outcome, answer.reason = decision.outcome, decision.reason
            return
        answer.draft = draft = checked.draft
        before = Decision(answer.outcome, answer.reason, answer.strong_evidence)
        if fold(NOT_FOUND_PHRASE) in fold(draft) and not has_citation(draft):
            decision = not_found()
        else:
            verdict = checked.verdict(streamed.cut)
            yield from _sentence_events(checked.rest(verdict))
            answer.sentences, answer.dropped = verdict.kept, verdict.dropped
            # Asked only of a draft the evidence did not bear out (as calibrated); an empty one is the model failing.
            # Not asked of a question that a shown sentence settles (« Non, elle n'en a pas le pouvoir. », « pas plus
            # de 2 procurations »): that sentence answers it, whatever the model makes of it
            min_yes = self.settings.answerability.min_model_verdict
            settled = settling(answer.question, answer.evidence) is not None
            judged = verdict.dropped and not verdict.kept and answer.strong_evidence and min_yes and not settled
            yes = self._verdict(answer) if judged else None
            decision = after_verification(verdict, before, yes, min_yes)
        answer.outcome, answer.reason = decision.outcome, decision.reason

    def _verdict(self, answer: Answer) -> float | None:
        """The model's « oui » share, asked apart whether the evidence answers the question (None: it cannot tell)."""
        assert answer.question is not None
        try:
            return self.generator.judge(verdict_prompt(answer.question.text, answer.evidence))
        except GenerationError as exc:
            log.warning("no verdict from the model: %s", exc)
            return None

    def finish(self, answer: Answer, started: float) -> Answer:
        """Total time, and which passages the resident reads."""
        answer.timings["total_s"] = time.perf_counter() - started
        for passage in answer.passages:
            passage.cited = any(e.chunk.chunk_id == passage.chunk.chunk_id for e in answer.cited)
        return answer


def _sentence_events(sentences: list[AnswerSentence]) -> Iterator[StreamEvent]:
    return (StreamEvent("sentence", sentence=sentence) for sentence in sentences)


def build_service(settings: Settings | None = None) -> QuestionService:
    settings = settings or get_settings()
    generator = build_generator(settings, fixed_prefix(settings.authority))
    return QuestionService(settings, get_embedder(settings), generator)


def _watch(service: weakref.ref[QuestionService], interval_s: float) -> None:
    """The watcher's loop: holds the service weakly, so that a service nobody uses any more is freed."""
    failing = False
    while (watched := service()) is not None:
        try:
            watched.reload_if_reindexed()
            failing = False
        except Exception as exc:  # the Chroma server down: the next look, or the next question, tries again
            if not failing:
                log.warning("new index generation not loaded yet, tried again every %s s: %s", interval_s, exc)
            failing = True
        del watched
        time.sleep(interval_s)
