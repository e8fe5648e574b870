"""Verification of the model's sentences against the evidence they cite.

The model only phrases: each of its sentences must be borne out by an evidence sentence
(the one it cites, else another one it was shown), or by sentences of one document read together when it
joins facts from several (« 180 000 personnes … et 120 à 130 000 PC [1, 2] »). A sentence is supported when the
evidence holds its numbers (digits or words) and its proper names, every content word it
echoes from the question (a draft that answers a neighbouring question borrows the
question's words: "gagné" where the document never says who won; the question's verb may be reworded
when the sentence gives the asked fact), most of its own content
words, and a negation where it negates. What fails is dropped with its reason. When the
question asks for a number (a year, for « en quelle année ») and the evidence holds one, an answer
without one does not answer it (the model copied a neighbouring sentence): it is dropped as a whole. A last sentence
the model had no tokens left to finish (« … depuis un serveur de cl »: the generator says it was stopped by its
token limit) is dropped, never shown cut off.

The evidence was analysed at ingestion (`Sentence.source`); only the draft is analysed here,
in one pass that also cuts it into sentences.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from bot.answer.evidence import holds_fact_of_kind, settling
from core.text import Analysis, AnswerKind, analyse_passages, dialled, fold, ranks, settles, union
from core.types import AnswerSentence, DroppedSentence, Evidence, Question, Sentence

# « [1] », « [1, 2] », and a run of them (« [1], [2] et [3] ») read as one citation of every number it holds
CITATION = re.compile(r"(?:\s*(?:[,;]|\bet\b)?\s*\[\d+(?:\s*[,;]\s*\d+)*\])+")
# A numbered list item's number, which the sentence cutter leaves as a piece of its own (« 3. » before « Suivez… »)
_ITEM_NUMBER = re.compile(r"\s*\d{1,2}[.)]\s*")
_SPACE_BEFORE_STOP = re.compile(r"\s+([.,])")
SENTENCE_ENDS = (".", "!", "?", "…", "»", ")", '"', "`")
UNFINISHED = "phrase inachevée (réponse coupée)"
# Why an answer to a question asking for one fact (`AnswerKind.is_fact`) is dropped when it gives none
REASONS_MISSING_FACT = {
    AnswerKind.NUMBER: "la question demande un nombre, la réponse n'en donne aucun",
    AnswerKind.DURATION: "la question demande une durée ou un délai, la réponse n'en donne aucun",
    AnswerKind.COST: "la question demande un prix, la réponse n'en donne aucun et ne dit pas que c'est gratuit",
    AnswerKind.YEAR: "la question demande une année, la réponse n'en donne aucune",
    AnswerKind.NAME: "la question demande un nom, la réponse n'en donne aucun",
    AnswerKind.PLACE: "la question demande un lieu, la réponse n'en donne aucun",
}


@dataclass(frozen=True)
class DraftSentence:
    """One sentence of the model's draft: its words without citations, the numbers it cites, its analysis."""

    text: str
    citations: list[int]
    analysis: Analysis
    finished: bool = True


@dataclass
class Verdict:
    kept: list[AnswerSentence] = field(default_factory=list)
    dropped: list[DroppedSentence] = field(default_factory=list)


def has_citation(draft: str) -> bool:
    return bool(CITATION.search(draft))


def is_sentence(text: str, start: int, end: int) -> bool:
    """Whether `text[start:end]`, a piece of the draft as cut (citations blanked), is a sentence: it holds a letter or
    a digit, and is no numbered list item's number (« 3. » alone on its line's start, after a line break or before
    the item's words: verified alone, it was kept when the evidence held a 3, and shown « 3 [1]. »). A short answer
    « 3. » is a sentence."""
    piece, line_start = text[start:end], text.rfind("\n", 0, start) + 1
    opens_a_line = not text[line_start:start].strip()
    listed = line_start > 0 or bool(text[end:].strip())
    return any(c.isalnum() for c in piece) and not (opens_a_line and listed and _ITEM_NUMBER.fullmatch(piece))


def parse_draft(draft: str, cut: bool = False) -> list[DraftSentence]:
    """The draft cut into sentences, each with the citations written after it (spaCy runs once); `cut`: the model
    was stopped by its token limit, so its last sentence may be unfinished."""
    citations = list(CITATION.finditer(draft))
    blanked = CITATION.sub(lambda m: " " * len(m.group(0)), draft)
    units = analyse_passages([blanked])[0]
    cited: list[list[int]] = [[] for _ in units]
    for match in citations:
        owner = max((i for i, u in enumerate(units) if u.start <= match.start()), default=0)
        if units:
            cited[owner] += [int(n) for n in re.findall(r"\d+", match.group(0))]
    sentences = [
        DraftSentence(_tidy(blanked[u.start : u.end]), numbers, u.analysis)
        for u, numbers in zip(units, cited, strict=True)
        if is_sentence(blanked, u.start, u.end)
    ]
    return _marked_unfinished(sentences) if cut else sentences


