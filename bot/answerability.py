"""The answerability decision, taken from the evidence before the model writes anything.

- refuse: no evidence close enough to the question, or evidence about the topic that does
  not hold the asked fact (a near-miss: the question's own numbers or most of its rare words
  are missing from the best sentences);
- otherwise answer: the model phrases the evidence, and if its draft fails verification or
  the model is busy or late, the pipeline downgrades to evidence only. When the model reads
  the evidence and finds no answer in it, the evidence is shown alone only if it is strong
  (`Decision.strong`); otherwise the question is refused.
Thresholds live in settings and are calibrated on the dev split only.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.evidence import QuestionTerms
from core.settings import Settings
from core.text import Analysis
from core.types import Evidence, Outcome


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    reason: str
    coverage: float = 0.0
    strong: bool = False


def decide(question: Analysis, terms: QuestionTerms, evidence: list[Evidence], settings: Settings) -> Decision:
    if not evidence:
        return Decision(Outcome.REFUSE, "aucun passage trouvé")
    best = evidence[0]
    if best.dense_score < settings.min_evidence_score:
        return Decision(
            Outcome.REFUSE, f"preuve trop faible (similarité {best.dense_score:.2f} < {settings.min_evidence_score})"
        )
    shown = evidence[: settings.evidence_shown]
    numbers = frozenset().union(*(e.sentence.numbers for e in shown))
    if missing := question.numbers - numbers:
        return Decision(Outcome.REFUSE, f"nombre de la question absent des preuves : {', '.join(sorted(missing))}")
    coverage = terms.coverage(frozenset().union(*(e.sentence.lemmas for e in shown)))
    if coverage < settings.min_question_coverage:
        return Decision(
            Outcome.REFUSE,
            f"les documents parlent du sujet mais pas de ce qui est demandé "
            f"(mots de la question couverts : {coverage:.0%} < {settings.min_question_coverage:.0%})",
            coverage,
        )
    strong = best.dense_score >= settings.strong_evidence_score
    return Decision(Outcome.ANSWER, f"preuve suffisante (couverture {coverage:.0%})", coverage, strong)
