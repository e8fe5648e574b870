"""The words residents read: an Answer composed as French text, for the API, the helpdesk and the CLI.

The pipeline returns a structured Answer; this is the one place it becomes prose.
"""

from __future__ import annotations

from core.types import Answer, Evidence, Outcome

REFUSAL_MESSAGE = (
    "Je n'ai pas trouvé la réponse à cette question dans les documents de la Communauté Urbaine "
    "d'Arras dont je dispose, et je préfère ne rien inventer. Pour être aidé, adressez-vous à "
    "l'accueil de votre mairie, à un espace France Services ou à un conseiller numérique : "
    "une personne pourra vous répondre."
)
INJECTION_MESSAGE = (
    "Je réponds uniquement aux questions sur les documents de la Communauté Urbaine d'Arras, "
    "et je ne peux pas changer de rôle ni dévoiler mon fonctionnement. Pour toute autre demande, "
    "adressez-vous à votre mairie, à un espace France Services ou à un conseiller numérique."
)
EVIDENCE_LEAD = "Voici ce que disent les documents :"
EVIDENCE_PREFIX = "Extrait de la source :"


def quote(evidence: Evidence) -> str:
    return f"« {' '.join(evidence.sentence.context.split())} » [{evidence.number}]"


def answer_text(answer: Answer) -> str:
    """The whole answer as a resident reads it: sentences then quotes, the evidence alone, or the refusal."""
    if answer.outcome is Outcome.REFUSE:
        return INJECTION_MESSAGE if answer.injection else REFUSAL_MESSAGE
    quotes = "\n".join(quote(e) for e in answer.cited)
    if answer.outcome is Outcome.EVIDENCE_ONLY:
        return f"{EVIDENCE_LEAD}\n{quotes}"
    body = " ".join(f"{s.text.rstrip(' .')} {''.join(f'[{n}]' for n in s.citations)}." for s in answer.sentences)
    return f"{body}\n\n{EVIDENCE_PREFIX}\n{quotes}"
