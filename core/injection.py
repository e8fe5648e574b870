"""Prompt-injection patterns, shared by ingestion (document sentences) and the bot (questions)."""

from __future__ import annotations

import re

from core.text import sentence_spans

_INJECTION = re.compile(
    r"ignore[rsz]?\b.{0,40}\b(instructions?|consignes?|r[eè]gles?|prompt)"
    r"|oublie[rsz]?\b.{0,30}\b(instructions?|consignes?|r[eè]gles?|tout)"
    r"|(system|syst[eè]me)\s*prompt|prompt\s*(system|syst[eè]me)|<\|im_start\|>|\[/?INST\]"
    r"|tu es (maintenant|d[ée]sormais)|you are now|act as|joue le r[ôo]le|fais comme si"
    r"|\bDAN\b|jailbreak|mode (d[ée]veloppeur|d[ée]bridé)|developer mode"
    r"|(r[ée]v[èe]le|affiche|montre|r[ée]p[èe]te|donne)[sz]?[- ]?(moi)?\s+(tes|vos|ton|votre|les)\s+"
    r"(instructions?|consignes?|r[èe]gles?|prompt)",
    re.I,
)


def looks_like_injection(text: str) -> bool:
    """Instructions aimed at the assistant (change role, reveal or ignore its rules)."""
    return bool(_INJECTION.search(text))


def strip_instructions(text: str) -> str:
    """A document's text without the sentences that try to instruct the assistant (indirect injection).

    Run once at ingestion, so neither the model, the grounding check nor the resident ever
    reads them; the other sentences and line breaks stay as they were.
    """
    if not looks_like_injection(text):
        return text
    kept, cursor = [], 0
    for start, end in sentence_spans(text):
        if looks_like_injection(text[start:end]):
            kept.append(text[cursor:start])
            cursor = _after_whitespace(text, end, whole_line=start == 0 or text[start - 1] == "\n")
    kept.append(text[cursor:])
    return "".join(kept)


def _after_whitespace(text: str, position: int, whole_line: bool) -> int:
    """The end of the blanks after a removed sentence (its line break too when it filled its line)."""
    blanks = " \t\n" if whole_line else " \t"
    while position < len(text) and text[position] in blanks:
        position += 1
    return position
