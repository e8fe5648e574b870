"""Evidence ranking: the sentences of the retrieved passages, ordered by how well they answer.

Every sentence was split, analysed and embedded at ingestion, so ranking is a matrix
product and a few set intersections: only the question is embedded and analysed here.

    score = dense + lexical_weight * lexical + previous_weight * lexical with the sentence before
            + kind_weight * (holds a fact of the asked kind) + rank_weight / passage rank

- dense: cosine similarity between the question and the sentence (with its context);
- lexical: share of the question's content lemmas, weighted by rarity, that the sentence holds
  ("visiteurs" counts for more than "2024", which many sentences share);
- the sentence before often names the subject the answering sentence leaves implicit
  (« Ce n'est pas un audit. Il s'agit d'un service gratuit. »);
- a "how many" question is answered by a sentence with a number the question does not hold,
  a "who" question by a sentence with a name it does not hold;
- the passage prior keeps the retriever's judgement (dense + BM25 over the whole passage,
  whose title and section the sentence alone does not carry).
Sentences repeated in overlapping passages or under a speaker's name are shown once. A shown sentence
that announces what follows (« … les pièces suivantes : ») comes with it (`completed`); a question that
asks several things gets each part's best sentence after the whole question's (`with_parts`).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum

import numpy as np

from core.settings import Settings
from core.text import (
    FREE_OF_CHARGE,
    AnswerKind,
    AskedList,
    durations_in,
    fold,
    is_year,
    lists_documents,
    names_conditions,
    names_cost,
    names_duration,
    names_procedure,
    settles,
    states_amount,
    states_count,
)
from core.types import SECTION_SEPARATOR, Chunk, Evidence, Passage, Question, Sentence
from ingest.store import IndexReader


@dataclass(frozen=True)
class QuestionTerms:
    """The question's content lemmas with their rarity weights (unknown words weigh the most),
    and what it already says (names, numbers) so that new ones can be recognised as answers."""

    weights: dict[str, float]
    kind: AnswerKind | None = None
    names: frozenset[str] = frozenset()
    numbers: frozenset[str] = frozenset()
    # A lemma that words of a broader meaning cover as well (core.text.broader_places: « Espagne », « européen »)
    broader: Mapping[str, frozenset[str]] = field(default_factory=dict)

    @property
    def total(self) -> float:
        return sum(self.weights.values())

    def coverage(self, lemmas: set[str] | frozenset[str] | tuple[str, ...]) -> float:
        """Weighted share of the question's lemmas found in `lemmas`, or their broader words, not denied (« un pays non
        européen » is not Spain) (1.0 for a question without any)."""
        if not self.weights:
            return 1.0
        if self.broader and "non" not in lemmas:
            lemmas = {*lemmas, *(lemma for lemma, words in self.broader.items() if not words.isdisjoint(lemmas))}
        return sum(w for lemma, w in self.weights.items() if lemma in lemmas) / self.total

    def answered_kind(self, sentence: Sentence) -> bool:
        """True when the sentence holds a fact of the asked kind that the question does not: for an online
        service, a web address; for a phone number, one; for opening hours, a time of day."""
        if self.kind is AnswerKind.LINK:
            return bool(sentence.links)
        if self.kind is AnswerKind.PHONE:
            return bool(sentence.phones)
        if self.kind is AnswerKind.HOURS:
            return sentence.time_of_day
        if self.kind is AnswerKind.YES_NO:
            return settles(sentence.text) is not None
        return holds_fact_of_kind(
            self.kind, sentence.context, sentence.numbers, sentence.names, sentence.lemmas, self.numbers, self.names
        )


class EvidenceRanker:
    def __init__(self, reader: IndexReader, settings: Settings) -> None:
        self.reader = reader
        self.settings = settings
        self.rarity = rarity_weights(reader.sentences)
        self._chunk_rows = {chunk.chunk_id: row for row, chunk in enumerate(reader.chunks)}
        self.unknown_weight = max(self.rarity.values(), default=1.0)
        self._chapters = {chapter: _sections_under(reader.chunks, chapter) for chapter in Chapter}

    def with_settings(self, settings: Settings) -> EvidenceRanker:
        """The same ranker weighing with other settings (calibration): the corpus's statistics are kept."""
        ranker = copy.copy(self)
        ranker.settings = settings
        return ranker

    def terms(self, question: Question) -> QuestionTerms:
        """Rarity weights of the searched lemmas; a number the question gives (a year, a count)
        weighs as little as the commonest word: the answerability check already requires it."""
        common = min(self.rarity.values(), default=1.0)
        searched = question.query_analysis
        weights = {
            lemma: common if lemma.isdigit() else self.rarity.get(lemma, self.unknown_weight)
            for lemma in searched.lemmas
        }
        return QuestionTerms(weights, question.kind, searched.names, searched.numbers, question.broader)

    def rank(
        self, terms: QuestionTerms, vector: np.ndarray, passages: list[Passage], with_repeats: bool = False
    ) -> list[Evidence]:
        """Every distinct sentence of `passages` (`distinct`; all of them `with_repeats`), best first, numbered
        from 1."""
        rows, owners = self._candidates(passages)
        if not rows:
            return []
        dense = self.reader.sentence_vectors[rows] @ vector
        scored = sorted(
            (
                self._score(terms, row, passage, float(similarity))
                for row, passage, similarity in zip(rows, owners, dense, strict=True)
            ),
            key=lambda e: e.score,
            reverse=True,
        )
        return _numbered(scored) if with_repeats else distinct(scored)

    def with_parts(self, ranked: list[Evidence], part_bests: list[Evidence]) -> list[Evidence]:
        """The best sentence for the whole question, then each part's best as the whole ranking shows it (with
        the context it was folded into), then the rest of the ranking."""
        chosen = ranked[:1]
        for best in part_bests:
            text = _flat(best.sentence.context)
            shown = next((e for e in ranked if text in _flat(e.sentence.context)), best)
            if all(shown.sentence.sentence_id != e.sentence.sentence_id for e in chosen):
                chosen.append(shown)
        ids = {e.sentence.sentence_id for e in chosen}
        return chosen + [e for e in ranked if e.sentence.sentence_id not in ids]

    def chapter_answer(
        self,
        ranked: list[Evidence],
        terms: QuestionTerms,
        question: Question,
        vector: np.ndarray,
        pages: list[str],
        other_case: Callable[[Chunk], bool],
    ) -> Evidence | None:
        """The best sentence of the chapter that answers what the question asks (`Chapter.asked`) in the retrieved
        `pages`, whether its passages were retrieved or not: a list of documents seldom echoes the question's words,
        nor does « La carte coûte 25 € ». Among several such chapters (one per case: « L'enfant n'a pas de
        passeport »), the passage closest to the question's vector chooses, and in it the best sentence giving the
        price or the delay asked. A price or a delay that another shown sentence gives is taken first: that sentence
        stands in the best one's démarche, the chapter may stand in another page's. A passage of `other_case` than the
        question states is never chosen. None when no page has one."""
        chapter = Chapter.asked(question, ranked)
        if chapter is None:
            return None
        if chapter in (Chapter.COST, Chapter.DURATION):  # a price or a delay among those shown comes first
            shown = ranked[1 : self.settings.evidence.shown]
            giving = next((e for e in shown if chapter.given_by(e.sentence, question)), None)
            if giving is not None:
                return giving
        pages = list(dict.fromkeys(pages))
        held = {
            chunk.chunk_id for page in pages for chunk in self._chapters[chapter].get(page, []) if not other_case(chunk)
        }
        if not held:
            return None
        closest = next(
            chunk for chunk, _ in self.reader.dense(vector, len(self.reader.chunks), pages) if chunk.chunk_id in held
        )
        found = self.rank(terms, vector, [Passage(closest, score=0.0, rank=1)])
        return next((e for e in found if chapter.given_by(e.sentence, question)), next(iter(found), None))

    def procedure(self, ranked: list[Evidence], max_chars: int, shown: int) -> list[Evidence]:
        """For a "how to" question: the steps of the best sentence's section in order as evidence [1], then the
        next best sentences that the steps do not already hold (an announcing one completed within `max_chars`).
        Steps that end their section's own text read on into the sub-sections after it (`_sub_section_steps`)."""
        if not ranked:
            return ranked
        best = ranked[0]
        steps = replace(best, sentence=self._block(best, max_chars))
        return self.completed([steps, *ranked[1:]], max_chars, shown, into_sub_sections=True)

    def with_service(
        self,
        kept: list[Evidence],
        ranked: list[Evidence],
        terms: QuestionTerms,
        vector: np.ndarray,
        shown: int,
        instead_of: Evidence | None = None,
    ) -> list[Evidence]:
        """The shown steps of a procedure with their page's online service or form and its address, in place of
        `instead_of`, else of the last shown sentence, when none holds it: of the service and form lines in the
        sections of the ranked sentences of the best evidence's page (`ranked` holds no sibling case's), those of the
        steps' own section if it has any (the steps of « Par courrier » name its form, not another way's service), and
        of those the first in reading order, as a procedure's steps come (the request before its follow-up). A
        resident asking how to do it is shown where to do it; one asking whether it can be done online, the service or
        form itself."""
        if not kept:
            return kept
        page = kept[0].chunk.doc_id
        sections = {e.chunk.section: e.chunk for e in ranked if e.chunk.doc_id == page}
        services = [
            step for chunk in sections.values() for step in self._section_steps(chunk) if step.sentence.offers_service
        ]
        if not services:
            return kept
        own = [step for step in services if step.chunk.section == kept[0].chunk.section]
        first = min(own or services, key=lambda step: (self._chunk_rows[step.chunk.chunk_id], step.start))
        if any(_flat(first.sentence.text) in _flat(e.sentence.context) for e in kept):
            return kept
        scored = self.rank(terms, vector, [Passage(first.chunk, score=0.0, rank=1)])
        service = next((e for e in scored if e.sentence.sentence_id == first.sentence.sentence_id), None)
        if service is None:  # read within a longer sentence of its passage: already weighed there
            return kept
        kept = [*[e for e in kept if e is not instead_of][: shown - 1], service]
        for number, item in enumerate(kept, start=1):
            item.number = number
        return kept

    def completed(
        self, ranked: list[Evidence], max_chars: int, shown: int, into_sub_sections: bool = False, first_chars: int = 0
    ) -> list[Evidence]:
        """The `shown` best sentences, each that announces what follows (« … les pièces suivantes : », « tapez : »)
        with what it announces, within its section and `max_chars`; a sentence already read in a better one's
        announced text is not shown again. `into_sub_sections`: a sentence ending its section's own text reads on
        into the sub-sections after it (`_sub_section_steps`)."""
        kept: list[Evidence] = []
        for evidence in ranked:
            if len(kept) == shown:
                break
            if any(_flat(evidence.sentence.context) in _flat(other.sentence.context) for other in kept):
                continue
            if _announces(evidence.sentence) or (into_sub_sections and kept):  # the first is a procedure's block
                evidence = self._read_on(evidence, max_chars, into_sub_sections)
            if evidence.sentence.refers_back:
                evidence = self._with_antecedent(evidence, max_chars, kept)
            if first_chars and not kept:
                evidence = self._read_further(evidence, first_chars)
            kept.append(evidence)
        for number, item in enumerate(kept, start=1):
            item.number = number
        return kept

    def _block(self, best: Evidence, max_chars: int) -> Sentence:
        """The steps around the best sentence, in order, within its section and `max_chars`, then on into the
        sub-sections after it (`_sub_section_steps`) when they reach the section's end.

        They start at the section's start when the best sentence is close enough to it (a FAQ answer,
        a procedure), else at the nearest sentence before it that announces a list ("… les pièces
        suivantes :"), else at the best sentence itself; they run on to the end of the section.
        """
        steps = self._section_steps(best.chunk)
        anchor = _anchor(steps, best)
        kept = _within(steps, _first_step(steps, anchor, max_chars), anchor, max_chars)
        return _one_sentence(self._sub_section_steps(steps, kept, max_chars))

    def _read_on(self, evidence: Evidence, max_chars: int, into_sub_sections: bool) -> Evidence:
        """The evidence with what it opens, within `max_chars`: a sentence announcing what follows with the rest of
        its section; with `into_sub_sections`, a sentence or announced text ending its section's own text with the
        sub-sections after it. Else the evidence itself."""
        steps = self._section_steps(evidence.chunk)
        anchor = _anchor(steps, evidence)
        if not _announces(evidence.sentence) and anchor < len(steps) - 1:
            return evidence
        kept = _within(steps, anchor, anchor, max_chars)
        if into_sub_sections:
            kept = self._sub_section_steps(steps, kept, max_chars)
        return replace(evidence, sentence=_one_sentence(kept)) if len(kept) > 1 else evidence

    def _with_antecedent(self, evidence: Evidence, max_chars: int, shown: list[Evidence]) -> Evidence:
        """The evidence read from what its first words refer to, the sentences before it in its section that refer
        back in turn, within `max_chars`: « Elle vous permet de conduire… » says what only with « Vous pouvez
        télécharger une attestation de perte. Cette attestation est valable 2 mois. » Never from a sentence that
        restates a `shown` one with other figures (« … dans les 15 jours » of another case beside « … dans les 5
        jours »): the resident would read a second answer."""
        steps, anchor, last = self._spanned(evidence)
        first = anchor
        while (
            first > 0
            and steps[first].sentence.refers_back
            and steps[last].end - steps[first - 1].start <= max_chars
            and not any(restates(steps[first - 1].sentence, steps[first - 1].chunk, other) for other in shown)
        ):
            first -= 1
        return evidence if first == anchor else replace(evidence, sentence=_one_sentence(steps[first : last + 1]))

    def _read_further(self, evidence: Evidence, max_chars: int) -> Evidence:
        """The evidence read on into the sentences after it in its section while the whole fits in `max_chars`: the
        best sentence often says one thing of several (« … est de 230,77 € TTC. Il faut y ajouter un droit
        d'enregistrement de 125 €. », « … adressez-vous aux autorités locales. Vous devez ensuite faire viser le
        récépissé par votre consulat. »). It stops before a table row (each row its own case: « 4 enfants ;
        Montant maximum : 1 077,44 € ») and before a sentence that amends a figure read (`_amends`). A line giving a
        web address (« Où s'adresser : France Services : https://… », a form, a service) is read alone: what follows
        it is another entry. The evidence keeps the text it was ranked on (`Evidence.own_context`)."""
        if evidence.sentence.links:
            return evidence
        steps, first, last = self._spanned(evidence)
        figures = frozenset().union(*(step.sentence.own_numbers for step in steps[first : last + 1]))
        read = last
        while read + 1 < len(steps):
            following = steps[read + 1]
            own = frozenset(following.sentence.own_numbers)
            too_long = following.end - steps[first].start > max_chars
            if too_long or following.sentence.sentence_id in self.reader.table_rows or _amends(own, figures):
                break
            figures, read = figures | own, read + 1
        if read == last:
            return evidence
        return replace(evidence, sentence=_one_sentence(steps[first : read + 1]), own_context=evidence.sentence.context)

    def _spanned(self, evidence: Evidence) -> tuple[list[_Step], int, int]:
        """The steps of the evidence's section, and the first and last of those its shown text spans (a short line's
        context holds the line after it)."""
        steps = self._section_steps(evidence.chunk)
        first = _anchor(steps, evidence)
        read_to = evidence.chunk.start + evidence.sentence.end
        return steps, first, max(i for i, step in enumerate(steps) if i == first or step.start < read_to)

    def _sub_section_steps(self, steps: list[_Step], kept: list[_Step], max_chars: int) -> list[_Step]:
        """`kept`, and when they reach the end of their section (`steps`), the sentences of the sub-sections that
        follow it on its page, in reading order, while the whole fits in `max_chars`, up to the first sub-section the
        page marks as one of several cases.

        A situation often holds one overview sentence (« … il faut faire une déclaration de vol avant de faire une
        demande de renouvellement. ») and its steps are its chapters (« Déclaration de vol » › « … au commissariat
        … Un récépissé vous est alors remis », « Demande en ligne du nouveau permis »).
        """
        last = steps[-1].chunk
        if kept[-1] is not steps[-1] or not last.section:
            return kept
        under, depth = last.section + SECTION_SEPARATOR, last.section.count(SECTION_SEPARATOR) + 1
        chunks, length, read = self.reader.chunks, len(_joined(kept)), list(kept)
        row = self._chunk_rows[last.chunk_id] + 1
        while row < len(chunks) and chunks[row].doc_id == last.doc_id:
            part = chunks[row]
            if not (part.section or "").startswith(under) or any(level >= depth for level in part.case_levels):
                break  # past the section, or one of several cases the page marks: which applies is not read for them
            for step in self._section_steps(part):
                length += len(step.sentence.text) + 1
                if length > max_chars:
                    return read
                read.append(step)
            row += 1
            while row < len(chunks) and _same_section(chunks[row - 1], chunks[row]):
                row += 1  # the sub-section's other passages, read above
        return read

    def _section_steps(self, chunk: Chunk) -> list[_Step]:
        """Every sentence of the section that holds `chunk`, in reading order, each once (passages overlap)."""
        chunks = self.reader.chunks
        first = last = self._chunk_rows[chunk.chunk_id]
        while first > 0 and _same_section(chunks[first - 1], chunks[first]):
            first -= 1
        while last + 1 < len(chunks) and _same_section(chunks[last], chunks[last + 1]):
            last += 1
        steps: list[_Step] = []
        for part in chunks[first : last + 1]:
            for row in self.reader.sentences_by_chunk.get(part.chunk_id, []):
                step = _Step(self.reader.sentences[row], part)
                if not steps or step.start >= steps[-1].end:
                    steps.append(step)
        return steps

    def _score(self, terms: QuestionTerms, row: int, passage: Passage, similarity: float) -> Evidence:
        sentence = self.reader.sentences[row]
        lexical = terms.coverage(sentence.lemmas)
        with_previous = terms.coverage(set(sentence.lemmas) | set(self._previous_lemmas(row)))
        settings = self.settings
        heading_weight = (
            settings.evidence.procedure_heading_weight
            if terms.kind is AnswerKind.PROCEDURE
            else settings.evidence.heading_weight
        )
        score = (
            similarity
            + settings.evidence.lexical_weight * lexical
            + settings.evidence.previous_weight * with_previous
            + settings.evidence.kind_weight * terms.answered_kind(sentence)
            + heading_weight * terms.coverage(sentence.heading_lemmas)
            + settings.evidence.rank_weight / passage.rank
        )
        return Evidence(0, sentence, passage.chunk, score, dense_score=similarity, lexical_score=lexical)

    def _previous_lemmas(self, row: int) -> tuple[str, ...]:
        sentence = self.reader.sentences[row]
        if sentence.position == 0:
            return ()
        return self.reader.sentences[row - 1].lemmas

    def _candidates(self, passages: list[Passage]) -> tuple[list[int], list[Passage]]:
        """Sentence rows of the passages, each distinct context once (overlapping chunks repeat them)."""
        rows: list[int] = []
        owners: list[Passage] = []
        seen: set[str] = set()
        for passage in passages:
            for row in self.reader.sentences_by_chunk.get(passage.chunk.chunk_id, []):
                context = self.reader.sentences[row].context
                if context not in seen:
                    seen.add(context)
                    rows.append(row)
                    owners.append(passage)
        return rows, owners


