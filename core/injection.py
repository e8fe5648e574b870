"""Prompt-injection patterns, shared by ingestion (document sentences) and the bot (questions).

Questions are refused on `looks_like_injection`. Documents are read more widely (`instructs_the_assistant`):
a sentence speaking to the assistant (« Assistant, … », « Note pour l'IA : … »), in the second person
singular about answering (« quand on te demande…, réponds… »), or telling how to answer a question
(« si quelqu'un demande…, dites que… ») is no document fact. A public-service page's own imperatives and
« vous » (« Vous devez fournir… », « Remplissez le formulaire ») speak to the resident, and stay.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.text import sentence_spans

_INJECTION = re.compile(
    r"ignore[rsz]?\b.{0,40}\b(instructions?|consignes?|r[eè]gles?|prompt)"
    r"|oublie[rsz]?\b.{0,30}\b(instructions?|consignes?|r[eè]gles?|tout)"
    r"|(system|syst[eè]me)\s*prompt|prompt\s*(system|syst[eè]me)|<\|im_start\|>|\[/?INST\]"
    r"|tu es (maintenant|d[ée]sormais)|you are now|act as|joue le r[ôo]le|fais comme si"
    r"|(?-i:\bDAN\b)|jailbreak|mode (d[ée]veloppeur|d[ée]bridé)|developer mode"
    r"|(r[ée]v[èe]le|affiche|montre|r[ée]p[èe]te|donne)[sz]?[- ]?(moi)?\s+(tes|vos|ton|votre|les)\s+"
    r"(instructions?|consignes?|r[èe]gles?|prompt)",
    re.I,
)

# Within one sentence: no sentence end, no line break
_SAME = r"[^.!?\n]"
# Who a document may address when it tries to steer the answers (not an « assistante maternelle »)
_ASSISTANT = (
    r"(?:assistant(?!e)(?! (?:maternel|social|familial|parental|d'))|chat ?bot|bot|robot conversationnel"
    r"|agent conversationnel|LLM|GPT)"
)
_AGENT = rf"(?:{_ASSISTANT}|IA|I\.A\.|intelligence artificielle|AI|mod[eè]le de langage|language model)"
# Verbs of answering or telling
_TELL_FR = r"(?:r[ée]pond\w*|di[st]|dites|dire|affirm\w*|annon[cç]\w*|indiqu\w*|pr[ée]cis\w*|expliqu\w*)"
_ADDRESSEE = re.compile(
    # « Assistant, … », « Cher chatbot : », « Dear AI, »
    rf"(?:^|[\n.!?;«\"(]\s*){_ASSISTANT}\s*[,:]"
    rf"|\b(?:cher|ch[eè]re|hey|h[ée]|dear)\s+{_AGENT}\b"
    # « Note pour l'IA », « Consignes destinées au chatbot », « À l'attention du modèle de langage »
    rf"|\b(?:notes?|messages?|consignes?|instructions?|remarques?|rappels?)\s+"
    rf"(?:pour|à|au|aux|destin[ée]e?s? (?:à|au|aux))\s+(?:l'|le |la |les |un |une )?{_AGENT}\b"
    rf"|\b(?:à|a) l'attention (?:de |du |des )(?:l'|le |la )?{_AGENT}\b"
    rf"|\b(?:note|message|instructions?) (?:to|for) (?:the |any |an? )?{_AGENT}\b"
    rf"|\b(?:si|quand|lorsque) tu es (?:un|une|l'|le|la)\s*{_AGENT}\b|\bif you are an? {_AGENT}\b",
    re.I,
)
# A question asked (« si quelqu'un demande », « quand on vous interroge »), not « votre demande »
_ASKED = (
    r"(?<!votre )(?<!ta )(?<!la )(?<!une )(?<!sa )(?<!leur )(?<!cette )(?<!de )(?<!ma )(?<!notre )(?<!toute )"
    r"\b(?:demande|interroge|questionne|pose (?:la|une|des|cette) questions?)"
)
_DOCUMENT_INSTRUCTION = re.compile(
    # The assistant told, in the third person, what to say: « l'assistant doit répondre que… »
    rf"\b{_AGENT}\s+(?:doit|devra|devrait|ne doit|ne devra|est pri[ée]e? de|must|should|shall|needs to|will always)"
    rf"{_SAME}{{0,30}}\b(?:{_TELL_FR}\s+(?:que\b|qu')|ignorer|ne (?:pas|jamais) (?:mentionner|parler|dire|indiquer)"
    rf"|(?:answer|reply|respond|say|tell|ignore)\b)"
    # The second person singular about answering: « quand on te demande », « tu réponds », « réponds que »
    rf"|\b(?:on|l'on|quelqu'un|qui que ce soit|une? (?:usager|utilisat\w*|habitant\w*|personne|citoyen\w*|internaute))"
    rf"\s+(?:te |t')\s*(?:demande|interroge|questionne|pose|parle)"
    rf"|\btu\s+(?:ne\s+)?(?:dois|devras|peux)\s+(?:\w+\s+){{0,2}}?"
    rf"(?:r[ée]pondre|dire|indiquer|mentionner|parler|ignorer|pr[ée]ciser|affirmer)"
    rf"|\btu\s+(?:ne\s+)?(?:r[ée]ponds|r[ée]pondras|diras|indiques|indiqueras|mentionnes|mentionneras)\b"
    rf"|(?<!je )(?<!j')\b(?:r[ée]ponds|dis)\s+(?:toujours\s+|simplement\s+|uniquement\s+|seulement\s+)?(?:que\b|qu'|:)"
    rf"|(?:^|[\n.!?,;:]\s*)ne\s+(?:mentionne|dis|parle|cite|r[ée]v[eè]le|donne|indique|communique)\s+"
    rf"(?:jamais|pas|plus|rien|aucun)"
    # Told how to answer a question: « si quelqu'un demande …, dites que … », « à toute question sur …, répondez que »
    rf"|(?:\b(?:si|quand|lorsqu'?|d[eè]s qu'?|chaque fois qu'?)\s*{_SAME}{{0,40}}{_ASKED}|\bà toute question)"
    rf"{_SAME}{{0,160}}\b(?:r[ée]ponds|r[ée]pondez|r[ée]pondre|dis|dites|dire|affirmez?|indique|pr[ée]cise|explique)"
    rf"\s+(?:qu'|que\b)"
    # English
    rf"|\b(?:when|if|whenever)\s+(?:you are|you're|you get|someone|somebody|anyone|a user|the user|people|asked)"
    rf"{_SAME}{{0,120}}\b(?:answer|reply|respond|say|tell|claim|state)\s+(?:them\s+|the user\s+|users\s+)?that\b"
    rf"|(?:^|[\n.!?,;:]\s*)(?:please\s+|always\s+|just\s+)?"
    rf"(?:answer|reply|respond|say|tell (?:them|the user|users|people))\s+(?:only\s+)?that\b"
    rf"|\b(?:do not|don't|never)\s+(?:mention|reveal|disclose|talk about)\b"
    rf"|\byou (?:must|should|shall|will|have to|need to)\s+(?:always\s+|only\s+)?"
    rf"(?:answer|reply|respond|say|tell (?:them|the user))\b",
    re.I,
)
_SENTENCE_END = re.compile(r"[.!?…](?=\s|$)|\n")


@dataclass(frozen=True)
class IgnoredInstruction:
    """A sentence of a document kept out of the index because it instructs the assistant; shown to staff."""

    text: str
    start: int  # its offset in the unit it was read from


def looks_like_injection(text: str) -> bool:
    """Instructions aimed at the assistant (change role, reveal or ignore its rules)."""
    return bool(_INJECTION.search(text))


def instructs_the_assistant(text: str) -> bool:
    """A document's sentence that speaks to the assistant or tells it how to answer (indirect injection)."""
    return looks_like_injection(text) or bool(_ADDRESSEE.search(text) or _DOCUMENT_INSTRUCTION.search(text))


