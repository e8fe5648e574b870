"""Calibrate the evidence ranker and the answerability decision on the dev splits of every corpus.

Retrieval runs once per question; the ranking weights and decision thresholds are then
tried on a grid (a matrix product and a few set operations each), judged by eval's own
fact matching over the dev items of every corpus, each corpus weighing the same, so that no
corpus's habits decide alone. The held-out splits are never read here.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import ValidationError

from bot.answer.answerability import decide
from bot.answer.service import QuestionService, build_service, read_question
from core.settings import Settings
from core.types import Outcome, Passage, Question
from eval.corpora import CORPORA, DEFAULT_CORPUS, CorpusMissing, index_corpus
from eval.metrics import ANSWERABLE, ItemResult, holds_all_facts
from eval.runner import conversation, load_items
from ingest.embeddings import Embedder

REFUSABLE = {"unanswerable", "off_topic"}


@dataclass
class Prepared:
    corpus: str
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
    heading_weight: float
    procedure_heading_weight: float
    min_evidence_score: float
    min_question_coverage: float
    reworded_evidence_score: float
    evidence_at_1: float
    evidence_at_3: float
    refusal: float
    false_refusal: float

    @property
    def ranking_objective(self) -> float:
        return self.evidence_at_3 + 0.5 * self.evidence_at_1

    @property
    def decision_objective(self) -> float:
        return refusal_objective(self.refusal, self.false_refusal)


def refusal_objective(refusal: float, false_refusal: float) -> float:
    """Refusals kept, and a wrongly refused resident counted twice: a refusal sends them away."""
    return refusal - 2 * false_refusal


def across_corpora(figures: dict[str, dict[str, list[bool]]], name: str) -> float:
    """The mean of each corpus's own share of `name`, so that every corpus weighs the same whatever its number of
    questions."""
    return float(np.mean([np.mean(seen[name]) for seen in figures.values() if seen[name]]))


class Remembering:
    """An embedder that embeds each question (or part of one) once over all the trials."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder
        self.name = embedder.name
        self.vectors: dict[str, np.ndarray] = {}

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        return self.embedder.embed_documents(texts)

    def embed_query(self, text: str) -> np.ndarray:
        if text not in self.vectors:
            self.vectors[text] = self.embedder.embed_query(text)
        return self.vectors[text]


def remembering(services: dict[str, QuestionService]) -> dict[str, QuestionService]:
    """The services with embedders that remember the questions' vectors."""
    copies = {corpus: service.with_settings(service.settings) for corpus, service in services.items()}
    for service in copies.values():
        service.embedder = Remembering(service.embedder)
    return copies


def corpus_services(base: Settings, missing: Callable[[str, Exception], None]) -> dict[str, QuestionService]:
    """A question service per evaluation corpus on `base` settings, each corpus's index brought up to date first;
    `missing` is told of a corpus whose documents are not installed (it is left out)."""
    services = {}
    for corpus in CORPORA:
        try:
            settings = base if corpus == DEFAULT_CORPUS else index_corpus(corpus, base)[0]
        except CorpusMissing as exc:
            missing(corpus, exc)
            continue
        services[corpus] = build_service(settings)
    return services


def prepare(services: dict[str, QuestionService], split: str = "dev") -> list[Prepared]:
    """Each dev question of each corpus retrieved once, by that corpus's service."""
    prepared = []
    for corpus, service in services.items():
        for item in load_items(corpus, split=split):
            if item["kind"] not in ANSWERABLE | REFUSABLE:
                continue
            max_words = service.settings.retrieval.follow_up_max_words
            question = read_question(item["question"], conversation(item), max_words)
            vector = service.embedder.embed_query(question.query)
            passages = service.retriever.search(question.query, vector)
            prepared.append(Prepared(corpus, item, question, vector, passages))
    return prepared


def trial(services: dict[str, QuestionService], prepared: list[Prepared], update: dict[str, float]) -> Trial:
    """The dev figures with the settings changed by `update`: each the mean of the corpora's own figures, so that
    every corpus weighs the same whatever its number of questions."""
    tried = {corpus: service.with_settings(service.settings.changed(**update)) for corpus, service in services.items()}
    figures: dict[str, dict[str, list[bool]]] = {corpus: defaultdict(list) for corpus in services}
    for p in prepared:
        service = tried[p.corpus]
        terms = service.ranker.terms(p.question)
        evidence = service.evidence(p.question, terms, p.vector, p.passages)
        refused = decide(p.question, terms, evidence, service.settings).outcome is Outcome.REFUSE
        seen = figures[p.corpus]
        if p.item["kind"] in ANSWERABLE:
            texts = [e.sentence.context for e in evidence]
            seen["at1"].append(holds_all_facts(" ".join(texts[:1]), p.item["expected"]))
            seen["at3"].append(holds_all_facts(" ".join(texts[:3]), p.item["expected"]))
            seen["refused_answerable"].append(refused)
        else:
            seen["refused_unanswerable"].append(refused)
    settings = next(iter(tried.values())).settings
    return Trial(
        settings.evidence.lexical_weight,
        settings.evidence.previous_weight,
        settings.evidence.kind_weight,
        settings.evidence.rank_weight,
        settings.evidence.heading_weight,
        settings.evidence.procedure_heading_weight,
        settings.answerability.min_evidence_score,
        settings.answerability.min_question_coverage,
        settings.answerability.reworded_evidence_score,
        across_corpora(figures, "at1"),
        across_corpora(figures, "at3"),
        across_corpora(figures, "refused_unanswerable"),
        across_corpora(figures, "refused_answerable"),
    )