@dataclass(frozen=True)
class _Step:
    """One sentence of a section, with the passage it was read from."""

    sentence: Sentence
    chunk: Chunk

    @property
    def start(self) -> int:
        """Where the sentence starts in its unit (page, HTML section): passages of one unit overlap."""
        return self.chunk.start + self.sentence.start

    @property
    def end(self) -> int:
        return self.start + len(self.sentence.text)


class Chapter(StrEnum):
    """A chapter of a démarches page that is itself the answer to one kind of question, found by its heading."""

    DOCUMENTS = "documents"  # « Pièces à fournir »: for « quels papiers ? », the list, shown whole
    COST = "cost"  # « Coût », « Montant »: for « combien ça coûte ? » when the best sentence gives no amount
    DURATION = "duration"  # « Délai », « Durée de validité »: for « combien de temps ? » when it gives no duration
    PROCEDURE = "procedure"  # « Démarche »: for « comment faire ? », its steps
    CONDITIONS = "conditions"  # « Qui est concerné ? »: for « c'est quoi les conditions ? », shown whole

    def names(self, heading: str) -> bool:
        """Whether a heading (one level of a section path) names this chapter."""
        return _CHAPTER_HEADINGS[self](heading)

    def heads(self, chunk: Chunk) -> bool:
        """Whether the passage is under a heading of this chapter."""
        return any(self.names(level) for level in (chunk.section or "").split(SECTION_SEPARATOR))

    @staticmethod
    def asked(question: Question, ranked: list[Evidence]) -> Chapter | None:
        """The chapter that answers the question, or None (no evidence; the best sentence already gives a price or a
        length of time: a figure that is no amount, « moins de 16 ans », gives no price; « 35 € » gives no delay; it
        already stands in a « Démarche » chapter for « comment faire ? »)."""
        if not ranked:
            return None
        if question.asks_list is not None:
            return _LISTS[question.asks_list]
        if question.kind is AnswerKind.PROCEDURE and not Chapter.PROCEDURE.heads(ranked[0].chunk):
            return Chapter.PROCEDURE
        for chapter, kind in ((Chapter.COST, AnswerKind.COST), (Chapter.DURATION, AnswerKind.DURATION)):
            if question.kind is kind and not chapter.given_by(ranked[0].sentence, question):
                return chapter
        return None

    def given_by(self, sentence: Sentence, question: Question) -> bool:
        """Whether the sentence gives what this chapter answers: an amount or « gratuit » for a price, a length of
        time the question does not give for a delay; any sentence of a documents list."""
        if self is Chapter.COST:
            return states_amount(sentence.context) or not FREE_OF_CHARGE.isdisjoint(sentence.lemmas)
        if self is Chapter.DURATION:
            return gives_duration(sentence.context, question.analysis.numbers)
        return True


