"""The model's draft verified sentence by sentence as it streams, so that a resident only ever reads verified text.

A sentence is settled once the model has begun the next one: the citations written after its end mark are then
known. Each settled piece of the draft is cut into sentences and analysed once, and the final verdict is drawn from
those same sentences and the rest of the draft, so every sentence shown is one the final verdict keeps, whatever
the model writes after it. A verified sentence is shown only when nothing written later can take it back:

- a draft that cites nothing may turn out to be the « not found » phrase, which drops it whole: nothing is shown
  before the draft's first citation;
- an answer to a question asking for one fact (a number, a year, a name, a place) that gives none is dropped whole
  (`verify`): its sentences wait until one of them gives it;
- a sentence ending with a colon announces the next one, and is dropped with it when the token limit cuts it: it
  settles with the sentence after it.
"""

from __future__ import annotations

import re

from bot.answer.verification import CITATION, DraftSentence, Verdict, has_citation, is_sentence, parse_draft, verify
from core.text import analyse_passages
from core.types import AnswerSentence, Evidence, Question

# What may end a sentence: a mark, a citation, a line break; only after one can a new sentence have begun
_MAY_END = frozenset(".!?…:]\n")
# A citation the model is still writing (« … procédure. [1 »): it belongs to the sentence before it
_OPEN_CITATION = re.compile(r"\s*\[[\d\s,;]*$")


class StreamedVerification:
    """Reads the draft token by token; says which verified sentences may be shown, then gives the final verdict."""

    def __init__(self, question: Question, evidence: list[Evidence], min_support: float) -> None:
        self.question, self.evidence, self.min_support = question, evidence, min_support
        self.draft = ""
        self._shown = 0  # how many of the kept sentences were shown
        self._settled: list[DraftSentence] = []
        self._settled_end = 0  # where the draft's unsettled tail begins
        self._read_up_to = 0  # where the last look for a new sentence ended

    def add(self, token: str) -> list[AnswerSentence]:
        """The verified sentences this token lets show, in the draft's order."""
        self.draft += token
        if not _may_have_begun_a_sentence(self.draft[self._read_up_to :]):
            return []
        self._read_up_to = len(self.draft)
        return self._to_show() if self._settle() else []

    def verdict(self, cut: bool) -> Verdict:
        """The whole draft's verdict (`cut`: the token limit stopped the model): the settled sentences, then the
        rest of the draft."""
        tail = parse_draft(self.draft[self._settled_end :], cut)
        return verify(self._settled + tail, self.question, self.evidence, self.min_support)

    def rest(self, verdict: Verdict) -> list[AnswerSentence]:
        """The kept sentences of the final `verdict` not shown yet."""
        rest = verdict.kept[self._shown :]
        self._shown = len(verdict.kept)
        return rest

    def _settle(self) -> bool:
        """Settles the tail's finished sentences, all but the one being written (and one announcing it, ending with
        a colon); whether any settled."""
        tail = _OPEN_CITATION.sub("", self.draft[self._settled_end :])
        for end in _sentence_starts(tail)[-1:0:-1][:2]:
            sentences = parse_draft(tail[:end])
            if sentences and not sentences[-1].text.endswith(":"):
                self._settled += sentences
                self._settled_end += end
                return True
        return False

    def _to_show(self) -> list[AnswerSentence]:
        if not has_citation(self.draft):
            return []
        return self.rest(verify(self._settled, self.question, self.evidence, self.min_support))


def _may_have_begun_a_sentence(text: str) -> bool:
    """Whether a letter or digit follows a mark that may end a sentence (spaCy then tells whether one ended)."""
    end = next((i for i, c in enumerate(text) if c in _MAY_END), None)
    return end is not None and any(c.isalnum() for c in text[end + 1 :])


def _sentence_starts(text: str) -> list[int]:
    """Where each of the text's sentences begins, as `parse_draft` cuts them (citations blanked, pieces that are no
    sentence skipped): at its first visible character, so that a citation before it stays with the sentence
    it follows."""
    blanked = CITATION.sub(lambda m: " " * len(m.group(0)), text)
    units = analyse_passages([blanked])[0]
    pieces = [(u.start, blanked[u.start : u.end]) for u in units if is_sentence(blanked, u.start, u.end)]
    return [start + len(piece) - len(piece.lstrip()) for start, piece in pieces]