def _marked_unfinished(sentences: list[DraftSentence]) -> list[DraftSentence]:
    """The sentences of a draft cut by the token limit, its last one marked unfinished when the limit fell inside
    it (« … depuis un serveur de cl »: no citation of its own, no mark that ends a sentence), and so the one before
    when it only announced it (« … la commande suivante : »)."""
    if not sentences or sentences[-1].citations or sentences[-1].text.rstrip().endswith(SENTENCE_ENDS):
        return sentences
    cut = 2 if len(sentences) > 1 and sentences[-2].text.endswith(":") else 1
    return sentences[:-cut] + [replace(s, finished=False) for s in sentences[-cut:]]


def _tidy(text: str) -> str:
    """A sentence whose citations were blanked out: single spaces, none before a full stop or comma, and no full stop
    after the colon that ends it (« … la commande suivante : [1]. » reads « … la commande suivante : »)."""
    tidy = _SPACE_BEFORE_STOP.sub(r"\1", " ".join(text.split()))
    return tidy[:-1] if tidy.endswith(":.") else tidy


def verify(draft: list[DraftSentence], question: Question, evidence: list[Evidence], min_support: float) -> Verdict:
    """Keep the draft's sentences that an evidence sentence supports, each cited by it; drop the whole answer
    when it does not give the kind of fact asked for although the evidence holds one."""
    verdict = _supported_sentences(draft, question, evidence, min_support)
    kind = question.kind
    contradiction = (
        _contradicts_the_settling(verdict.kept, draft, question, evidence) if kind is AnswerKind.YES_NO else None
    )
    if contradiction:
        verdict.dropped += [DroppedSentence(sentence.text, contradiction) for sentence in verdict.kept]
        verdict.kept = []
    if kind is None or not kind.is_fact or not verdict.kept:
        return verdict
    if _misses_the_asked_fact(verdict.kept, draft, question, evidence):
        verdict.dropped += [DroppedSentence(sentence.text, REASONS_MISSING_FACT[kind]) for sentence in verdict.kept]
        verdict.kept = []
    return verdict


def _contradicts_the_settling(
    kept: list[AnswerSentence], draft: list[DraftSentence], question: Question, evidence: list[Evidence]
) -> str | None:
    """Why an answer to a yes/no question says the opposite of the best evidence sentence that settles it (« Non,
    elle n'en a pas le pouvoir. » against « La mairie peut refuser notre dossier de mariage. »), or None.

    The answer's first sentence says yes or no when it opens with « Oui » or « Non », or when it restates the
    question (all its words): then yes unless it negates. Another sentence is not read as yes or no (« Il est
    interdit de brûler… » answers « j'ai le droit de brûler… ? » with no negation a rule can read)."""
    settled_by = settling(question, evidence)
    if settled_by is None or not kept:
        return None
    first = kept[0].text
    said = settles(first)
    analysis = next((d.analysis for d in draft if d.text == first), None)
    if said is None and analysis is not None and question.analysis.lemmas <= analysis.lemmas:
        said = not analysis.negated
    if said is not None and said != settles(settled_by.sentence.text):
        return f"la réponse contredit la phrase qui tranche la question [{settled_by.number}]"
    return None


def _misses_the_asked_fact(
    kept: list[AnswerSentence], draft: list[DraftSentence], question: Question, evidence: list[Evidence]
) -> bool:
    kept_texts = {s.text for s in kept}
    in_evidence = any(_gives_the_asked_fact(e.sentence.context, e.sentence, question) for e in evidence)
    return in_evidence and not any(
        _gives_the_asked_fact(d.text, d.analysis, question) for d in draft if d.text in kept_texts
    )


def _gives_the_asked_fact(text: str, analysed: Sentence | Analysis, question: Question) -> bool:
    """Whether `text` (analysed as `analysed`) gives the kind of fact the question asks for."""
    asked = question.analysis
    return holds_fact_of_kind(
        question.kind, text, analysed.numbers, analysed.names, analysed.lemmas, asked.numbers, asked.names
    )


def _supported_sentences(
    draft: list[DraftSentence], question: Question, evidence: list[Evidence], min_support: float
) -> Verdict:
    verdict = Verdict()
    by_number = {e.number: e for e in evidence}
    for sentence in draft:
        if not sentence.finished:
            verdict.dropped.append(DroppedSentence(_with_citations(sentence), UNFINISHED))
            continue
        asked = _words_to_find(sentence, question)
        cited = [by_number[n] for n in sentence.citations if n in by_number]
        others = [e for e in evidence if e not in cited]
        reasons = [_unsupported_because(sentence.analysis, asked, [e], min_support) for e in cited + others]
        supporting = [e.number for e, reason in zip(cited + others, reasons, strict=True) if reason is None]
        cited_numbers = [e.number for e in cited]
        citations = [n for n in supporting if n in cited_numbers] or supporting[:1]
        citations = citations or _jointly_supporting(sentence.analysis, asked, cited, evidence, min_support)
        if citations:
            verdict.kept.append(AnswerSentence(sentence.text, citations))
        else:
            reason = next(iter(reasons), None) or "aucune phrase des documents"
            verdict.dropped.append(DroppedSentence(_with_citations(sentence), reason))
    return verdict