# The chapter that is the list a question asks for (`Question.asks_list`)
_LISTS = {AskedList.DOCUMENTS: Chapter.DOCUMENTS, AskedList.CONDITIONS: Chapter.CONDITIONS}

_CHAPTER_HEADINGS = {
    Chapter.DOCUMENTS: lists_documents,
    Chapter.COST: names_cost,
    Chapter.DURATION: names_duration,
    Chapter.PROCEDURE: names_procedure,
    Chapter.CONDITIONS: names_conditions,
}


def _sections_under(chunks: list[Chunk], chapter: Chapter) -> dict[str, list[Chunk]]:
    """Each document's passages under a heading of `chapter`."""
    by_document: dict[str, list[Chunk]] = {}
    for chunk in filter(chapter.heads, chunks):
        by_document.setdefault(chunk.doc_id, []).append(chunk)
    return by_document


def _same_section(chunk: Chunk, following: Chunk) -> bool:
    """Whether `following` continues `chunk`'s section: same document, page and section, further on."""
    return (
        following.doc_id == chunk.doc_id
        and following.page == chunk.page
        and following.section == chunk.section
        and following.start > chunk.start
    )


def _first_step(steps: list[_Step], anchor: int, max_chars: int) -> int:
    """Where the steps that hold `steps[anchor]` start: the section's start if it fits in `max_chars`, else the
    nearest sentence before that announces what follows (ends with ":"), else the anchor itself."""
    end = steps[anchor].end
    if end - steps[0].start <= max_chars:
        return 0
    for index in range(anchor, -1, -1):
        if end - steps[index].start > max_chars:
            break
        if steps[index].sentence.text.rstrip().endswith(":"):
            return index
    return anchor


