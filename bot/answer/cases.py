"""The cases of a démarches page: sibling headings under one parent (« Pièces à fournir › Carte périmée »,
« Pièces à fournir › Carte perdue ou volée »), each with steps, documents or amounts of its own.

A question that states its case (« pour un mineur », « carte perdue ») is answered from that case: the ranking
leaves out the passages of the other cases the page marks. One that states none is answered from the best case, and
the resident is told which cases exist, so that a step of another case is never read as theirs. A table's rows are
cases too: the row the question names is shown without the others. Everything here is read from the index's
headings and sentences, analysed at ingestion, the titles of the marked cases, analysed once when the index is
loaded, and which sentences are table rows (`IndexReader.table_rows`), read then too: no text is analysed at
question time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bot.answer.evidence import Chapter, figureless_words, flat_context, restates
from core.text import analyse_many, countries_named, heads_an_entry, names_a_situation, stems
from core.types import SECTION_SEPARATOR, Chunk, Evidence, Question
from ingest.store import IndexReader

# The cases among which one stands, under one parent path: each case's heading (one level of a path) and the heading
# words no sibling shares, in the page's order
Group = dict[str, frozenset[str]]


class Cases:
    """The sibling cases of every heading path of an index, grouped by document and parent path.

    A level is a case when the document marks it so (a fiche's situations and cases: `Chunk.case_levels`, named to
    the resident at any level), or when it is the last level of a passage's path among siblings that are not the
    page's chapters (any page: named at the last level only)."""

    def __init__(self, reader: IndexReader) -> None:
        shared: dict[tuple[str, str], dict[str, frozenset[str]]] = {}
        self._marked: set[tuple[str, str]] = set()  # parent paths whose cases the document marks
        chapters = _chapter_levels(reader.chunks)
        self._table_rows = reader.table_rows
        for chunk in reader.chunks:
            rows = reader.sentences_by_chunk.get(chunk.chunk_id, [])
            heading = frozenset(reader.sentences[rows[0]].heading_lemmas) if rows else frozenset()
            levels = _levels(chunk)
            marked = [levels[depth] for depth in chunk.case_levels if depth < len(levels)]
            self._marked.update(key for key, _ in marked)
            last = [levels[-1]] if len(levels) > 1 and levels[-1][0] not in chapters else []
            for key, title in dict.fromkeys(marked + last):
                siblings = shared.setdefault(key, {})
                siblings[title] = siblings.get(title, heading) & heading  # the words all its passages' paths hold
        self._groups = {key: _cases(titles) for key, titles in shared.items() if len(titles) > 1}
        self._marked_groups = {key: group for key, group in self._groups.items() if key in self._marked}
        self._paths_above_cases = _paths_above(self._marked_groups)
        page_titles = {chunk.doc_id: chunk.title for chunk in reader.chunks}
        lemmas = _heading_lemmas(self._groups, page_titles)
        self._own_words = _case_words(self._groups, page_titles, lemmas)
        # the stems of each group's parent path: the chapter a case stands in (« Contestation de l'amende › Requête »)
        self._parent_stems = {
            key: stems(frozenset().union(*(lemmas[level] for level in _levels_of(key[1])))) for key in self._groups
        }

    def stated(self, question: Question, pages: Iterable[str]) -> StatedCases:
        """The cases the question states on each of `pages`, among those the document marks (a fiche's situations and
        cases): in each group of siblings, the one `_stated_title` reads in the question's words, those it denies
        aside (a figure states none: « 14 ans » is no « Entre 12 et 13 ans »), or of several whose words it says,
        the one a case below it bears out (`_stated_below`). Of a page's cases stated in several chapters (« par
        courrier » under « Comment payer ? » and under « Contestation de l'amende › … »), those of the chapters whose
        words the question says most (« contester ») are kept (`_in_asked_chapters`). Cases a page does not mark are
        never read as stated: its headings are as often its chapters."""
        asked = question.query_analysis
        said = {lemma for lemma in asked.lemmas - asked.denied if not lemma.isdigit()}.union(
            *question.broader.values(), countries_named(asked.lemmas)
        )
        paths: dict[str, list[list[str]]] = {}
        for page in dict.fromkeys(pages):
            own_words = self._own_words.get(page, {})
            for parent, own in own_words.items():
                if (page, parent) not in self._marked:
                    continue
                title = _stated_title(own, said, asked.denied) or _stated_below(parent, own, said, own_words)
                if title is not None:
                    paths.setdefault(page, []).append([*_levels_of(parent), title])
        groups, said_stems = self._marked_groups, stems(said)
        return StatedCases(
            {
                page: self._in_asked_chapters(page, _most_specific(page, stated, groups), said_stems)
                for page, stated in paths.items()
            },
            groups,
            self._paths_above_cases,
        )

    def _in_asked_chapters(self, page: str, stated: list[list[str]], said: frozenset[str]) -> list[list[str]]:
        """The stated cases whose parent path's stems the question (its stems `said`) says the most of: a noun and its
        verb match (« Contestation de l'amende », « contester »)."""
        reach = [len(self._parent_stems[(page, SECTION_SEPARATOR.join(path[:-1]))] & said) for path in stated]
        return [path for path, count in zip(stated, reach, strict=True) if count == max(reach, default=0)]

    def beside(self, question: Question, best: Evidence) -> tuple[str, ...]:
        """The cases beside the best evidence's own, its own first, at the first level of its path where the
        question states none of them (« Naissance en France » before « Cas général »). A European country states
        the case for Europe (`Question.broader`: « je suis espagnol », « Vous êtes européen »)."""
        levels = _levels(best.chunk)
        stated = question.query_analysis.lemmas.union(*question.broader.values())
        for depth, (key, own) in enumerate(levels):
            group = self._group(key, own, last=depth == len(levels) - 1)
            if group and all(own_lemmas.isdisjoint(stated) for own_lemmas in group.values()):
                return (own, *(title for title in group if title != own))
        return ()

    def same_case(self, ranked: list[Evidence]) -> list[Evidence]:
        """The ranked evidence without the sentences of the best one's sibling cases at the last level of its path
        (« En Guyane » beside « Cas général »): those cases are named to the resident (`beside`), their steps and
        amounts never shown as theirs. Sentences of a sibling situation higher up (« Naissance à l'étranger ») stay:
        when the question states none, the best sentence's situation is the ranking's guess, and leaving out the
        others lost more answers than it spared (fiches, 2026-12-04)."""
        if not ranked:
            return ranked
        ranked = _without_restatements(ranked)
        best = ranked[0].chunk
        mine = _levels(best)
        group = self._group(*mine[-1], last=True) if len(mine) > 1 else None
        if group is None:
            return ranked
        return [e for e in ranked if not _in_sibling(best, mine, e.chunk, group)]

    def named_row(self, question: Question, ranked: list[Evidence]) -> list[Evidence]:
        """The ranked evidence without the other rows of a table one of whose shown rows the question names: a
        fee table's rows are each a case (« Stationnement gênant : … en double file … » beside « Stationnement très
        gênant : … »), and the one whose own words (no other shown row of its table says them) the question says is
        the resident's; the others' amounts are another case's. A figure names no row, as it states no case."""
        said = {lemma for lemma in question.query_analysis.lemmas if not lemma.isdigit()}
        tables: dict[tuple[str, str | None], list[Evidence]] = {}
        for evidence in ranked:
            if evidence.sentence.sentence_id in self._table_rows:
                tables.setdefault((evidence.chunk.doc_id, evidence.chunk.section), []).append(evidence)
        others: set[str] = set()
        for rows in (rows for rows in tables.values() if len(rows) > 1):
            named = [row for row in rows if not _own_words(row, rows).isdisjoint(said)]
            if len(named) == 1:
                others.update(row.sentence.sentence_id for row in rows if row is not named[0])
        return [e for e in ranked if e.sentence.sentence_id not in others]

    def _group(self, key: tuple[str, str], own: str, last: bool) -> Group | None:
        """The cases among which `own` stands under `key`: any level the document marks; a page that marks none,
        only at the last level of the path (its upper headings are as often a page's successive chapters)."""
        group = self._groups.get(key)
        if group is None or not (last or key in self._marked) or own not in group:
            return None
        return group


