"""The answerability decision: taken from the evidence before the model writes, revised after its draft.

Before the draft:
- refuse: no evidence close enough to the question, or evidence about the topic that does
  not hold the asked fact (a near-miss: the question's own numbers or most of its rare words
  are missing from the best sentences);
- otherwise answer: the model phrases the evidence.
After the draft (`after_draft`):
- the model reads the evidence and finds no answer in it: the question is refused;
- no sentence of the draft passes verification: the evidence alone if strong and the model, asked apart, says
  that it answers the question; else a refusal.
When the model is busy, late or fails, likewise: weak evidence is never shown as an answer.
Thresholds live in settings and are calibrated on the dev split only.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.answer.evidence import QuestionTerms
from bot.answer.verification import Verdict
from core.settings import Settings
from core.text import AnswerKind
from core.types import Evidence, Outcome, Question

# Why a question asking for a figure, a phone number or opening hours (`AnswerKind.must_be_shown`) is refused when its
# evidence holds none
REASONS_NOT_SHOWN = {
    AnswerKind.NUMBER: "la question demande un nombre ou une date, les preuves n'en donnent aucun",
    AnswerKind.DURATION: "la question demande une durée ou un délai, les preuves n'en donnent aucun",
    AnswerKind.COST: "la question demande un prix, les preuves n'en donnent aucun et ne disent pas que c'est gratuit",
    AnswerKind.YEAR: "la question demande une année, les preuves n'en donnent aucune",
    AnswerKind.PHONE: "la question demande un numéro de téléphone, les preuves n'en donnent aucun",
    AnswerKind.HOURS: "la question demande des horaires, les preuves n'en donnent aucun",
}


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    reason: str
    strong: bool = False


def decide(question: Question, terms: QuestionTerms, evidence: list[Evidence], settings: Settings) -> Decision:
    if not evidence:
        return Decision(Outcome.REFUSE, "aucun passage trouvé")
    best = evidence[0]
    if best.dense_score < settings.answerability.min_evidence_score:
        return Decision(
            Outcome.REFUSE,
            f"preuve trop faible (similarité {best.dense_score:.2f} < {settings.answerability.min_evidence_score})",
        )
    shown = evidence[: settings.evidence.shown]
    numbers = frozenset().union(*(e.sentence.numbers for e in shown))
    if missing := question.stated_numbers - numbers:
        return Decision(Outcome.REFUSE, f"nombre de la question absent des preuves : {', '.join(sorted(missing))}")
    if settings.answerability.require_stated_names and (missing := _names_not_shown(question, shown)):
        return Decision(Outcome.REFUSE, f"nom de la question absent des preuves : {', '.join(sorted(missing))}")
    kind = question.kind
    if kind is not None and kind.must_be_shown and not any(terms.answered_kind(e.sentence) for e in shown):
        return Decision(Outcome.REFUSE, REASONS_NOT_SHOWN[kind])
    coverage = terms.coverage(frozenset().union(*(e.sentence.source.lemmas for e in shown)))
    strong = best.dense_score >= settings.answerability.strong_evidence_score
    # A reworded question ("j'ai perdu…" for "en cas de perte") shares few words with its answer: word
    # coverage refuses only evidence that is not close in meaning either.
    reworded = best.dense_score >= settings.answerability.reworded_evidence_score
    if coverage < settings.answerability.min_question_coverage and not reworded:
        return Decision(
            Outcome.REFUSE,
            f"les documents parlent du sujet mais pas de ce qui est demandé "
            f"(mots de la question couverts : {coverage:.0%} < {settings.answerability.min_question_coverage:.0%})",
        )
    return Decision(Outcome.ANSWER, f"preuve suffisante (couverture {coverage:.0%})", strong)


def _names_not_shown(question: Question, shown: list[Evidence]) -> frozenset[str]:
    """The names that a question asking for one fact (a figure, a name, a place, a phone number) states where it
    asks (`Question.stated_names`: not an earlier turn, nor the asker's own place), and that no shown sentence, nor
    its headings and title, holds, alone or as a part of a compound name (« Pas-de-Calais » in « Nord-Pas-de-Calais »).
    A procedure or a yes/no question may name a place in passing (« on m'a volé mon permis à Arras, c'est quoi les
    étapes ? »): the steps are the same everywhere."""
    kind = question.kind
    if kind is None or not (kind.is_fact or kind.must_be_shown):
        return frozenset()
    held = "".join(f"-{name}-" for e in shown for name in e.sentence.source.names)
    return frozenset(name for name in question.stated_names if f"-{name}-" not in held)


def without_phrasing(strong: bool, why: str, yes: float | None = None, min_yes: float = 0.0) -> Decision:
    """No verified sentence of the model (it found nothing, wrote what the evidence does not bear out, was
    busy, late or failed): strong evidence is shown alone, weak evidence is refused, never shown as an answer.

    `yes`: the model's « oui » share when asked apart whether the evidence answers the question at all (None:
    not asked, or it cannot tell). Under `min_yes`, strong evidence is refused too: close evidence about the
    topic that does not answer is the unanswerable question's usual shape."""
    if strong and yes is not None and yes < min_yes:
        return Decision(
            Outcome.REFUSE, f"{why}, preuve proche mais le modèle juge qu'elle ne répond pas (oui {yes:.0%})"
        )
    if strong:
        judged = f" (le modèle juge qu'elle répond : oui {yes:.0%})" if yes is not None else ""
        return Decision(Outcome.EVIDENCE_ONLY, f"{why}, preuve forte montrée seule{judged}", strong)
    return Decision(Outcome.REFUSE, f"{why}, preuve trop faible pour la montrer seule", strong)


def not_found() -> Decision:
    """The model read the evidence and found no answer in it: the question is refused, however close the
    evidence (an unanswerable near-miss is close by nature, and its quotes read as an answer)."""
    return Decision(Outcome.REFUSE, "le modèle ne trouve pas la réponse dans les phrases")


def after_verification(verdict: Verdict, before: Decision, yes: float | None = None, min_yes: float = 0.0) -> Decision:
    """The decision once the draft is verified: an answer needs at least one verified sentence (`yes`, `min_yes`:
    see `without_phrasing`)."""
    if verdict.kept:
        return before
    reason = verdict.dropped[0].reason if verdict.dropped else "réponse vide"
    return without_phrasing(before.strong, f"phrase du modèle non vérifiée ({reason})", yes, min_yes)