def _anchor(steps: list[_Step], evidence: Evidence) -> int:
    """Which of `steps` is the evidence's sentence."""
    at = evidence.chunk.start + evidence.sentence.start
    return max((i for i, step in enumerate(steps) if step.start <= at), default=0)


def _within(steps: list[_Step], first: int, anchor: int, max_chars: int) -> list[_Step]:
    """`steps` from `first` on, within `max_chars` (the anchor's alone if it is longer)."""
    return [step for step in steps[first:] if step.end - steps[first].start <= max_chars] or [steps[anchor]]


def _one_sentence(kept: list[_Step]) -> Sentence:
    """Steps read in order, as one sentence."""
    text = _joined(kept)
    sentences = [step.sentence for step in kept]
    return replace(
        kept[0].sentence,
        sentence_id=f"{kept[0].sentence.sentence_id}-{kept[-1].sentence.sentence_id}",
        text=text,
        context=text,
        lemmas=tuple(sorted({lemma for s in sentences for lemma in s.lemmas})),
        names=tuple(sorted({name for s in sentences for name in s.names})),
        numbers=tuple(sorted({number for s in sentences for number in s.numbers})),
        own_numbers=tuple(sorted({number for s in sentences for number in s.own_numbers})),
        negated=any(s.negated for s in sentences),
        links=tuple(sorted({link for s in sentences for link in s.links})),
        phones=tuple(sorted({phone for s in sentences for phone in s.phones})),
        time_of_day=any(s.time_of_day for s in sentences),
        offers_service=any(s.offers_service for s in sentences),
        end=kept[0].sentence.start + len(text),  # from the first step's passage, maybe into the next one
    )


