"""The words people read: the authority named, an Answer composed as French text, an indexing's counts and pace.

The service returns a structured Answer; this is the one place it becomes prose. Every text that
names the authority or its human channels is composed here from `settings.authority`
(core/settings.py), so that another authority's deployment never reads the shipped default's name.
"""

from __future__ import annotations

import math
import re

from core.authority import of_authority, the_authority
from core.settings import Authority
from core.text import fold
from core.types import Answer, AnswerSentence, Chunk, Evidence, Outcome
from ingest.estimate import Estimate

# --- The authority's channels ---------------------------------------------------------------


def _to(channel: str) -> str:
    """« à l'accueil de votre mairie », « au guichet unique », « aux services sociaux »."""
    channel = channel.strip()
    lowered = fold(channel)
    if lowered.startswith("le "):
        return f"au {channel[3:]}"
    if lowered.startswith("les "):
        return f"aux {channel[4:]}"
    return f"à {channel}"


def _either(items: list[str]) -> str:
    """« a », « a ou b », « a, b ou c »."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} ou {items[-1]}"


def channels(authority: Authority, to: bool = False) -> str:
    """The human channels in order: « l'accueil de votre mairie, un espace France Services ou un conseiller
    numérique », or with `to` « à l'accueil de votre mairie, à un espace France Services ou à … »."""
    names = [c.strip() for c in authority.channels if c.strip()] or Authority().channels
    return _either([_to(c) for c in names] if to else names)


def contact_sentence(authority: Authority) -> str:
    """« Vous pouvez aussi appeler … au … ou vous rendre à son accueil, … (horaires : …). », or nothing
    when the authority has no phone, address or hours set."""
    phone, address, hours = (
        value.strip().rstrip(".") for value in (authority.phone, authority.address, authority.hours)
    )
    ways = []
    if phone:
        ways.append(f"appeler {the_authority(authority)} au {phone}")
    if address:
        ways.append(
            f"vous rendre à son accueil, {address}"
            if phone
            else f"vous rendre à l'accueil {of_authority(authority)}, {address}"
        )
    if ways:
        when = f" (horaires : {hours})" if hours else ""
        return f"Vous pouvez aussi {' ou '.join(ways)}{when}."
    return f"Horaires d'accueil {of_authority(authority)} : {hours}." if hours else ""


def _with_contact(text: str, authority: Authority) -> str:
    contact = contact_sentence(authority)
    return f"{text} {contact}" if contact else text


def refusal_message(authority: Authority) -> str:
    """The answer to a question the documents do not answer: the human channels, and how to reach the authority."""
    return _with_contact(
        f"Je n'ai pas trouvé la réponse à cette question dans les documents {of_authority(authority)} dont je "
        f"dispose, et je préfère ne rien inventer. Pour être aidé, adressez-vous {channels(authority, to=True)} : "
        "une personne pourra vous répondre.",
        authority,
    )


def injection_message(authority: Authority) -> str:
    """The answer to a question that tries to change the assistant's rules."""
    return _with_contact(
        f"Je réponds uniquement aux questions sur les documents {of_authority(authority)}, et je ne peux pas changer "
        "de rôle ni dévoiler mon fonctionnement. Pour toute autre demande, adressez-vous "
        f"{channels(authority, to=True)}.",
        authority,
    )


# The 503 of a question that cannot be searched: the Chroma server holding the index does not answer
STORE_UNAVAILABLE_MESSAGE = (
    "La recherche dans les documents est momentanément indisponible : réessayez dans quelques instants."
)


def stream_error_message(authority: Authority) -> str:
    """When a stream fails after it started (no status code can be sent any more)."""
    first = next((c for c in authority.channels if c.strip()), "")
    return "Une erreur est survenue. Réessayez dans un instant" + (f" ou adressez-vous {_to(first)}." if first else ".")


def assistant_title(authority: Authority) -> str:
    """The widget's heading: « Assistant de la Communauté Urbaine d'Arras »."""
    return f"Assistant {of_authority(authority)}"


