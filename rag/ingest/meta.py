"""Metadata extraction from the intro of an Aanhangsel document (pure regex over text)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import replace
from datetime import date, timedelta

from rag.dutch import MONTH_NUMBER
from rag.ingest.clean import fix_glued_words
from rag.ingest.patterns import DATE, OFFICIAL_ID, VERGADERJAAR, zaak_number
from rag.ingest.people import answerers_and_ministries, askers_and_parties, ministries_addressed
from rag.types import DocumentMeta

# PDF text layers write "ş" and "ć" as a letter plus a spacing mark; only marks that never
# stand for an apostrophe are joined (the acute only after the consonants that carry it)
_SPACING_MARK = re.compile("(?<=[A-Za-z])\u00b8|(?<=[csznCSZN])\u00b4")
_COMBINING = {"\u00b8": "\u0327", "\u00b4": "\u0301"}
_SUBMITTED = re.compile(r"ingezonden\s+" + DATE, re.I)
_RECEIVED = re.compile(r"ontvangen\s+(?:\(ontvangen\s+)?" + DATE, re.I)
_ASKED = re.compile(
    r"(?:^|\s)(?:Mondelinge\s+vragen|Vragen) van (?P<by>.+?) aan (?P<to>.+?)"
    r"(?: over (?P<subject>.+?))?(?:\s*\(ingezonden|\.(?:\s|$)|$)",
    re.S,
)
_ANSWERED = re.compile(
    r"(?:Antwoord|Mededeling) van (?P<who>.+?)\s*\((?:ontvangen|ingezonden)", re.S
)
_TITLE = re.compile(r"(Antwoord op vragen van .+?)\s*$", re.M)
_AH_HEADER = [
    re.compile(r"gegeven antwoorden\s+(\d{1,5})\b"),  # printed header, number below it
    re.compile(r"^\s*AH\s+(\d{1,5})\s*$", re.M),  # ministry Word version
]
_SEE_ALSO = re.compile(
    r"Zie ook Aanhangsel Handelingen,\s*vergaderjaar\s+\d{4}\s*[–-]\s*\d{4},\s*nr\.\s*(\d+)"
)


def _iso(m: re.Match[str] | None) -> str | None:
    if not m:
        return None
    day, month, year = int(m.group(1)), MONTH_NUMBER[m.group(2).lower()], int(m.group(3))
    if not 1 <= day <= 31:
        return None
    return f"{year:04d}-{month:02d}-{day:02d}"


def _flat(text: str) -> str:
    """One-line form of the intro: markdown markers and line breaks removed, and the
    extraction artefacts that split names or glue words undone ("Yes¸ilgöz", "vanDijk",
    "overhet")."""
    text = re.sub(r"\*\*|(?<!\w)_|_(?!\w)|^#{1,6}\s+", "", text, flags=re.M)
    text = re.sub(r"\s+", " ", text)
    text = unicodedata.normalize("NFC", _SPACING_MARK.sub(lambda m: _COMBINING[m.group(0)], text))
    text = re.sub(r"\bover(?=(?:het|de)\s)", "over ", fix_glued_words(text))
    return text


def _squash(value: str | None) -> str | None:
    if value is None:
        return None
    value = re.sub(r"\s+", " ", value).strip(" .,")
    return value or None


def extract_meta(intro: str, doc_id: str) -> DocumentMeta:
    """Read title, year, numbers, people and dates from the text before the first question.

    ``ah_nr`` prefers the number printed in the header ("### 631", "AH 608"), then the one in
    the document id; the "Zie ook Aanhangsel Handelingen ..., nr. N" reference is only a last
    resort, because in printed answers it points at the earlier postponement notice.
    """
    flat = _flat(intro)
    id_match = OFFICIAL_ID.match(doc_id)

    year = VERGADERJAAR.search(flat)
    if year:
        vergaderjaar: str | None = f"{year.group(1)}–{year.group(2)}"
    elif id_match:
        vergaderjaar = f"{id_match.group(1)}–{id_match.group(2)}"
    else:
        vergaderjaar = None
    submitted = _iso(_SUBMITTED.search(flat))
    received = _iso(_RECEIVED.search(flat))
    if vergaderjaar is None and (received or submitted):
        vergaderjaar = vergaderjaar_of(received or submitted or "")

    ah_nr: int | None = None
    header_text = re.sub(r"\*\*|#", "", intro)
    for pattern in _AH_HEADER:
        m = pattern.search(header_text)
        if m:
            ah_nr = int(m.group(1))
            break
    if ah_nr is None and id_match:
        ah_nr = int(id_match.group(3))
    if ah_nr is None:
        see = _SEE_ALSO.search(flat)
        ah_nr = int(see.group(1)) if see else None

    zaak = zaak_number(flat) or zaak_number(doc_id)
    asked = _ASKED.search(flat)
    answered = _ANSWERED.search(flat)
    title_m = _TITLE.search(re.sub(r"\*\*", "", intro))
    subject = _squash(asked.group("subject")) if asked else None
    if title_m:
        title = _squash(title_m.group(1))
    elif answered and asked and subject:
        title = official_title(asked.group("by"), subject)
    else:
        title = subject

    return with_people(DocumentMeta(
        title=title,
        vergaderjaar=vergaderjaar,
        ah_nr=ah_nr,
        zaak_nr=zaak,
        asked_by=_squash(asked.group("by")) if asked else None,
        asked_to=_squash(asked.group("to")) if asked else None,
        answered_by=_squash(answered.group("who")) if answered else None,
        date_submitted=submitted,
        date_received=received,
        subject=subject,
    ))


def official_title(asked_by: str, subject: str) -> str:
    """The title an answer is published under: "Antwoord op vragen van het lid X over Y"."""
    members = re.sub(r"\s*\([^()]*\)", "", asked_by)
    members = re.sub(r"\s+,", ",", re.sub(r"\s+", " ", members)).strip(" ,")
    return f"Antwoord op vragen van {members} over {subject}"


def with_people(meta: DocumentMeta) -> DocumentMeta:
    """Fill the structured people fields that are still empty from the free-text ones.

    ``ministries`` lists the answering ministries, then those answering "mede namens", then
    the ministries the questions were addressed to, without repeats.
    """
    askers, parties = askers_and_parties(meta.asked_by)
    answerers, answering = answerers_and_ministries(meta.answered_by)
    ministries = tuple(dict.fromkeys((*answering, *ministries_addressed(meta.asked_to))))
    return replace(
        meta,
        askers=meta.askers or askers,
        parties=meta.parties or parties,
        answerers=meta.answerers or answerers,
        ministries=meta.ministries or ministries,
    )


def vergaderjaar_of(iso_date: str) -> str | None:
    """The parliamentary year of a date: it opens on Prinsjesdag, the third Tuesday of
    September (``2024-09-17`` is in ``2024–2025``, ``2024-09-16`` in ``2023–2024``)."""
    try:
        day = date.fromisoformat(iso_date)
    except ValueError:
        return None
    first = date(day.year, 9, 1)
    opening = first + timedelta(days=(1 - first.weekday()) % 7 + 14)
    start = day.year if day >= opening else day.year - 1
    return f"{start}–{start + 1}"