def _amends(figures: frozenset[str], read: frozenset[str]) -> bool:
    """Whether a sentence giving `figures` names one already `read` beside a new one: it amends it for a condition
    (« Ce délai de 30 jours passe à 45 jours si vous payez par internet »), a variant rather than what follows."""
    return bool(figures & read) and not figures <= read


def _announces(sentence: Sentence) -> bool:
    """A sentence that ends with a colon announces what follows it: a list, a command, the steps."""
    return sentence.text.rstrip().endswith(":")


def _flat(text: str) -> str:
    return " ".join(text.split())


def _joined(steps: list[_Step]) -> str:
    """The steps' text: as written between sentences of one passage, a line break between passages."""
    parts = [steps[0].sentence.text]
    for previous, step in zip(steps, steps[1:], strict=False):
        if previous.chunk.chunk_id == step.chunk.chunk_id:
            parts.append(step.chunk.text[previous.sentence.start + len(previous.sentence.text) : step.sentence.start])
        else:
            parts.append("\n")
        parts.append(step.sentence.text)
    return "".join(parts)


def figureless_words(sentence: Sentence) -> frozenset[str]:
    """A sentence's lemmas without its figures: what it says whatever the case's numbers."""
    return frozenset(lemma for lemma in sentence.lemmas if not lemma.isdigit())