def strip_instructions(text: str) -> str:
    """A document's text without the sentences that try to instruct the assistant (see `split_instructions`)."""
    return split_instructions(text)[0]


def split_instructions(text: str) -> tuple[str, list[IgnoredInstruction]]:
    """A document's text without the sentences that instruct the assistant, and those sentences.

    Run once at ingestion, so neither the model, the grounding check nor the resident ever reads them;
    the other sentences and line breaks stay as they were. A sentence is removed whole, from the previous
    sentence end to its own (spaCy may cut a long one at a comma); a line that opens by addressing the
    assistant (« Note pour l'IA : … ») is removed whole, and so is what a removed sentence announces
    (« réponds ceci : »), up to a blank line.
    """
    if not instructs_the_assistant(text):
        return text, []
    kept, ignored, cursor = [], [], 0
    for start, end in sentence_spans(text):
        if start < cursor or not instructs_the_assistant(text[start:end]):
            continue
        start, end = _whole_sentence(text, start, end, floor=cursor)
        kept.append(text[cursor:start])
        ignored.append(IgnoredInstruction(" ".join(text[start:end].split()), start))
        cursor = _after_whitespace(text, end, whole_line=start == 0 or text[start - 1] == "\n")
    kept.append(text[cursor:])
    return "".join(kept), ignored


def _whole_sentence(text: str, start: int, end: int, floor: int) -> tuple[int, int]:
    """Widen a sentence to the previous sentence end or line break (not before `floor`) and to its own end, its
    line's or its block's."""
    before = max(text.rfind("\n", 0, start), *(text.rfind(mark, 0, start) for mark in (". ", "! ", "? ")))
    start = max(floor, 0 if before < 0 else before + (1 if text[before] == "\n" else 2))
    while start < len(text) and text[start] in " \t":
        start += 1
    match = _SENTENCE_END.search(text, end - 1 if end and text[end - 1] in ".!?…" else end)
    end = len(text) if match is None else (match.end() if match.group() != "\n" else match.start())
    if text[start:end].rstrip().endswith(":"):  # what it announces, up to a blank line
        paragraph = text.find("\n\n", end)
        end = len(text) if paragraph < 0 else paragraph
    elif (start == 0 or text[start - 1] == "\n") and _ADDRESSEE.search(text[start:end]):  # its whole line
        line = text.find("\n", end)
        end = len(text) if line < 0 else line
    return start, end


def _after_whitespace(text: str, position: int, whole_line: bool) -> int:
    """The end of the blanks after a removed sentence (its line break too when it filled its line)."""
    blanks = " \t\n" if whole_line else " \t"
    while position < len(text) and text[position] in blanks:
        position += 1
    return position
