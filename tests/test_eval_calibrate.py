"""The threshold search of `cuabot calibrate` on the shipped corpus (e5 index)."""

from pathlib import Path

from bot.answer.generation import MockGenerator
from eval.calibrate import prepare, search
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
