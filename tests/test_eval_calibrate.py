"""The threshold searches of `cuabot calibrate` on the shipped corpus (e5 index)."""

from pathlib import Path

from bot.answer.generation import MockGenerator
from eval.calibrate import prepare, search, strong_evidence_trials
from eval.metrics import ANSWERABLE, ItemResult
from tests.fixtures.factories import make_service, make_settings


def test_search_leaves_out_thresholds_the_settings_refuse(e5_corpus_index: Path) -> None:
    """A minimum evidence score above the strong-evidence one (not searched) is no candidate, never a crash."""
    settings = make_settings(
        embedding__backend="e5",
        index_dir=e5_corpus_index,
        answerability__min_evidence_score=0.25,
        answerability__strong_evidence_score=0.3,
    )
    services = {"cua": make_service(settings, MockGenerator())}
    trials = search(
        services,
        prepare(services),
        {"answerability__min_evidence_score": (0.2, 0.25, 0.3, 0.35)},
        {},
        lambda t: t.decision_objective,
    )
    assert sorted(t.min_evidence_score for t in trials) == [0.2, 0.25, 0.3]


def test_the_strong_evidence_threshold_is_judged_on_a_runs_evidence_shown_alone(e5_corpus_index: Path) -> None:
    """A near miss shown alone (a fallback) in the run counts as refused under a threshold above its best sentence's
    similarity, and as shown under one below; answered questions are untouched."""
    settings = make_settings(embedding__backend="e5", index_dir=e5_corpus_index)
    services = {"cua": make_service(settings, MockGenerator())}
    items = [p.item for p in prepare(services)]
    shown_alone = next(i for i in items if i["kind"] not in ANSWERABLE)
    run = [
        ItemResult(item=i, outcome="answer")
        if i["kind"] in ANSWERABLE
        else ItemResult(item=i, outcome="evidence_only", fallback=True)
        if i is shown_alone
        else ItemResult(item=i, outcome="refuse", refused=True)
        for i in items
    ]
    low, high = sorted(strong_evidence_trials(services, run, (0.0, 1.0)), key=lambda t: t.strong_evidence_score)
    unanswerable = sum(i["kind"] not in ANSWERABLE for i in items)
    assert high.refusal == 1.0 and low.refusal == (unanswerable - 1) / unanswerable
    assert low.false_refusal == high.false_refusal == 0.0
    assert strong_evidence_trials(services, run, (0.0, 1.0))[0] == high  # best objective first