def widget_intro(authority: Authority) -> str:
    """The line under the widget's heading."""
    return (
        f"Réponses tirées des documents publics {of_authority(authority, short=True)}, avec leurs sources. "
        "N'écrivez pas d'informations personnelles (e-mail, téléphone, numéro fiscal)."
    )


def api_title(authority: Authority) -> str:
    """The OpenAPI title, and the staff page's: « Assistant documentaire de la CUA »."""
    return f"Assistant documentaire {of_authority(authority, short=True)}"


def api_description(authority: Authority) -> str:
    return f"Réponses sourcées à partir des documents {of_authority(authority)}."


def helpdesk_title(authority: Authority) -> str:
    return f"Assistant {authority.short_name.strip()} — espace conseillers"


SHIPPED_AUTHORITY = Authority()
# The texts of the shipped default (the CUA), for tests and documentation; the surfaces compose theirs
# from `settings.authority`.
REFUSAL_MESSAGE = refusal_message(SHIPPED_AUTHORITY)
INJECTION_MESSAGE = injection_message(SHIPPED_AUTHORITY)

# --- An answer as text -----------------------------------------------------------------------

EVIDENCE_LEAD = "Voici ce que disent les documents :"
EVIDENCE_PREFIX = "Extrait de la source :"
SOURCES_HEADING = "Sources :"
# A model sentence repeats its quote when each holds this share of the other's words, in order
REPEAT_SHARE = 0.9
# ... or when it is a run of at least this many of the quote's words (a shorter run is an answer drawn from it)
REPEAT_MIN_RUN = 4
_WORD = re.compile(r"\w+")


def _words(text: str) -> list[str]:
    return _WORD.findall(fold(text))


def _common_in_order(a: list[str], b: list[str]) -> int:
    """Length of the longest common subsequence of two word lists."""
    previous = [0] * (len(b) + 1)
    for word in a:
        current = [0]
        for j, other in enumerate(b):
            current.append(previous[j] + 1 if word == other else max(previous[j + 1], current[j]))
        previous = current
    return previous[-1]


def _is_run_of(words: list[str], quote: list[str]) -> bool:
    n = len(words)
    return any(quote[i : i + n] == words for i in range(len(quote) - n + 1))


def repeats_quote(sentence: str, quote: str) -> bool:
    """Whether a model sentence is (nearly) a verbatim copy of a quote, compared on folded words.

    Either each holds at least 90 % of the other's words in order (the quote restated, a word changed
    or dropped), or the sentence is a run of at least four of the quote's words (a part copied out).
    A sentence that adds words of its own is not a copy: it says more than its quote.
    """
    said, quoted = _words(sentence), _words(quote)
    if not said or not quoted:
        return False
    if len(said) >= REPEAT_MIN_RUN and _is_run_of(said, quoted):
        return True
    common = _common_in_order(said, quoted)
    return common >= REPEAT_SHARE * len(quoted) and common >= REPEAT_SHARE * len(said)


def quote(evidence: Evidence) -> str:
    return f"« {' '.join(evidence.sentence.context.split())} » [{evidence.number}]"


def phrased(sentence: AnswerSentence, evidence: list[Evidence]) -> str | None:
    """A verified model sentence as the answer's text writes it, with its [n]; None when it only repeats a quote it
    cites (`answer_text`)."""
    contexts = {e.number: e.sentence.context for e in evidence}
    if any(repeats_quote(sentence.text, contexts.get(n, "")) for n in sentence.citations):
        return None
    return f"{sentence.text.rstrip(' .')} {''.join(f'[{n}]' for n in sentence.citations)}."


