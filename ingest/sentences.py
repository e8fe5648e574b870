"""Passages cut into sentences at ingestion: the units evidence is ranked and quoted by.

One spaCy pass per passage gives its sentences and their analyses (lemmas, names, numbers,
negation); each distinct title and section is analysed once too. Later in the build each
sentence's context is embedded once; nothing about a passage's sentences is computed at
question time.
"""

from __future__ import annotations

from core.text import (
    Analysis,
    SentenceUnit,
    analyse_many,
    analyse_passages,
    gives_time_of_day,
    offers_online_service,
    refers_back,
    typeset_dates,
    union,
)
from core.types import Chunk, Sentence


def sentences_of(chunks: list[Chunk], context_chars: int, max_chars: int) -> list[Sentence]:
    """Every sentence of `chunks`, in order, with its context and the analysis of that context."""
    headings = _heading_analyses(chunks)
    sentences: list[Sentence] = []
    for chunk, units in zip(chunks, analyse_passages([c.text for c in chunks]), strict=True):
        heading = headings[_heading(chunk)]
        for position in range(len(units)):
            sentences.append(_sentence(chunk, units, position, heading, context_chars, max_chars))
    return sentences


def _sentence(
    chunk: Chunk, units: list[SentenceUnit], position: int, heading: Analysis, context_chars: int, max_chars: int
) -> Sentence:
    unit = units[position]
    read_with = units[position : position + 1 + _following(units, position, chunk.text, context_chars, max_chars)]
    start, end = unit.start, read_with[-1].end
    context = " ".join(chunk.text[u.start : u.end] for u in read_with)
    analysis = union([u.analysis for u in read_with])
    # A date typeset one pair of digits a line (« 16 / 04 / 20 / 24 ») is whole in the joined context only
    numbers = analysis.numbers | typeset_dates(context)
    text = chunk.text[unit.start : unit.end]
    return Sentence(
        sentence_id=f"{chunk.chunk_id}:{position}",
        chunk_id=chunk.chunk_id,
        position=position,
        text=text,
        context=context,
        lemmas=tuple(sorted(analysis.lemmas)),
        names=tuple(sorted(analysis.names)),
        numbers=tuple(sorted(numbers)),
        own_numbers=tuple(sorted(unit.analysis.numbers)),
        negated=analysis.negated,
        links=tuple(sorted(analysis.links)),
        phones=tuple(sorted(analysis.phones)),
        time_of_day=gives_time_of_day(context),
        offers_service=offers_online_service(text, analysis.links),
        refers_back=refers_back(text),
        start=start,
        end=end,
        heading_lemmas=tuple(sorted(heading.lemmas)),
        heading_names=tuple(sorted(heading.names)),
        heading_numbers=tuple(sorted(heading.numbers)),
    )


def _following(units: list[SentenceUnit], position: int, text: str, context_chars: int, max_chars: int) -> int:
    """How many following sentences a short one is read with, until it reads on its own.

    A speaker's name ("Nicolas DESFACHELLE") or a figure's label says little alone: what the
    resident needs (the role, the figure) is on the following line. A sentence that announces
    what follows ("…les pièces suivantes :") is read with it (the list, the command), as far as fits.
    """
    unit = units[position]
    announces = text[unit.end - 1] == ":"
    length, count = unit.end - unit.start, 0
    for following in units[position + 1 :]:
        extra = following.end - following.start
        if (length >= context_chars and not announces) or length + 1 + extra > max_chars:
            break
        length, count = length + 1 + extra, count + 1
    return count


def _heading(chunk: Chunk) -> str:
    return "\n".join(part for part in (chunk.title, chunk.section or "") if part)


def _heading_analyses(chunks: list[Chunk]) -> dict[str, Analysis]:
    """Each distinct title-and-section of `chunks`, analysed once."""
    distinct = list(dict.fromkeys(_heading(c) for c in chunks))
    return dict(zip(distinct, analyse_many(distinct), strict=True))
