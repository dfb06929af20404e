"""Which language a question is in: Dutch or English, by a stopword and spelling test.

Questions are short, so a character n-gram model would need more data than a question gives;
function words decide nearly every real question, and spelling patterns ("ij", "sch", "oe"
against "th", "wh", "-tion") decide keyword queries that have none. Undecided means Dutch,
the corpus language, because then Dutch BM25 can only help.
"""

from __future__ import annotations

import re

from rag.types import Language

_NL_WORDS = frozenset(str.split("""
aan al alle als andere bij dan dat de deze die dit door dus een en er ervan geen had heeft
hebben het hier hij hoe hoeveel hun ik in is je kan komt kunnen kunt maar meer met mij moet
na naar niet nog nu of om omdat ons ook op over te tegen tot u uit van veel voor waar waarom
wanneer wat welke wie wij wil wordt worden zal ze zich zij zijn zo zou zullen
"""))
_EN_WORDS = frozenset(str.split("""
a about after all an and any are as at be been being but by can could did do does for from
had has have how if in into is it its many more much not of on or should so than that the
their them there these they this those to was we were what when where which who why will
with would you your
"""))
# Spelling that is common in one language and rare in the other (checked on the gold sets
# and the corpus vocabulary); used only when the function words do not decide.
_NL_SPELLING = re.compile(r"ij|sch|oe|aa|uu|ee[^s]|cht|\bge|heid\b|tie\b|en\b")
_EN_SPELLING = re.compile(r"th|wh|tion\b|ing\b|ough|ally\b|y\b|ies\b|w")
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
# Quoted titles («The Future of NATO's Land Forces») are often English inside a Dutch question.
_QUOTED = re.compile(r"«[^»]*»|“[^”]*”|\"[^\"]*\"")


def detect_language(text: str) -> Language:
    """``Language.EN`` when ``text`` reads as English, else ``Language.NL``.

    Words that exist in both lists ("in", "is") count for neither; quoted passages count
    only when the question is nothing but a quote.
    """
    unquoted = _QUOTED.sub(" ", text)
    words = [w.lower() for w in _WORD.findall(unquoted if _WORD.search(unquoted) else text)]
    nl = sum(1 for w in words if w in _NL_WORDS and w not in _EN_WORDS)
    en = sum(1 for w in words if w in _EN_WORDS and w not in _NL_WORDS)
    if nl != en:
        return Language.EN if en > nl else Language.NL
    joined = " ".join(words)
    nl_marks = len(_NL_SPELLING.findall(joined))
    en_marks = len(_EN_SPELLING.findall(joined))
    return Language.EN if en_marks > nl_marks else Language.NL