def answer_text(answer: Answer, authority: Authority = SHIPPED_AUTHORITY) -> str:
    """The whole answer as a resident reads it: sentences then quotes, the evidence alone, or the refusal.

    A model sentence that only repeats a quote it cites is left out: the quote, below with its number
    (and its source in `answer_with_sources`), says it once, in the document's own words.
    """
    if answer.outcome is Outcome.REFUSE:
        return injection_message(authority) if answer.injection else refusal_message(authority)
    quotes = "\n".join(quote(e) for e in answer.cited)
    if answer.cases:
        quotes = f"{quotes}\n\n{cases_note(answer.cases)}"
    if answer.outcome is Outcome.EVIDENCE_ONLY:
        return f"{EVIDENCE_LEAD}\n{quotes}"
    body = " ".join(text for sentence in answer.sentences if (text := phrased(sentence, answer.evidence)))
    return f"{body}\n\n{EVIDENCE_PREFIX}\n{quotes}" if body else f"{EVIDENCE_PREFIX}\n{quotes}"


def cases_note(cases: tuple[str, ...]) -> str:
    """Which case the answer is for, and the others of the page: the resident checks which is theirs."""
    others = " ; ".join(f"« {case} »" for case in cases[1:])
    return (
        f"Cette réponse vaut pour le cas « {cases[0]} ». La démarche change selon votre situation ({others}) : "
        "précisez la vôtre si ce n'est pas celle-ci."
    )


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


def answer_with_sources(answer: Answer, authority: Authority = SHIPPED_AUTHORITY) -> str:
    """The answer's text, then « Sources : » and one numbered line per passage it quotes (to paste anywhere)."""
    text = answer_text(answer, authority)
    if not answer.cited:
        return text
    return "\n".join([text, "", SOURCES_HEADING, *(source_line(e) for e in answer.cited)])


# --- Indexing: counts, pace, durations -------------------------------------------------------


def number(n: int) -> str:
    """Thousands apart: "965", "1 234" (narrow no-break space between thousands)."""
    return f"{n:,}".replace(",", "\u202f")


def count(n: int, *words: str) -> str:
    """A count and its words: "0 passage", "1 passage calculé", "965 passages calculés" (French plural from 2)."""
    return " ".join([number(n), *(word + ("s" if n >= 2 else "") for word in words)])


def passages_computed(computed: int, reused: int) -> str:
    """What an indexing computed: "12 passages calculés", and the passages whose vectors the index held for the same
    text: "0 passage calculé (168 autres repris de l'index, même texte)"."""
    text = count(computed, "passage", "calculé")
    return text + (f" ({count(reused, 'autre')} repris de l'index, même texte)" if reused else "")


def rate_text(passages_per_s: float) -> str:
    """A pace: "3,1 passages/s", "0,48 passage/s" (French plural from 2)."""
    digits = 1 if passages_per_s >= 1 else 2
    number = f"{passages_per_s:.{digits}f}".replace(".", ",")
    return f"{number} passage{'s' if passages_per_s >= 2 else ''}/s"


def about(seconds: float) -> str:
    """A duration, rounded up: "moins d'une minute", "environ 1 minute", "environ 12 minutes", "environ 1 h 05"."""
    if seconds < 60:
        return "moins d'une minute"
    minutes = math.ceil(seconds / 60)
    if minutes < 60:
        return f"environ {count(minutes, 'minute')}"
    return f"environ {minutes // 60} h {minutes % 60:02d}"


def time_left(seconds: float) -> str:
    """Time left: "moins d'une minute restante", "environ 4 minutes restantes"."""
    return about(seconds) + (" restantes" if seconds > 60 else " restante")


def estimate_message(estimate: Estimate) -> str:
    """« L'indexation de ce document prendra environ 12 minutes (965 passages environ, à 1,3 passage/s). »"""
    if not estimate.documents:
        return "Aucun document à indexer."
    what = "ce document" if estimate.documents == 1 else f"ces {estimate.documents} documents"
    text = (
        f"L'indexation de {what} prendra {about(estimate.seconds)} "
        f"({count(estimate.passages, 'passage')} environ, à {rate_text(estimate.passages_per_s)})."
    )
    if not estimate.measured:
        text += " Estimation prudente : la vitesse de cette installation sera mesurée à la prochaine indexation."
    return text
