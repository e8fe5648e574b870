"""Verification of the model's sentences against the evidence they cite.

The model only phrases: each of its sentences must be borne out by an evidence sentence
(the one it cites, else another one it was shown). A sentence is supported when the
evidence holds its numbers (digits or words) and its proper names, every content word it
echoes from the question (a draft that answers a neighbouring question borrows the
question's words: "gagné" where the document never says who won), most of its own content
words, and a negation where it negates. What fails is dropped with its reason. When the
question asks for a number and the evidence holds numbers, an answer without any number
does not answer it (the model copied a neighbouring sentence): it is dropped as a whole.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from core.text import Analysis, AnswerKind, analyse, fold, numbers_in, split_sentences
from core.types import AnswerSentence, Evidence

CITATION = re.compile(r"\s*\[(\d+(?:\s*[,;]\s*\d+)*)\]")


@dataclass
class Verdict:
    kept: list[AnswerSentence] = field(default_factory=list)
    dropped: list[tuple[str, str]] = field(default_factory=list)


def parse_citations(sentence: str) -> list[int]:
    return [int(n) for group in CITATION.findall(sentence) for n in re.split(r"[,;]", group)]


def strip_citations(sentence: str) -> str:
    return CITATION.sub("", sentence).strip()


def verify(
    draft: str, question: Analysis, kind: AnswerKind | None, evidence: list[Evidence], min_support: float
) -> Verdict:
    """Keep the draft's sentences that an evidence sentence supports, each cited by it."""
    verdict = _supported_sentences(draft, question, evidence, min_support)
    if kind is AnswerKind.NUMBER and _misses_the_number(verdict.kept, evidence):
        reason = "la question demande un nombre, la réponse n'en donne aucun"
        verdict.dropped += [(sentence.text, reason) for sentence in verdict.kept]
        verdict.kept = []
    return verdict


def _misses_the_number(kept: list[AnswerSentence], evidence: list[Evidence]) -> bool:
    return bool(kept) and any(e.sentence.numbers for e in evidence) and not any(numbers_in(s.text) for s in kept)


def _supported_sentences(draft: str, question: Analysis, evidence: list[Evidence], min_support: float) -> Verdict:
    verdict = Verdict()
    by_number = {e.number: e for e in evidence}
    for sentence in split_sentences(draft):
        claim = strip_citations(sentence)
        if not any(c.isalnum() for c in claim):
            continue
        cited = [by_number[n] for n in parse_citations(sentence) if n in by_number]
        others = [e for e in evidence if e not in cited]
        analysis = analyse(claim)
        reasons = [_unsupported_because(analysis, question, e, min_support) for e in cited + others]
        supporting = [e.number for e, reason in zip(cited + others, reasons, strict=True) if reason is None]
        if not supporting:
            verdict.dropped.append((sentence, next(iter(reasons), None) or "aucune phrase des documents"))
            continue
        cited_numbers = [e.number for e in cited]
        verdict.kept.append(AnswerSentence(claim, [n for n in supporting if n in cited_numbers] or supporting[:1]))
    return verdict


def _unsupported_because(claim: Analysis, question: Analysis, evidence: Evidence, min_support: float) -> str | None:
    """Why `evidence` does not support `claim`, or None when it does."""
    source = _source(evidence)
    folded = fold(" ".join((evidence.chunk.title, evidence.chunk.section or "", evidence.sentence.context)))
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


def _source(evidence: Evidence) -> Analysis:
    """The evidence sentence (with its context) and its passage's title and section, analysed together."""
    texts = (evidence.sentence.context, evidence.chunk.title, evidence.chunk.section or "")
    parts = [analyse(text) for text in texts if text]
    return Analysis(
        lemmas=frozenset().union(*(p.lemmas for p in parts)),
        names=frozenset().union(*(p.names for p in parts)),
        numbers=frozenset().union(*(p.numbers for p in parts)),
        negated=parts[0].negated,
    )