def _own_words(row: Evidence, rows: list[Evidence]) -> frozenset[str]:
    """The words of a table's row that no other of `rows` says."""
    return frozenset(row.sentence.lemmas).difference(*(other.sentence.lemmas for other in rows if other is not row))


def _stated_title(own: Group, said: set[str], denied: frozenset[str]) -> str | None:
    """The one case of a group that the question states, or None: the one whose own words (`own`: no sibling's title
    says them) the question says (« en Guyane », « par courrier »); else, of two cases, the one whose sibling's own
    words the question denies (« il est pas majoré »: « Amende forfaitaire » beside « Amende forfaitaire
    majorée »)."""
    titles = [title for title, words in own.items() if not words.isdisjoint(said)]
    if not titles and len(own) == 2:
        first, second = own
        titles = [title for title, other in ((first, second), (second, first)) if not own[other].isdisjoint(denied)]
    return titles[0] if len(titles) == 1 else None


def _stated_below(parent: str, own: Group, said: set[str], groups: dict[str, Group]) -> str | None:
    """Of several cases of a group whose own words the question says (« j'habite en France », « une caisse
    étrangère »: « Vous résidez en France » and « Vous résidez à l'étranger »), the one that, read with a case one
    level below it (`groups`: the page's, by parent path), says the most of them (« … en France › Caisse(s) de
    retraite étrangère(s) »), or None when none says more than the others."""
    candidates = [title for title, words in own.items() if not words.isdisjoint(said)]
    if len(candidates) < 2:
        return None

    def reach(title: str) -> int:
        below = groups.get(SECTION_SEPARATOR.join([*_levels_of(parent), title]), {})
        return max((len((own[title] | words) & said) for words in below.values()), default=len(own[title] & said))

    reaches = {title: reach(title) for title in candidates}
    most = [title for title, count in reaches.items() if count == max(reaches.values())]
    return most[0] if len(most) == 1 else None


