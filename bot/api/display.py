"""The words people read: an Answer composed as French text, for the API, the helpdesk and the CLI.

The service returns a structured Answer; this is the one place it becomes prose.
"""

from __future__ import annotations

from core.types import Answer, Chunk, Evidence, Outcome

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
SOURCES_HEADING = "Sources :"
# When a stream fails after it started (no status code can be sent any more)
STREAM_ERROR_MESSAGE = "Une erreur est survenue. Réessayez dans un instant ou adressez-vous à votre mairie."


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


def location(chunk: Chunk) -> str:
    """« p. 12 », the section's name, or nothing."""
    if chunk.page is not None:
        return f"p. {chunk.page}"
    return chunk.section or ""


def source_line(evidence: Evidence) -> str:
    """« [1] Titre, p. 12 » or « [2] Titre, « Section » »: one footnote."""
    chunk = evidence.chunk
    where = f", p. {chunk.page}" if chunk.page is not None else f", « {chunk.section} »" if chunk.section else ""
    return f"[{evidence.number}] {chunk.title}{where}"


def answer_with_sources(answer: Answer) -> str:
    """The answer's text, then « Sources : » and one numbered line per passage it quotes (to paste anywhere)."""
    text = answer_text(answer)
    if not answer.cited:
        return text
    return "\n".join([text, "", SOURCES_HEADING, *(source_line(e) for e in answer.cited)])
