"""Question texts compared robustly; formal vragen and content-free answers recognised.

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
# A vraag about the source itself: whether the minister knows it ("Bent u bekend met / Heeft u
# kennisgenomen van / Kent u" + a source: news item, article, broadcast, report, ruling …) or
# how they react to a news item as a whole ("Wat is uw reactie op het bericht …?"); the
# source may be named by a quoted title, a date or the medium, but nothing may ask more.
_KNOWS = (r"(?:(?:bent|ben|heeft|hebt)\s+u(?:\s+(?:ook|al|inmiddels))?\s+(?:bekend\s+met|"
          r"kennis\s?genomen\s+van|op\s+de\s+hoogte\s+van)|kent\s+u(?:\s+ook)?)")
_REACTS = (r"(?:(?:wat\s+is|hoe\s+luidt)\s+uw\s+(?:eerste\s+)?reactie\s+op|hoe\s+reageert\s+u"
           r"\s+op|kunt\s+u\s+(?:namens\s+het\s+kabinet\s+)?(?:reageren\s+op|kennisnemen\s+van))")
_NEWS = (r"bericht|berichten|berichtgeving|nieuwsbericht|artikel|artikelen|uitzending|"
         r"reportage|item|nieuws|column|opiniestuk|interview|documentaire|tweet|brief")
_SOURCES = (rf"{_NEWS}|rapport|rapporten|verslag|onderzoek|publicatie|publicaties|uitspraak|"
            r"uitspraken|oproep|advies")
# up to three words before the noun ("het recente wetenschappelijke rapport", "het NRC
# artikel"), none of them a preposition or article (so not "de in het artikel beschreven …")
_BEFORE = r"(?:(?!(?:in|op|om|te|van|met|over|aan|bij|uit|naar|voor|het|de|een)\s)[\w-]+\s+){0,3}?"
_DETERMINER = r"(?:(?:het|de|dit|deze|die|dat|een)\s+)?"
_ACKNOWLEDGEMENT = re.compile(
    rf"(?:{_KNOWS}\s+(?:«»|{_DETERMINER}{_BEFORE}[\w-]*(?:{_SOURCES}))|"
    rf"{_REACTS}\s+(?:«»|{_DETERMINER}{_BEFORE}[\w-]*(?:{_NEWS})))\b(?P<tail>[^?]*)\?")
# ... and a tail that asks more: "… en welke verklaring heeft het kabinet?", "… en met welke
# concrete acties …?"
_ASKS_MORE = re.compile(r"\b(?:en|maar|zo\s+ja|zo\s+nee|of)\s*,?\s+(?:\w+\s+){0,2}?(?:wat|"
                        r"welke|hoe|waarom|wanneer|waar|wie|deelt|bent|kunt|heeft|hebt|is|"
                        r"zijn|wilt|gaat|vindt|erkent)\b")
_QUOTED_TITLE = re.compile(r"[«“‘'\"][^«»“”‘’\"]{3,300}[»”’'\"]|«[^«»]*«[^«»]*»[^«»]*»")
_FOOTNOTE_MARKS = re.compile(r"\[\d{1,2}\]|(?<=[?.»”’'])(?:\s?\d{1,2})+(?=\s|$)|\s\d\)")
_ACKNOWLEDGEMENT_MAX_CHARS = 400
_WORD = re.compile(r"\w+")
_CONTENT_FREE_MAX_WORDS = 12
_CONTENT_FREE = frozenset({
    "ja", "nee", "neen", "ik", "ben", "heb", "is", "zijn", "er", "daar", "hier", "hiermee",
    "daarmee", "mee", "bekend", "met", "van", "kennis", "kennisgenomen", "genomen", "dit",
    "deze", "het", "de", "die", "dat", "bericht", "berichten", "berichtgeving", "artikel",
    "artikelen", "uitzending", "rapport", "onderzoek", "onderzoeksrapport", "uitspraak",
    "brief", "mij", "voor", "genoemde", "bovengenoemde", "hiervan", "daarvan", "inderdaad"
})


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


def is_formal(text: str) -> bool:
    """Whether a vraag gets no standing line: procedural, or an acknowledgement."""
    return is_procedural(text) or is_acknowledgement(text)


def is_acknowledgement(text: str) -> bool:
    """Whether a vraag only asks if the minister knows a source ("Bent u bekend met het
    bericht «…»?", "Heeft u kennisgenomen van de uitzending …?") or how they react to it as a
    whole ("Wat is uw reactie op dit bericht?"): one question about the source itself, whose
    earlier "answers" are "Ja." A vraag that asks more ("… en welke verklaring heeft het
    kabinet?", "Wat is de omvang van dit probleem?") or asks about a fact ("Bent u bekend met
    het feit dat …") is not one."""
    flat = " ".join(_FOOTNOTE_MARKS.sub("", text).split())
    if len(flat) > _ACKNOWLEDGEMENT_MAX_CHARS:
        return False
    # titles first: a title may hold a question mark of its own
    flat = _QUOTED_TITLE.sub("«»", _QUOTED_TITLE.sub("«»", flat)).casefold()
    m = _ACKNOWLEDGEMENT.fullmatch(flat) if flat.count("?") == 1 else None
    return m is not None and not _ASKS_MORE.search(m["tail"])


def is_content_free(answer: str) -> bool:
    """Whether an earlier answer says nothing but yes, no or that the minister knows the
    source ("Ja.", "Ja, ik ben bekend met het bericht.", "Daar ben ik mee bekend."): no
    position to take over, so no place on a standing line."""
    words = _WORD.findall(answer.casefold())
    return 0 < len(words) <= _CONTENT_FREE_MAX_WORDS and all(w in _CONTENT_FREE for w in words)