def _words_to_find(claim: DraftSentence, question: Question) -> frozenset[str]:
    """The question's words a claim that echoes them must find in its source. The verb a question is framed with
    may be the model's rewording (« les paquets atterrissent dans /var/cache/apt/archives » where the manual says
    « sont placés ») when the claim gives the kind of fact asked for: it then counts among the claim's own words.
    A claim without that fact that echoes the verb answers a neighbouring question (« … a gagné le Numericamp »
    where nobody won)."""
    asked, kind = question.analysis, question.kind
    if kind is not None and kind.is_fact and not _gives_the_asked_fact(claim.text, claim.analysis, question):
        return asked.lemmas
    return asked.lemmas - asked.verbs


def _jointly_supporting(
    claim: Analysis, asked: frozenset[str], cited: list[Evidence], evidence: list[Evidence], min_support: float
) -> list[int]:
    """The numbers of the sentences that bear out, read together, a sentence joining facts from several sentences
    of one document: those it cites, else those and the document's other sentences it was shown (« sept ateliers
    et quatre conférences au forum de Lambersart [2] », the figures in [1], the place in [2]). Facts of two
    documents joined in one sentence are the model's, not a source's: [] then."""
    documents = {e.chunk.doc_id for e in cited}
    if len(documents) != 1:
        return []
    groups = [cited]
    if _read_in_the_cited(claim, cited):
        groups.append([e for e in evidence if e.chunk.doc_id in documents])
    for group in groups:
        if len(group) > 1 and _unsupported_because(claim, asked, group, min_support) is None:
            return [e.number for e in group]
    return []


def _read_in_the_cited(claim: Analysis, cited: list[Evidence]) -> bool:
    """Whether the claim's names and its negation are in the sentences it cites: who did what, and whether it
    did not, are read where the model read them, never borrowed from a neighbouring sentence (« Nicolas
    DESFACHELLE » on one line, « Secrétaire adjoint à la Préfecture » of another person on the next)."""
    folded = _folded_words(cited)
    negation_read = not claim.negated or any(e.sentence.negated for e in cited)
    return negation_read and all(name in folded for name in claim.names)


def _folded_words(evidence: list[Evidence]) -> str:
    """The sentences' words with their contexts and their passages' headings, folded (names are looked up in it)."""
    return fold(" ".join(f"{e.chunk.title} {e.chunk.section or ''} {e.sentence.context}" for e in evidence))


def _with_citations(sentence: DraftSentence) -> str:
    return sentence.text + "".join(f" [{n}]" for n in sentence.citations)


def _unsupported_because(
    claim: Analysis, asked: frozenset[str], evidence: list[Evidence], min_support: float
) -> str | None:
    """Why the `evidence` sentences, read together, do not support `claim`, or None when they do."""
    source = union([e.sentence.source for e in evidence])
    folded = _folded_words(evidence)
    if missing := claim.numbers - source.numbers:
        return f"nombre absent de la source : {', '.join(sorted(missing))}"
    if absent := {name for name in claim.names if name not in folded}:
        return f"nom absent de la source : {', '.join(sorted(absent))}"
    # An address or a number to call is copied exactly or not given: one character changed sends the resident elsewhere
    if links := claim.links - source.links:
        return f"adresse web absente de la source : {', '.join(sorted(links))}"
    if dialled(claim.phones) - dialled(source.phones):
        return f"numéro de téléphone absent de la source : {', '.join(sorted(claim.phones))}"
    # A rank the sentences themselves number otherwise is another case's, whatever their heading says: « si un 5ème
    # changement … comme s'il s'agissait du 1er », under « Vous signalez votre 4e changement », is not the 4th's step
    own_ranks = ranks(lemma for e in evidence for lemma in e.sentence.lemmas)
    if own_ranks and (other := ranks(claim.lemmas) - own_ranks):
        return f"rang absent des phrases citées : {', '.join(sorted(other))}"
    # A word the source holds as a name is its word too: « Maureen SEARLE, adjointe » tags SEARLE a name, the draft's
    # « Maureen SEARLE est élue » a common word
    words = source.lemmas | source.names
    if missing := (claim.lemmas & asked) - words:
        return f"mot de la question absent de la source : {', '.join(sorted(missing))}"
    own = claim.lemmas - asked
    if own and len(own & words) / len(own) < min_support:
        return f"mots absents de la source : {', '.join(sorted(own - words))}"
    if claim.negated and not source.negated:
        return "négation absente de la source"
    return None
