"""Prompt-injection patterns, shared by ingestion (document sentences) and the bot (questions)."""

from __future__ import annotations

import re

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
# A sentence or a line, with the whitespace that follows it.
_SENTENCE_OR_LINE = re.compile(r".*?(?:[.!?…](?:\s+|$)|\n+|$)", re.S)


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
    pieces = [m.group(0) for m in _SENTENCE_OR_LINE.finditer(text) if m.group(0)]
    return "".join(p for p in pieces if not looks_like_injection(p))
