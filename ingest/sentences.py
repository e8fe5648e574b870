"""Passages cut into sentences at ingestion: the units evidence is ranked and quoted by.

Each sentence is analysed (lemmas, names, numbers) and, later in the build, embedded once; nothing about a
passage's sentences is computed at question time.
"""

from __future__ import annotations

from core.text import analyse_many, sentence_spans
from core.types import Chunk, Sentence


def sentences_of(chunks: list[Chunk], context_chars: int, max_chars: int) -> list[Sentence]:
    """Every sentence of `chunks`, in order, with its context, lemmas, names and numbers."""
    pieces: list[tuple[Chunk, int, str, str]] = []
    for chunk in chunks:
        texts = [chunk.text[start:end] for start, end in sentence_spans(chunk.text)]
        for position, text in enumerate(texts):
            pieces.append((chunk, position, text, with_next(texts, position, context_chars, max_chars)))
    analyses = analyse_many([context for *_, context in pieces])
    return [
        Sentence(
            sentence_id=f"{chunk.chunk_id}:{position}",
            chunk_id=chunk.chunk_id,
            position=position,
            text=text,
            context=context,
            lemmas=tuple(sorted(analysis.lemmas)),
            names=tuple(sorted(analysis.names)),
            numbers=tuple(sorted(analysis.numbers)),
        )
        for (chunk, position, text, context), analysis in zip(pieces, analyses, strict=True)
    ]


def with_next(texts: list[str], position: int, context_chars: int, max_chars: int) -> str:
    """A short line followed by the next ones until it reads on its own.

    A speaker's name ("Nicolas DESFACHELLE") or a figure's label says little alone: what the
    resident needs (the role, the figure) is on the following line.
    """
    context = texts[position]
    for following in texts[position + 1 :]:
        if len(context) >= context_chars or len(context) + 1 + len(following) > max_chars:
            break
        context = f"{context} {following}"
    return context
