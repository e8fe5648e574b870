"""Citation parsing and the support check run on every answer sentence.

A small model sometimes invents numbers, swaps names or reverses the source's meaning.
Each sentence is kept only if the passages it cites contain its numbers and proper names,
share its polarity (a "jamais" stays a "jamais") and say the same thing: most of its words
in one of their sentences, or semantic closeness with at least some shared words.

Two checks tie the answer to the question itself, because near-miss questions ("les dates
du mois du numérique 2026") draw drafts that answer a neighbouring question: a passage only
supports an answer if it holds the question's own numbers, and a "combien" question is only
answered by a sentence that states a quantity.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from bot.retrieval import FUNCTION_STEMS, content_stems, split_sentences

CITATION = re.compile(r"\s*\[(\d+(?:\s*[,;]\s*\d+)*)\]")
_ANSWER_SENTENCE = re.compile(r"(?<=[.!?…])\s+(?=[A-ZÀÂÉÈÊÎÔÛÇ«\"0-9])|(?<=\])\s+(?=[A-ZÀÂÉÈÊÎÔÛÇ«])|\n+")
_NUMBER = re.compile(r"\d(?:[\d\u00a0\u202f ]*\d)?")
_NAME = re.compile(r"(?<![\w’'])[A-ZÀÂÉÈÊÎÔÛÇ][\w’'\-]{2,}")
_QUANTITY_QUESTION = re.compile(r"\bcombien\b", re.I)
_QUANTITY = re.compile(
    r"\d|\b(?:deux|trois|quatre|cinq|six|sept|huit|neuf|dix|onze|douze|quinze|vingt|trente|quarante"
    r"|cinquante|soixante|cent|cents|mille|millions?|milliards?|dizaines?|centaines?|milliers?)\b",
    re.I,
)
_NEGATION = re.compile(r"\b(?:jamais|aucun|aucune|rien|ni|personne)\b|\bn[e’']\s*\w+\s+(?:pas|plus|point)\b", re.I)
_COMMON_CAPITALISED = {
    "les",
    "des",
    "une",
    "elle",
    "ils",
    "elles",
    "nous",
    "vous",
    "cette",
    "ces",
    "cet",
    "son",
    "sa",
    "ses",
    "leur",
    "leurs",
    "pour",
    "par",
    "dans",
    "avec",
    "selon",
    "oui",
    "non",
    "lors",
    "après",
    "avant",
    "enfin",
    "ainsi",
    "aussi",
    "mais",
    "donc",
    "car",
    "quand",
    "dont",
    "tous",
    "toutes",
    "chaque",
}

_CLAUSE = re.compile(r"[,;:«»()]|\s[-–—]\s")
_PREFIX = 5

Embed = Callable[[list[str]], np.ndarray]


class SentenceVectors:
    """Embeddings of passage sentences, kept across answers.

    The grounding check and the evidence quote embed the same passage sentences, and the
    same passages come back question after question: each is embedded once.
    """

    def __init__(self, embed: Embed, size: int = 4096) -> None:
        self._embed = embed
        self._size = size
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            missing = [t for t in dict.fromkeys(texts) if t not in self._vectors]
            if missing:
                self._vectors.update(zip(missing, self._embed(missing), strict=True))
            while len(self._vectors) > self._size:
                self._vectors.popitem(last=False)
            return np.vstack([self._vectors[t] for t in texts]) if texts else self._embed([])


@dataclass
class CheckedAnswer:
    sentences: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    cited: list[int] = field(default_factory=list)


def fold(text: str) -> str:
    """Lower case, no accents, straight apostrophes: for tolerant substring matching."""
    text = unicodedata.normalize("NFKD", text.replace("’", "'"))
    return "".join(c for c in text if not unicodedata.combining(c)).lower()


def parse_citations(sentence: str) -> list[int]:
    numbers: list[int] = []
    for group in CITATION.findall(sentence):
        numbers.extend(int(n) for n in re.split(r"[,;]", group))
    return numbers


def strip_citations(sentence: str) -> str:
    return CITATION.sub("", sentence).strip()


def cite(claim: str, number: int) -> str:
    """Put a citation marker before the claim's final punctuation."""
    body = claim.rstrip(" .!?…")
    return f"{body} [{number}]{claim[len(body) :].strip()}"


def split_answer(answer: str) -> list[str]:
    return [s.strip() for s in _ANSWER_SENTENCE.split(answer) if s and s.strip()]


def numbers_in(text: str) -> set[str]:
    return {re.sub(r"\D", "", m) for m in _NUMBER.findall(text)}


def names_in(text: str) -> set[str]:
    """Capitalised words that are not the sentence's first word nor common words."""
    words = _NAME.findall(text)
    first = text.split(maxsplit=1)[0] if text.split() else ""
    return {fold(w) for w in words if w != first and fold(w) not in _COMMON_CAPITALISED}


def has_negation(text: str) -> bool:
    return bool(_NEGATION.search(text))


