"""Verification of the model's sentences against the evidence they cite.

The model only phrases: each of its sentences must be borne out by an evidence sentence
(the one it cites, else another one it was shown), or by the sentences of one document it cites together
when it joins facts from several (« 180 000 personnes … et 120 à 130 000 PC [1, 2] »). A sentence is supported when the
evidence holds its numbers (digits or words) and its proper names, every content word it
echoes from the question (a draft that answers a neighbouring question borrows the
question's words: "gagné" where the document never says who won), most of its own content
words, and a negation where it negates. What fails is dropped with its reason. When the
question asks for a number and the evidence holds numbers, an answer without any number
does not answer it (the model copied a neighbouring sentence): it is dropped as a whole.

The evidence was analysed at ingestion (`Sentence.source`); only the draft is analysed here,
in one pass that also cuts it into sentences.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.answer.evidence import holds_fact_of_kind
from core.text import Analysis, AnswerKind, analyse_passages, fold, union
from core.types import AnswerSentence, DroppedSentence, Evidence, Question

CITATION = re.compile(r"\s*\[(\d+(?:\s*[,;]\s*\d+)*)\]")
_SPACE_BEFORE_STOP = re.compile(r"\s+([.,])")
REASONS_MISSING_FACT = {
    AnswerKind.NUMBER: "la question demande un nombre, la réponse n'en donne aucun",
    AnswerKind.NAME: "la question demande un nom, la réponse n'en donne aucun",
    AnswerKind.PLACE: "la question demande un lieu, la réponse n'en donne aucun",
}


@dataclass(frozen=True)
class DraftSentence:
    """One sentence of the model's draft: its words without citations, the numbers it cites, its analysis."""

    text: str
    citations: list[int]
    analysis: Analysis


@dataclass
class Verdict:
    kept: list[AnswerSentence] = field(default_factory=list)
    dropped: list[DroppedSentence] = field(default_factory=list)


def has_citation(draft: str) -> bool:
    return bool(CITATION.search(draft))


def parse_draft(draft: str) -> list[DraftSentence]:
    """The draft cut into sentences, each with the citations written after it (spaCy runs once)."""
    citations = list(CITATION.finditer(draft))
    blanked = CITATION.sub(lambda m: " " * len(m.group(0)), draft)
    units = analyse_passages([blanked])[0]
    cited: list[list[int]] = [[] for _ in units]
    for match in citations:
        owner = max((i for i, u in enumerate(units) if u.start <= match.start()), default=0)
        if units:
            cited[owner] += [int(n) for n in re.split(r"[,;]", match.group(1))]
    return [
        DraftSentence(_tidy(blanked[u.start : u.end]), numbers, u.analysis)
        for u, numbers in zip(units, cited, strict=True)
        if any(c.isalnum() for c in blanked[u.start : u.end])
    ]


def _tidy(text: str) -> str:
    """A sentence whose citations were blanked out: single spaces, none before a full stop or comma."""
    return _SPACE_BEFORE_STOP.sub(r"\1", " ".join(text.split()))


def verify(draft: list[DraftSentence], question: Question, evidence: list[Evidence], min_support: float) -> Verdict:
    """Keep the draft's sentences that an evidence sentence supports, each cited by it; drop the whole answer
    when it does not give the kind of fact asked for although the evidence holds one."""
    verdict = _supported_sentences(draft, question.analysis, evidence, min_support)
    reason = REASONS_MISSING_FACT.get(question.kind) if question.kind else None
    if reason and verdict.kept and _misses_the_asked_fact(verdict.kept, draft, question, evidence):
        verdict.dropped += [DroppedSentence(sentence.text, reason) for sentence in verdict.kept]
        verdict.kept = []
    return verdict


def _misses_the_asked_fact(
    kept: list[AnswerSentence], draft: list[DraftSentence], question: Question, evidence: list[Evidence]
) -> bool:
    asked = question.analysis

    def answers(numbers: frozenset[str] | tuple[str, ...], names: frozenset[str] | tuple[str, ...]) -> bool:
        return holds_fact_of_kind(question.kind, numbers, names, asked.numbers, asked.names)

    kept_texts = {s.text for s in kept}
    kept_analyses = [d.analysis for d in draft if d.text in kept_texts]
    in_evidence = any(answers(e.sentence.numbers, e.sentence.names) for e in evidence)
    return in_evidence and not any(answers(a.numbers, a.names) for a in kept_analyses)


def _supported_sentences(
    draft: list[DraftSentence], question: Analysis, evidence: list[Evidence], min_support: float
) -> Verdict:
    verdict = Verdict()
    by_number = {e.number: e for e in evidence}
    for sentence in draft:
        cited = [by_number[n] for n in sentence.citations if n in by_number]
        others = [e for e in evidence if e not in cited]
        reasons = [_unsupported_because(sentence.analysis, question, [e], min_support) for e in cited + others]
        supporting = [e.number for e, reason in zip(cited + others, reasons, strict=True) if reason is None]
        if not supporting and _jointly_supported(sentence.analysis, question, cited, min_support):
            supporting = [e.number for e in cited]
        if not supporting:
            reason = next(iter(reasons), None) or "aucune phrase des documents"
            verdict.dropped.append(DroppedSentence(_with_citations(sentence), reason))
            continue
        cited_numbers = [e.number for e in cited]
        verdict.kept.append(
            AnswerSentence(sentence.text, [n for n in supporting if n in cited_numbers] or supporting[:1])
        )
    return verdict


def _jointly_supported(claim: Analysis, question: Analysis, cited: list[Evidence], min_support: float) -> bool:
    """A sentence joining facts from the several sentences it cites, all of one document, is borne out by them
    together (facts of two documents joined in one sentence are the model's, not a source's)."""
    one_document = len({e.chunk.doc_id for e in cited}) == 1
    return len(cited) > 1 and one_document and _unsupported_because(claim, question, cited, min_support) is None


def _with_citations(sentence: DraftSentence) -> str:
    return sentence.text + "".join(f" [{n}]" for n in sentence.citations)


def _unsupported_because(
    claim: Analysis, question: Analysis, evidence: list[Evidence], min_support: float
) -> str | None:
    """Why the `evidence` sentences, read together, do not support `claim`, or None when they do."""
    source = union([e.sentence.source for e in evidence])
    folded = fold(" ".join(f"{e.chunk.title} {e.chunk.section or ''} {e.sentence.context}" for e in evidence))
    if missing := claim.numbers - source.numbers:
        return f"nombre absent de la source : {', '.join(sorted(missing))}"
    if absent := {name for name in claim.names if name not in folded}:
        return f"nom absent de la source : {', '.join(sorted(absent))}"
    if missing := (claim.lemmas & question.lemmas) - source.lemmas:
        return f"mot de la question absent de la source : {', '.join(sorted(missing))}"
    own = claim.lemmas - question.lemmas
    if own and len(own & source.lemmas) / len(own) < min_support:
        return f"mots absents de la source : {', '.join(sorted(own - source.lemmas))}"
    if claim.negated and not source.negated:
        return "négation absente de la source"
    return None