def restates(sentence: Sentence, chunk: Chunk, other: Evidence) -> bool:
    """Whether `sentence` (of `chunk`) says what `other` says on the same page under another heading, in the same
    words, with other figures: the same step in another case (« dans les 15 jours » under « Naissance à l'étranger »
    beside « dans les 5 jours » under « Naissance en France »)."""
    return (
        chunk.doc_id == other.chunk.doc_id
        and chunk.section != other.chunk.section
        and bool(sentence.numbers)
        and set(sentence.numbers) != set(other.sentence.numbers)
        and figureless_words(sentence) == figureless_words(other.sentence)
    )


def gives_duration(text: str, asked_numbers: frozenset[str]) -> bool:
    """Whether `text` gives a length of time the question does not (« 45 jours »; « 35 € » gives none)."""
    return bool(durations_in(text) - asked_numbers)


def holds_fact_of_kind(
    kind: AnswerKind | None,
    text: str,
    numbers: tuple[str, ...] | frozenset[str],
    names: tuple[str, ...] | frozenset[str],
    lemmas: tuple[str, ...] | frozenset[str],
    asked_numbers: frozenset[str],
    asked_names: frozenset[str],
) -> bool:
    """True when `text`, with these numbers, names and lemmas, holds a fact of the asked kind that the question does
    not: a figure or a date for "combien / quand", a length of time for "combien de temps / quel délai", an amount
    or « gratuit » for a price, a year for "quelle année", a name for "qui", a place's or organisation's name for
    "où"."""
    if kind is AnswerKind.DURATION:
        return gives_duration(text, asked_numbers)
    if kind is AnswerKind.NUMBER:
        return bool(set(numbers) - asked_numbers)
    if kind is AnswerKind.COST:
        return bool(set(numbers) - asked_numbers) or not FREE_OF_CHARGE.isdisjoint(lemmas)
    if kind is AnswerKind.YEAR:
        return any(is_year(number) for number in set(numbers) - asked_numbers)
    if kind in (AnswerKind.NAME, AnswerKind.PLACE):
        return bool(set(names) - asked_names)
    return False


