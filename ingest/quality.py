"""Text quality of an extracted document: words glued together by a bad PDF text layer.

A PDF whose text layer lacks spaces ("Ilexisteplusieursmanièresd'enregistrer") gives long
runs of letters that no search can match; such a document is better skipped and reported.
"""

from __future__ import annotations

_OVERLONG = 25
_ADDRESS_MARKS = ("/", "\\", "@", "www.")


def overlong_token_share(text: str) -> float:
    """Share of whitespace-separated tokens longer than 25 characters, URLs and paths left out."""
    tokens = [t for t in text.split() if not any(mark in t for mark in _ADDRESS_MARKS)]
    if not tokens:
        return 0.0
    return sum(len(t) > _OVERLONG for t in tokens) / len(tokens)


def looks_garbled(share: float, threshold: float) -> bool:
    """True when too many tokens are over-long for the text to be searchable."""
    return share > threshold
