"""Question texts compared robustly, and procedural vragen recognised (pure functions).

The same question reaches the index in another form than the new set has it: the kv-version
is a PDF extraction with glued words ("uitgebreidgesproken"), hyphenation ("ontwikkelings-
hulp") and «» quotes, the ah-version a clean text with “” quotes. Comparing character
5-grams of the text with everything but letters and digits removed makes all of these vanish;
the Dice coefficient of the two sets is the similarity (1 for the same text).

A combined block of the index ("Vraag 4 en 5" answered together) holds its questions
joined by a blank line, so a vraag is also compared with each of them.
"""

from __future__ import annotations

import re
import unicodedata

SHINGLE = 5
# Near-identical: the same question asked again, up to a word or two. Measured with
# `rag dossier-eval` on ../shared/corpus (999 questions; 391,099 pairs from documents of
# different question sets share a 5-gram): two different substantive questions score at most
# 0.49; only procedural requests ("Kunt u deze vragen afzonderlijk beantwoorden?" and its
# variants, 0.55–1.0) come higher, and they are set aside anyway. The kv- and ah-versions of
# one question (kv-tk-2024Z18792 and ah-tk-20242025-605) score 1.0 on all five vragen.
NEAR_IDENTICAL = 0.8

_NOT_ALNUM = re.compile(r"[\W_]+")
_PARTS = re.compile(r"\n\s*\n")
# A request about the answering itself: "Kunt u deze vragen (afzonderlijk / één voor één /
# binnen drie weken / vóór het debat …) beantwoorden?"
_PROCEDURAL = re.compile(
    r"\b(?:deze|de(?:ze)? (?:bovenstaande|gestelde)|alle|ieder van deze|elk van deze)"
    r"(?: \w+)? vragen\b.{0,200}?\bbeant-?\s?woord", re.S)
_PROCEDURAL_MAX_CHARS = 300


def squash(text: str) -> str:
    """Lower-case letters and digits only: glue, hyphenation and punctuation gone."""
    return _NOT_ALNUM.sub("", unicodedata.normalize("NFKC", text).casefold())


def shingles(text: str, n: int = SHINGLE) -> frozenset[str]:
    """The character ``n``-grams of the squashed text (the text itself when shorter)."""
    flat = squash(text)
    if len(flat) <= n:
        return frozenset({flat}) if flat else frozenset()
    return frozenset(flat[i:i + n] for i in range(len(flat) - n + 1))


def dice(a: frozenset[str], b: frozenset[str]) -> float:
    """``2·|a∩b| / (|a|+|b|)``: 1 for equal sets, 0 when nothing is shared or one is empty."""
    if not a or not b:
        return 0.0
    return 2 * len(a & b) / (len(a) + len(b))


def similarity(vraag: str, question: str) -> float:
    """How alike a vraag is to an indexed question (0–1), also to each question of a
    combined block."""
    mine = shingles(vraag)
    candidates = [question, *_PARTS.split(question)] if _PARTS.search(question) else [question]
    return max(dice(mine, shingles(text)) for text in candidates)


def is_procedural(text: str) -> bool:
    """Whether a vraag only asks how or when the set is answered (no standing line to find)."""
    flat = " ".join(text.casefold().split())
    return len(flat) <= _PROCEDURAL_MAX_CHARS and bool(_PROCEDURAL.search(flat))