def _paths_above(groups: dict[tuple[str, str], Group]) -> dict[str, frozenset[tuple[str, ...]]]:
    """By page, every heading path at or above the parent path of one of `groups`."""
    paths: dict[str, set[tuple[str, ...]]] = {}
    for page, parent in groups:
        levels = _levels_of(parent)
        paths.setdefault(page, set()).update(tuple(levels[:depth]) for depth in range(len(levels) + 1))
    return {page: frozenset(above) for page, above in paths.items()}


def _heading_lemmas(groups: dict[tuple[str, str], Group], page_titles: dict[str, str]) -> dict[str, frozenset[str]]:
    """The lemmas of every heading of the groups' paths and of their pages' titles, analysed once."""
    texts = sorted(
        {page_titles[doc_id] for doc_id, _ in groups}
        | {level for (_, parent), group in groups.items() for level in [*_levels_of(parent), *group]}
    )
    return dict(zip(texts, (a.lemmas for a in analyse_many(texts)), strict=True)) if texts else {}


def _case_words(
    groups: dict[tuple[str, str], Group], page_titles: dict[str, str], lemmas: dict[str, frozenset[str]]
) -> dict[str, dict[str, Group]]:
    """For each page, each group's parent path with its cases' own title words: the lemmas of a case's title that
    neither a sibling's title, nor the page's title, nor a heading above it says (« Vous l'avez perdue » under « Vous
    n'avez pas la carte grise » beside « Votre carte vous a été retirée… »: « perdre », not « carte »)."""
    by_page: dict[str, dict[str, Group]] = {}
    for (doc_id, parent), group in groups.items():
        above = lemmas[page_titles[doc_id]].union(*(lemmas[level] for level in _levels_of(parent)))
        by_page.setdefault(doc_id, {})[parent] = _cases({title: lemmas[title] - above for title in group})
    return by_page