RANKING_GRID = {
    "evidence__lexical_weight": (0.25, 0.5, 0.75, 1.0),
    "evidence__previous_weight": (0.0, 0.15, 0.3),
    "evidence__kind_weight": (0.0, 0.1, 0.2, 0.3),
    "evidence__rank_weight": (0.0, 0.05, 0.1),
    "evidence__heading_weight": (0.0, 0.1, 0.2, 0.3),
    "evidence__procedure_heading_weight": (0.0, 0.2, 0.4),
}
DECISION_GRID = {
    "answerability__min_evidence_score": (0.2, 0.25, 0.3, 0.35, 0.4),
    "answerability__min_question_coverage": (0.2, 0.3, 0.4, 0.5, 0.6),
    "answerability__reworded_evidence_score": (0.4, 0.45, 0.5, 0.55, 0.6, 1.0),
}


def search(
    services: dict[str, QuestionService],
    prepared: list[Prepared],
    space: dict[str, tuple[float, ...]],
    base: dict[str, float],
    objective: Callable[[Trial], float],
) -> list[Trial]:
    """Every combination of `space` on top of `base` that the settings accept, best objective first (a
    `min_evidence_score` above the unsearched `strong_evidence_score` is refused by its validator)."""
    updates = [{**base, **dict(zip(space, values, strict=True))} for values in itertools.product(*space.values())]
    settings = next(iter(services.values())).settings
    trials = [trial(services, prepared, update) for update in updates if _accepted(settings, update)]
    return sorted(trials, key=objective, reverse=True)


def _accepted(settings: Settings, update: dict[str, float]) -> bool:
    try:
        settings.changed(**update)
    except ValidationError:
        return False
    return True


def calibrate(
    services: dict[str, QuestionService], prepared: list[Prepared], ranking: bool = True
) -> tuple[list[Trial], list[Trial]]:
    """The ranking weights first (judged on evidence@1/@3), then the decision thresholds on the best ranking;
    without `ranking`, the thresholds on the ranking the settings give.

    `answerability.strong_evidence_score` is not searched: it decides what happens after the model's draft
    (evidence alone or a refusal), which only a run with the model shows."""
    if not ranking:
        return [trial(services, prepared, {})], search(services, prepared, DECISION_GRID, {}, decision_objective)
    ranked_trials = search(services, prepared, RANKING_GRID, {}, lambda t: t.ranking_objective)
    best = ranked_trials[0]
    ranked = {
        "evidence__lexical_weight": best.lexical_weight,
        "evidence__previous_weight": best.previous_weight,
        "evidence__kind_weight": best.kind_weight,
        "evidence__rank_weight": best.rank_weight,
        "evidence__heading_weight": best.heading_weight,
        "evidence__procedure_heading_weight": best.procedure_heading_weight,
    }
    return ranked_trials, search(services, prepared, DECISION_GRID, ranked, decision_objective)


def decision_objective(trial: Trial) -> float:
    return trial.decision_objective


@dataclass(frozen=True)
class StrongTrial:
    strong_evidence_score: float
    refusal: float
    false_refusal: float

    @property
    def decision_objective(self) -> float:
        return refusal_objective(self.refusal, self.false_refusal)


STRONG_GRID = tuple(round(0.25 + 0.01 * step, 2) for step in range(26))


def strong_evidence_trials(
    services: dict[str, QuestionService], run: list[ItemResult], thresholds: tuple[float, ...] = STRONG_GRID
) -> list[StrongTrial]:
    """`answerability.strong_evidence_score` judged on a full run's dev outcomes (`cuabot eval --split dev`, with the
    model), best objective first.

    What the threshold decides happens after the model's draft: evidence shown alone when no sentence of the draft
    is kept (the outcome « evidence_only », the response's `fallback`) needs its best sentence at least this similar
    to the question, else the question is refused. So the run is made at the lowest threshold tried, and each
    threshold is applied to its outcomes: a fallback whose best sentence (found again here, without the model) is less
    similar than the threshold becomes a refusal, as the service would make it. Each figure is the mean of the
    corpora's own."""
    prepared = {(p.corpus, p.item["id"]): p for p in prepare(services)}
    best: dict[tuple[str, str], float] = {}
    for result in run:
        key = (result.corpus, result.item["id"])
        if result.outcome == Outcome.EVIDENCE_ONLY and key in prepared:
            best[key] = _best_similarity(services[key[0]], prepared[key])
    scored = [r for r in run if (r.corpus, r.item["id"]) in prepared]
    return sorted(
        (_strong_trial(scored, best, threshold) for threshold in thresholds),
        key=lambda t: t.decision_objective,
        reverse=True,
    )


def _best_similarity(service: QuestionService, prepared: Prepared) -> float:
    terms = service.ranker.terms(prepared.question)
    evidence = service.evidence(prepared.question, terms, prepared.vector, prepared.passages)
    return evidence[0].dense_score if evidence else 0.0


def _strong_trial(run: list[ItemResult], best: dict[tuple[str, str], float], threshold: float) -> StrongTrial:
    figures: dict[str, dict[str, list[bool]]] = defaultdict(lambda: defaultdict(list))
    for result in run:
        key = (result.corpus, result.item["id"])
        refused = result.refused or (key in best and best[key] < threshold)
        wanted = "refused_answerable" if result.kind in ANSWERABLE else "refused_unanswerable"
        figures[result.corpus][wanted].append(refused)
    return StrongTrial(
        threshold, across_corpora(figures, "refused_unanswerable"), across_corpora(figures, "refused_answerable")
    )
