"""Evidence ranking: the sentences of the retrieved passages, ordered by how well they answer.

Every sentence was split, analysed and embedded at ingestion, so ranking is a matrix
product and a few set intersections: only the question is embedded and analysed here.

    score = dense + lexical_weight * lexical + rank_weight / passage rank

- dense: cosine similarity between the question and the sentence (with its context);
- lexical: share of the question's content lemmas, weighted by rarity, that the sentence holds
  ("visiteurs" counts for more than "2024", which many sentences share);
- the passage prior keeps the retriever's judgement (dense + BM25 over the whole passage,
  whose title and section the sentence alone does not carry).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from core.settings import Settings
from core.text import Analysis
from core.types import Evidence, Passage, Sentence
from ingest.store import IndexReader


@dataclass(frozen=True)
class QuestionTerms:
    """The question's content lemmas with their rarity weights (unknown words weigh the most)."""

    weights: dict[str, float]

    @property
    def total(self) -> float:
        return sum(self.weights.values())

    def coverage(self, lemmas: set[str] | frozenset[str] | tuple[str, ...]) -> float:
        """Weighted share of the question's lemmas found in `lemmas` (1.0 for a question without any)."""
        if not self.weights:
            return 1.0
        return sum(w for lemma, w in self.weights.items() if lemma in lemmas) / self.total


class EvidenceRanker:
    def __init__(self, reader: IndexReader, settings: Settings) -> None:
        self.reader = reader
        self.settings = settings
        self.rarity = rarity_weights(reader.sentences)
        self.unknown_weight = max(self.rarity.values(), default=1.0)

    def terms(self, question: Analysis) -> QuestionTerms:
        return QuestionTerms({lemma: self.rarity.get(lemma, self.unknown_weight) for lemma in question.lemmas})

    def rank(self, terms: QuestionTerms, vector: np.ndarray, passages: list[Passage]) -> list[Evidence]:
        """Every distinct sentence of `passages`, best first, numbered from 1."""
        rows, chunks = self._candidates(passages)
        if not rows:
            return []
        dense = self.reader.sentence_vectors[rows] @ vector
        ranked = []
        for row, passage, similarity in zip(rows, chunks, dense, strict=True):
            sentence = self.reader.sentences[row]
            lexical = terms.coverage(sentence.lemmas)
            score = (
                float(similarity)
                + self.settings.evidence_lexical_weight * lexical
                + self.settings.evidence_rank_weight / passage.rank
            )
            ranked.append((score, float(similarity), lexical, sentence, passage))
        ranked.sort(key=lambda r: r[0], reverse=True)
        return [
            Evidence(number, sentence, passage.chunk, score, dense_score=similarity, lexical_score=lexical)
            for number, (score, similarity, lexical, sentence, passage) in enumerate(ranked, start=1)
        ]

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


def rarity_weights(sentences: list[Sentence]) -> dict[str, float]:
    """Inverse document frequency of each lemma over the indexed sentences."""
    frequency: dict[str, int] = {}
    for sentence in sentences:
        for lemma in sentence.lemmas:
            frequency[lemma] = frequency.get(lemma, 0) + 1
    return {lemma: math.log(1 + len(sentences) / n) for lemma, n in frequency.items()}
