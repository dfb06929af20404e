"""Dutch language data the project shares: month names, function words, sentence ends."""

from __future__ import annotations

import re

MONTHS = (
    "januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september",
    "oktober", "november", "december",
)  # fmt: skip
MONTH_NUMBER = {name: i for i, name in enumerate(MONTHS, start=1)}
MONTHS_SHORT = ("jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov",
                "dec")

# Function words carry no topic: a sentence sharing only these with a question is no match.
# Dutch first, then the English ones that English questions bring.
_STOPWORD_TEXT = """
aan al alle als bij dan dat de deze die dit door een en er ge had heb heeft hem het hier hij hoe
hun ik in is je kan kunnen kunt maar me meer men met mij mijn naar niet nog nu of om ook op over
te tot u uit uw van veel voor waar wat we wel werd wie wij wil worden wordt zal ze zich zij zijn
zo zou welke welk wanneer waarom bent heeft hebben the and for what did does how why which who
about with that this are was were has have into from
"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())

# A sentence ends at . ! or ? followed by a capital, an opening quote or bracket, or at a line
# break; abbreviations ("o.a. de", "art. 3") do not end one, as no capital follows.
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-ZÀ-Ý«“\"‘(])|\n\s*")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence or paragraph of ``text``, without surrounding space."""
    spans = []
    start = 0
    for m in [*SENTENCE_END.finditer(text), None]:
        end = m.start() if m else len(text)
        piece = text[start:end]
        if piece.strip():
            lead = len(piece) - len(piece.lstrip())
            spans.append((start + lead, start + len(piece.rstrip())))
        if m:
            start = m.end()
    return spans