def page_figure(ranked: list[Evidence], terms: QuestionTerms, shown: int, min_coverage: float) -> Evidence | None:
    """For a question asking a figure, a date, a price or a length of time that none of the `shown` first sentences
    gives: the best-ranked sentence of the best one's page that gives one and covers the question, read with its
    page's title and section, as much as shown evidence must (`min_coverage`): « Ce paiement doit se faire avant le
    15 octobre. » under « Taxe d'enlèvement des ordures ménagères › Paiement ». None otherwise; never a phone number
    nor opening hours, which a page's other lines give for other services."""
    if terms.kind is None or not terms.kind.is_figure:
        return None
    if not ranked or any(terms.answered_kind(e.sentence) for e in ranked[:shown]):
        return None
    page = ranked[0].chunk.doc_id
    return next(
        (
            e
            for e in ranked[shown:]
            if e.chunk.doc_id == page
            and terms.answered_kind(e.sentence)
            and terms.coverage(e.sentence.source.lemmas) >= min_coverage
        ),
        None,
    )


def settling(question: Question, evidence: list[Evidence]) -> Evidence | None:
    """The best evidence sentence that settles the question by itself, or None: for a yes/no question, one opening
    with « Oui » or « Non »; for « combien de procurations ? », one that gives a number of them."""
    if question.kind is AnswerKind.YES_NO:
        return next((e for e in evidence if settles(e.sentence.text) is not None), None)
    if question.kind is AnswerKind.NUMBER and question.counted:
        counted = question.counted
        return next((e for e in evidence if states_count(e.sentence.text, counted)), None)
    return None


def distinct(ranked: list[Evidence]) -> list[Evidence]:
    """The ranking without a sentence that a better-ranked one contains or is contained in (same words, other cut),
    numbered from 1."""
    kept: list[Evidence] = []
    folded: list[str] = []
    for evidence in ranked:
        text = flat_context(evidence.sentence)
        if any(text in other or other in text for other in folded):
            continue
        kept.append(evidence)
        folded.append(text)
    return _numbered(kept)


def flat_context(sentence: Sentence) -> str:
    """A sentence's context folded, its spaces collapsed: how repeats are told."""
    return " ".join(fold(sentence.context).split())


def _numbered(ranked: list[Evidence]) -> list[Evidence]:
    for number, evidence in enumerate(ranked, start=1):
        evidence.number = number
    return ranked


def rarity_weights(sentences: list[Sentence]) -> dict[str, float]:
    """Inverse document frequency of each lemma over the indexed sentences."""
    frequency: dict[str, int] = {}
    for sentence in sentences:
        for lemma in sentence.lemmas:
            frequency[lemma] = frequency.get(lemma, 0) + 1
    return {lemma: math.log(1 + len(sentences) / n) for lemma, n in frequency.items()}
