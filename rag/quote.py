"""Quotes: the sentences of an answer that answer the question, never rewritten.

A quote is one or more verbatim pieces of the stored answer (adjacent sentences form one
piece, the exact source text between them included), joined by " … " where sentences were
left out. Pure functions, tested with exact strings.
"""

from __future__ import annotations

import re

from rag.dutch import STOPWORDS, sentence_spans
from rag.types import Quote

DEFAULT_QUOTE_WORDS = 80  # long enough for a complete thought, short enough to scan five of
_WORD = re.compile(r"\w+")
_WORD_RUN = re.compile(r"\S+")


def terms(text: str) -> set[str]:
    """Content words of ``text``, cut to six letters so Dutch inflections still meet."""
    return {w[:6] for w in _WORD.findall(text.casefold()) if len(w) > 2 and w not in STOPWORDS}


def select_quote(answer: str, question: str, max_words: int = DEFAULT_QUOTE_WORDS) -> Quote:
    """The sentences of ``answer`` that share most words with ``question``, within a budget.

    A short answer is quoted whole. Otherwise sentences are taken best first until
    ``max_words`` is reached and shown in their original order; a quote still under half the
    budget gets the sentences around its pieces. Adjacent sentences form one piece (the
    exact source text between them included). When no sentence shares a word with the
    question (a purely semantic match) the answer's opening sentences are quoted.
    """
    if len(answer.split()) <= max_words:
        return Quote((answer.strip(),))
    spans = sentence_spans(answer)
    wanted = terms(question)
    overlap = [len(terms(answer[s:e]) & wanted) for s, e in spans]
    best = max(overlap)
    if best == 0:  # nothing lexical to go on (a purely semantic match): read from the start
        order, keep = list(range(len(spans))), None
    else:  # the best sentences, and others only if they match at least half as well
        order = sorted(range(len(spans)), key=lambda i: (-overlap[i], i))
        keep = max(1, (best + 1) // 2)
    chosen: list[int] = []
    budget = max_words
    for i in order:
        if keep is not None and overlap[i] < keep:
            break
        s, e = spans[i]
        n = len(answer[s:e].split())
        if n <= budget:
            chosen.append(i)
            budget -= n
        elif not chosen:  # one sentence longer than the whole budget: cut it at a word
            end = list(_WORD_RUN.finditer(answer, s, e))[max_words - 1].end()
            return Quote((answer[s:end],), cut_start=i > 0, cut_end=True)
        elif keep is None:
            break
    # A lone matching sentence reads better in context: top up to half the budget with the
    # sentences after each piece, then (at the end of an answer) those before it.
    for step in (1, -1):
        for i in sorted(chosen):
            j = i + step
            while budget > max_words // 2 and 0 <= j < len(spans) and j not in chosen:
                n = len(answer[slice(*spans[j])].split())
                if n > budget:
                    break
                chosen.append(j)
                budget -= n
                j += step
    chosen.sort()
    pieces: list[tuple[int, int]] = []
    for i in chosen:
        if pieces and i - 1 in chosen:
            pieces[-1] = (pieces[-1][0], spans[i][1])
        else:
            pieces.append(spans[i])
    return Quote(tuple(answer[s:e] for s, e in pieces), cut_start=chosen[0] > 0,
                 cut_end=chosen[-1] < len(spans) - 1)