@dataclass(frozen=True)
class StatedCases:
    """The heading paths of the cases a question states, by page, and each page's case groups."""

    paths: dict[str, list[list[str]]]
    groups: dict[tuple[str, str], Group]  # the groups the documents mark
    paths_above_cases: dict[str, frozenset[tuple[str, ...]]]  # by page, each heading path at or above a marked group

    def against(self, chunk: Chunk) -> bool:
        """Whether the passage stands in a sibling of a stated case (« Par télé-paiement » when « par courrier » is
        stated), or, higher up its path, in a sibling of a case above every stated one of its page (« À l'étranger »
        when « En Guyane » is stated only under « En France »; « Vous avez la carte grise » when « Vous l'avez
        perdue » is stated under « Vous n'avez pas la carte grise », here and under « À l'étranger »)."""
        stated = self.paths.get(chunk.doc_id)
        if not stated:
            return False
        path, page = _path(chunk), chunk.doc_id
        return any(_takes_sibling(self.groups, page, path, case, len(case) - 1) for case in stated) or all(
            any(_takes_sibling(self.groups, page, path, case, depth) for depth in range(len(case))) for case in stated
        )

    def kept(self, ranked: list[Evidence]) -> list[Evidence]:
        """The ranked evidence, repeats included, without that of another case than the stated ones (all of it when
        nothing else is left), nor a sentence that repeats one of theirs outside a stated case: « Service en ligne :
        Retraité résidant à l'étranger… », listed again under « Services en ligne et formulaires », is the other
        case's; « Les documents sont à envoyer par lettre RAR… », repeated in the stated case, is its own. The
        stated cases' own sentences are not raised above the rest: adding to their score lost more answers than it
        gained (fiches dev, 2026-12-05)."""
        chunks = {e.chunk.chunk_id: e.chunk for e in ranked}
        against = {chunk_id for chunk_id, chunk in chunks.items() if self.against(chunk)}  # once per passage
        if not against:
            return ranked
        theirs = {flat_context(e.sentence) for e in ranked if e.chunk.chunk_id in against}
        kept = [
            e
            for e in ranked
            if e.chunk.chunk_id not in against and (self.within(e.chunk) or flat_context(e.sentence) not in theirs)
        ]
        return kept or ranked

    def within(self, chunk: Chunk, last: bool = False) -> bool:
        """Whether the passage stands in a stated case of its page (at its level or below); `last`: in one the page
        marks no case below, so that the question states its case down to its steps (« … › Amende forfaitaire › Par
        courrier », not « Perte en France » above « Cas général » and « Permis de catégorie C ou D »)."""
        path, page = _path(chunk), chunk.doc_id
        cases = self.paths.get(page, [])
        if last:
            cases = [case for case in cases if tuple(case) not in self.paths_above_cases.get(page, frozenset())]
        return any(path[: len(case)] == case for case in cases)


def _most_specific(page: str, stated: list[list[str]], groups: dict[tuple[str, str], Group]) -> list[list[str]]:
    """A page's stated cases without those standing in a sibling of another (« à l'étranger › … › Vous l'avez
    perdue » when « Véhicule immatriculé en France » is stated too) nor those above another (« en France »)."""
    kept = [
        path
        for path in stated
        if not any(_takes_sibling(groups, page, path, other, len(other) - 1) for other in stated if other is not path)
    ]
    return [path for path in kept if not any(other[: len(path)] == path != other for other in kept)]


def _takes_sibling(
    groups: dict[tuple[str, str], Group], doc_id: str, path: list[str], case: list[str], depth: int
) -> bool:
    """Whether `path` follows `case` down to `depth`, then takes another case of the same group there."""
    if len(path) <= depth or path[:depth] != case[:depth] or path[depth] == case[depth]:
        return False
    group = groups.get((doc_id, SECTION_SEPARATOR.join(case[:depth])), {})
    return case[depth] in group and path[depth] in group


