"""Probe: a calibrated classifier for answerability against today's decision rule.

Every question of every corpus is retrieved once (no model). The signals the decision already computes (the best
sentence's similarity and score, the best of the three shown, the passage's scores, the question's weighted word
coverage, whether a fact of the asked kind and the question's own numbers are there) feed a logistic regression
(scikit-learn, installed with sentence-transformers) trained on the dev splits, each corpus weighing the same. Its
threshold is chosen on dev with `cuabot calibrate`'s objective (refusal - 2 x false refusal, averaged over the
corpora); the held-out splits only read it. Measured once, not chosen (2026-12-01, docs/evaluation.md
« Two ways of judging relevance and answerability »):

    .venv/bin/python scripts/probe_classifier.py   # about two minutes once the corpora are indexed
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from bot.answer.answerability import decide
from bot.answer.service import QuestionService
from core.settings import get_settings
from core.types import Outcome
from eval.calibrate import Prepared, corpus_services, prepare
from eval.metrics import ANSWERABLE

SIGNALS = ("dense", "best_dense_shown", "score", "lexical", "coverage", "kind", "numbers", "passage", "passage_dense")
CHOICES = {"every signal": SIGNALS, "similarity and coverage": ("dense", "coverage")}


def signals(p: Prepared, service: QuestionService) -> tuple[dict[str, float], bool] | None:
    """The question's signals, and whether today's rule refuses it; None without any evidence (always refused)."""
    terms = service.ranker.terms(p.question)
    evidence = service.evidence(p.question, terms, p.vector, p.passages)
    if not evidence:
        return None
    shown = evidence[: service.settings.evidence.shown]
    numbers = frozenset().union(*(e.sentence.numbers for e in shown))
    kind = not p.question.kind or any(terms.answered_kind(e.sentence) for e in shown)
    values = {
        "dense": evidence[0].dense_score,
        "best_dense_shown": max(e.dense_score for e in shown),
        "score": evidence[0].score,
        "lexical": evidence[0].lexical_score,
        "coverage": terms.coverage(frozenset().union(*(e.sentence.lemmas for e in shown))),
        "kind": float(kind),
        "numbers": float(not p.question.stated_numbers - numbers),
        "passage": p.passages[0].score,
        "passage_dense": p.passages[0].dense_score,
    }
    return values, decide(p.question, terms, evidence, service.settings).outcome is Outcome.REFUSE


def rates(rows: list[dict[str, Any]], refused: np.ndarray) -> dict[str, tuple[float, float]]:
    """Per corpus: the refusal of unanswerable questions and the false refusal of answerable ones."""
    out = {}
    for corpus in sorted({r["corpus"] for r in rows}):
        mine = np.array([r["corpus"] == corpus for r in rows])
        answerable = np.array([r["answerable"] for r in rows])
        out[corpus] = (float(refused[mine & ~answerable].mean()), float(refused[mine & answerable].mean()))
    return out


def objective(figures: dict[str, tuple[float, float]]) -> float:
    return float(np.mean([refusal - 2 * false_refusal for refusal, false_refusal in figures.values()]))


def main() -> None:
    services = corpus_services(get_settings().changed(generation__backend="mock"), lambda c, e: print(f"{c} : {e}"))
    rows = []
    for split in ("dev", "heldout"):
        for p in prepare(services, split):
            read = signals(p, services[p.corpus])
            if read is not None:
                values, refused = read
                answerable = p.item["kind"] in ANSWERABLE
                rows.append({"corpus": p.corpus, "split": split, "answerable": answerable, **values, "rule": refused})
    dev = [r for r in rows if r["split"] == "dev"]
    held = [r for r in rows if r["split"] == "heldout"]
    per_corpus = {c: sum(r["corpus"] == c for r in dev) for c in {r["corpus"] for r in dev}}
    weights = np.array([1 / per_corpus[r["corpus"]] for r in dev])
    for choice, names in CHOICES.items():
        compare(choice, names, dev, held, weights)


def compare(
    choice: str, names: tuple[str, ...], dev: list[dict[str, Any]], held: list[dict[str, Any]], weights: np.ndarray
) -> None:
    """Train on dev with `names`, choose the threshold on dev, print both splits beside today's rule."""
    model = make_pipeline(StandardScaler(), LogisticRegression())
    model.fit(table(dev, names), [r["answerable"] for r in dev], logisticregression__sample_weight=weights)
    dev_share = model.predict_proba(table(dev, names))[:, 1]
    threshold = max(np.arange(0.05, 0.95, 0.01), key=lambda t: objective(rates(dev, dev_share < t)))
    for split, part in (("dev", dev), ("held-out", held)):
        rule = rates(part, np.array([r["rule"] for r in part]))
        classifier = rates(part, model.predict_proba(table(part, names))[:, 1] < threshold)
        print(f"{choice} · {split} · threshold {threshold:.2f}")
        for corpus in rule:
            (r_ref, r_false), (c_ref, c_false) = rule[corpus], classifier[corpus]
            print(
                f"  {corpus:10s} refusal / false refusal: rule {r_ref:.2f} / {r_false:.2f}, "
                f"classifier {c_ref:.2f} / {c_false:.2f}"
            )
        print(f"  objective: rule {objective(rule):.3f}, classifier {objective(classifier):.3f}")


def table(rows: list[dict[str, Any]], names: tuple[str, ...]) -> np.ndarray:
    return np.array([[r[n] for n in names] for r in rows])


if __name__ == "__main__":
    main()
