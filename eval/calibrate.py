"""Calibrate the evidence ranker and the answerability decision on the dev split only.

Retrieval runs once per question; the ranking weights and decision thresholds are then
tried on a grid (a matrix product and a few set operations each), judged by eval's own
fact matching. The held-out split is never read here.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from bot.answer.answerability import decide
from bot.answer.evidence import EvidenceRanker, QuestionTerms
from bot.answer.service import QuestionService, read_question
from core.settings import Settings
from core.types import Outcome, Passage, Question
from eval.metrics import ANSWERABLE, holds_all_facts
from eval.runner import load_items

REFUSABLE = {"unanswerable", "off_topic"}


@dataclass
class Prepared:
    item: dict[str, Any]
    question: Question
    vector: np.ndarray
    passages: list[Passage]


@dataclass(frozen=True)
class Trial:
    lexical_weight: float
    previous_weight: float
    kind_weight: float
    rank_weight: float
    min_evidence_score: float
    min_question_coverage: float
    evidence_at_1: float
    evidence_at_3: float
    refusal: float
    false_refusal: float

    @property
    def ranking_objective(self) -> float:
        return self.evidence_at_3 + 0.5 * self.evidence_at_1

    @property
    def decision_objective(self) -> float:
        """Refusals kept, and a wrongly refused resident counted twice: a refusal sends them away."""
        return self.refusal - 2 * self.false_refusal


def prepare(pipeline: QuestionService, split: str = "dev") -> list[Prepared]:
    items = [i for i in load_items(split=split) if i["kind"] in ANSWERABLE | REFUSABLE]
    prepared = []
    for item in items:
        question = read_question(item["question"], [], pipeline.settings.follow_up_max_words)
        vector = pipeline.embedder.embed_query(question.query)
        prepared.append(Prepared(item, question, vector, pipeline.retriever.search(question.query, vector)))
    return prepared


def trial(pipeline: QuestionService, prepared: list[Prepared], settings: Settings) -> Trial:
    ranker = EvidenceRanker(pipeline.reader, settings)
    at1, at3, refused_unanswerable, refused_answerable = [], [], [], []
    for p in prepared:
        terms: QuestionTerms = ranker.terms(p.question)
        evidence = ranker.rank(terms, p.vector, p.passages)[: settings.evidence_shown]
        refused = decide(p.question, terms, evidence, settings).outcome is Outcome.REFUSE
        if p.item["kind"] in ANSWERABLE:
            texts = [e.sentence.context for e in evidence]
            at1.append(holds_all_facts(" ".join(texts[:1]), p.item["expected"]))
            at3.append(holds_all_facts(" ".join(texts[:3]), p.item["expected"]))
            refused_answerable.append(refused)
        else:
            refused_unanswerable.append(refused)
    return Trial(
        settings.evidence_lexical_weight,
        settings.evidence_previous_weight,
        settings.evidence_kind_weight,
        settings.evidence_rank_weight,
        settings.min_evidence_score,
        settings.min_question_coverage,
        float(np.mean(at1)),
        float(np.mean(at3)),
        float(np.mean(refused_unanswerable)),
        float(np.mean(refused_answerable)),
    )


RANKING_GRID = {
    "evidence_lexical_weight": (0.25, 0.5, 0.75, 1.0),
    "evidence_previous_weight": (0.0, 0.15, 0.3),
    "evidence_kind_weight": (0.0, 0.1, 0.2, 0.3),
    "evidence_rank_weight": (0.0, 0.05, 0.1),
}
DECISION_GRID = {
    "min_evidence_score": (0.25, 0.3, 0.35, 0.4),
    "min_question_coverage": (0.3, 0.4, 0.5, 0.6, 0.7),
}


def search(
    pipeline: QuestionService,
    prepared: list[Prepared],
    space: dict[str, tuple[float, ...]],
    base: Settings,
    objective: Callable[[Trial], float],
) -> list[Trial]:
    """Every combination of `space` applied to `base`, best objective first."""
    trials = []
    for values in itertools.product(*space.values()):
        settings = base.model_copy(update=dict(zip(space, values, strict=True)))
        trials.append(trial(pipeline, prepared, settings))
    return sorted(trials, key=objective, reverse=True)


def calibrate(pipeline: QuestionService, prepared: list[Prepared]) -> tuple[list[Trial], list[Trial]]:
    """The ranking weights first (judged on evidence@1/@3), then the decision thresholds on the best ranking."""
    ranking = search(pipeline, prepared, RANKING_GRID, pipeline.settings, lambda t: t.ranking_objective)
    best = ranking[0]
    ranked_settings = pipeline.settings.model_copy(
        update={
            "evidence_lexical_weight": best.lexical_weight,
            "evidence_previous_weight": best.previous_weight,
            "evidence_kind_weight": best.kind_weight,
            "evidence_rank_weight": best.rank_weight,
        }
    )
    return ranking, search(pipeline, prepared, DECISION_GRID, ranked_settings, lambda t: t.decision_objective)