class GroundingChecker:
    def __init__(self, embed: Embed, threshold: float, lexical_threshold: float = 0.6) -> None:
        self._embed = embed
        self._threshold = threshold
        self._lexical_threshold = lexical_threshold

    def check(self, answer: str, question: str, passages: dict[int, str]) -> CheckedAnswer:
        """Keep the sentences of `answer` supported by the numbered `passages` they cite.

        A sentence that cites no passage, or one that does not support it, is attributed to
        the other passage that supports it best (the small model often cites the wrong number).
        """
        question_stems = {fold(s) for s in content_stems(question)}
        holding_question_numbers = [n for n, text in passages.items() if numbers_in(question) <= numbers_in(text)]
        result = CheckedAnswer()
        claims = [(s, strip_citations(s)) for s in split_answer(answer)]
        claims = [(s, c) for s, c in claims if c]
        if not claims or not passages:
            result.dropped = [s for s, _ in claims]
            return result
        sentences = {n: split_sentences(text) or [text] for n, text in passages.items()}
        flat = [(n, s) for n, group in sentences.items() for s in group]
        vectors = self._embed([c for _, c in claims] + [s for _, s in flat])
        claim_vectors, sentence_vectors = vectors[: len(claims)], vectors[len(claims) :]
        similarities = claim_vectors @ sentence_vectors.T
        for index, (sentence, claim) in enumerate(claims):
            cited = [n for n in parse_citations(sentence) if n in passages]
            echoed = ({fold(s) for s in content_stems(claim)} & question_stems) - FUNCTION_STEMS
            support = self._best_support(
                claim, echoed, [n for n in cited if n in holding_question_numbers], flat, similarities[index]
            )
            if support is None:
                others = [n for n in holding_question_numbers if n not in cited]
                support = self._best_support(claim, echoed, others, flat, similarities[index])
            if support is None:
                result.dropped.append(sentence)
                continue
            result.sentences.append(sentence if support in cited else cite(claim, support))
            if support not in result.cited:
                result.cited.append(support)
            for n in parse_citations(sentence):
                if n in passages and n not in result.cited and self._supports(claim, passages[n]):
                    result.cited.append(n)
        if not _answers_quantity(question, result.sentences):
            return CheckedAnswer(dropped=result.dropped + result.sentences)
        return result

    def _best_support(
        self, claim: str, echoed: set[str], cited: list[int], flat: list[tuple[int, str]], similarities: np.ndarray
    ) -> int | None:
        """The cited passage that supports `claim`, or None when none does.

        `echoed` are the claim's words taken from the question: the passage must contain them
        too, else the model is dressing up an unrelated passage as the answer (the
        prototype's invented opening hours).
        """
        ranked = sorted(((float(similarities[i]), n, s) for i, (n, s) in enumerate(flat) if n in cited), reverse=True)
        passage_texts = {n: " ".join(s for m, s in flat if m == n) for n in cited}
        for similarity, number, sentence in ranked:
            passage_text = passage_texts[number]
            if not self._supports(claim, passage_text) or not _covers(passage_text, echoed):
                continue
            if _squash(claim.rstrip(" .")) in _squash(passage_text):
                return number
            overlap = self._lexical_overlap(claim, sentence)
            close = overlap >= self._lexical_threshold or (
                similarity >= self._threshold and overlap >= self._lexical_threshold / 2
            )
            if close and _same_polarity(claim, sentence):
                return number
        return None

    @staticmethod
    def _supports(claim: str, passage_text: str) -> bool:
        """Every number and proper name of the claim occurs in the passage."""
        folded = fold(passage_text)
        return numbers_in(claim) <= numbers_in(passage_text) and all(name in folded for name in names_in(claim))

    @staticmethod
    def _lexical_overlap(claim: str, sentence: str) -> float:
        wanted = content_stems(claim)
        return len(wanted & content_stems(sentence)) / len(wanted) if wanted else 0.0


def _answers_quantity(question: str, sentences: list[str]) -> bool:
    """False when a "combien" question gets sentences that state no quantity at all."""
    if not _QUANTITY_QUESTION.search(question):
        return True
    return any(_QUANTITY.search(strip_citations(s)) for s in sentences)


def _covers(passage_text: str, stems: set[str]) -> bool:
    """All stems but one have a passage stem sharing their first letters.

    Prefixes tolerate "préside"/"président"; one miss tolerates the resident's own words
    ("ordis", "court jusqu'à") that the model echoes.
    """
    prefixes = _stem_prefixes(passage_text)
    return sum(stem[:_PREFIX] not in prefixes for stem in stems) <= 1


@lru_cache(maxsize=256)
def _stem_prefixes(passage_text: str) -> frozenset[str]:
    """Stem prefixes of a passage, computed once per passage rather than once per claim and sentence."""
    return frozenset(fold(s)[:_PREFIX] for s in content_stems(passage_text))


def _squash(text: str) -> str:
    return " ".join(fold(text).split())


def _same_polarity(claim: str, sentence: str) -> bool:
    """False when one side negates what the other affirms ("payant" vs "jamais payant")."""
    if has_negation(claim):
        return has_negation(sentence)
    return not has_negation(_closest_clause(claim, sentence))


def _closest_clause(claim: str, sentence: str) -> str:
    """The clause of `sentence` sharing most words with `claim` (for the polarity check)."""
    clauses = [c for c in _CLAUSE.split(sentence) if c.strip()] or [sentence]
    wanted = content_stems(claim)
    return max(clauses, key=lambda c: len(wanted & content_stems(c)))


def best_evidence(
    question_vector: np.ndarray, answer_vector: np.ndarray, candidates: list[tuple[int, str]], vectors: np.ndarray
) -> list[tuple[int, str]]:
    """Rank candidate source sentences by closeness to both the question and the answer."""
    scores = vectors @ question_vector + vectors @ answer_vector
    order = np.argsort(-scores)
    return [candidates[i] for i in order]