def _without_restatements(ranked: list[Evidence]) -> list[Evidence]:
    """The ranked evidence without a sentence that restates another of its page under another heading with other
    figures (« dans les 15 jours » under « Naissance à l'étranger », « dans les 5 jours » under « Naissance en
    France »): the same step in another case, whose figure the resident would read as a second answer. Of the two, the
    one kept is the one whose heading path shares most with the best evidence's, whose case the answer is for, then
    the better ranked. Sentences are grouped by page and words (figures aside), so each is compared only with those
    that say the same."""
    best = _path(ranked[0].chunk)
    closest_first = sorted(ranked, key=lambda e: -_shared_levels(_path(e.chunk), best))  # stable: rank breaks ties
    said: dict[tuple[str, frozenset[str]], list[Evidence]] = {}
    restating: set[str] = set()
    for evidence in closest_first:
        said_before = said.setdefault((evidence.chunk.doc_id, figureless_words(evidence.sentence)), [])
        if any(restates(evidence.sentence, evidence.chunk, earlier) for earlier in said_before):
            restating.add(evidence.sentence.sentence_id)
            continue
        said_before.append(evidence)
    return [e for e in ranked if e.sentence.sentence_id not in restating]


def _path(chunk: Chunk) -> list[str]:
    return _levels_of(chunk.section)


def _levels_of(section: str | None) -> list[str]:
    """The headings of a section path, top first (none for a page's top)."""
    return section.split(SECTION_SEPARATOR) if section else []


def _shared_levels(path: list[str], other: list[str]) -> int:
    """How many levels two heading paths share from the top."""
    return next(
        (depth for depth, (a, b) in enumerate(zip(path, other, strict=False)) if a != b), min(len(path), len(other))
    )


def _in_sibling(best: Chunk, mine: list[tuple[tuple[str, str], str]], other: Chunk, group: Group) -> bool:
    """Whether `other` stands in another case of `group` than `best`'s (its levels `mine`): the same parent path,
    another last level."""
    if other.doc_id != best.doc_id or other.section == best.section:
        return False
    theirs = _levels(other)
    return len(theirs) == len(mine) and theirs[:-1] == mine[:-1] and theirs[-1][1] in group


def _levels(chunk: Chunk) -> list[tuple[tuple[str, str], str]]:
    """Each level of a chunk's heading path, under its document and parent path."""
    path = _path(chunk)
    return [((chunk.doc_id, SECTION_SEPARATOR.join(path[:depth])), title) for depth, title in enumerate(path)]


def _chapter_levels(chunks: list[Chunk]) -> set[tuple[str, str]]:
    """The document and parent path of each level of headings that are a page's chapters, not cases (« Démarche »,
    « Pièces à fournir », « Coût », « Quand la mettre à jour ? », « 6.2.1. Quels noms de code… », « Taxe
    régionale »): one of them names a `Chapter` (the documents to provide, what it costs), heads an entry (a question,
    a numbered section), or is typed a part of a chapter by its document (`Chunk.subchapter_levels`: « Détail des
    taxes et redevances › Taxe régionale ») without naming the reader's situation (« Si vous êtes détaché »)."""
    levels = set()
    for doc_id, section, parts in {(c.doc_id, c.section, c.subchapter_levels) for c in chunks}:  # once a section
        path = _levels_of(section)
        for depth in range(1, len(path)):
            heading = path[depth]
            part = depth in parts and not names_a_situation(heading)
            if part or heads_an_entry(heading) or any(chapter.names(heading) for chapter in Chapter):
                levels.add((doc_id, SECTION_SEPARATOR.join(path[:depth])))
    return levels


def _cases(headings: dict[str, frozenset[str]]) -> Group:
    """Each sibling with the heading words that set it apart (the path's shared words removed)."""
    shared = frozenset.intersection(*headings.values())
    return {title: lemmas - shared for title, lemmas in headings.items()}
