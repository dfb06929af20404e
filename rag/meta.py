"""Metadata extraction from the intro of an Aanhangsel document (pure regex over text)."""

from __future__ import annotations

import re

from rag.document import DocumentMeta

MONTHS = {
    "januari": 1, "februari": 2, "maart": 3, "april": 4, "mei": 5, "juni": 6, "juli": 7,
    "augustus": 8, "september": 9, "oktober": 10, "november": 11, "december": 12,
}  # fmt: skip
_DATE = r"(\d{1,2})\s*(" + "|".join(MONTHS) + r")\s*(\d{4})"
_SUBMITTED = re.compile(r"ingezonden\s+" + _DATE, re.I)
_RECEIVED = re.compile(r"ontvangen\s+(?:\(ontvangen\s+)?" + _DATE, re.I)
_YEAR = re.compile(r"[Vv]ergaderjaar\s+(\d{4})\s*[–-]\s*(\d{4})")
_ID = re.compile(r"^[a-z]{2}-tk-(\d{4})(\d{4})-(\d+)$")
_ZAAK = re.compile(r"\b(\d{4})Z\s?(\d{5})\b")
_ASKED = re.compile(
    r"(?:^|\s)(?:Mondelinge\s+)?Vragen van (?P<by>.+?) aan (?P<to>.+?)"
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
    day, month, year = int(m.group(1)), MONTHS[m.group(2).lower()], int(m.group(3))
    if not 1 <= day <= 31:
        return None
    return f"{year:04d}-{month:02d}-{day:02d}"


def _flat(text: str) -> str:
    """One-line form of the intro: markdown markers and line breaks removed."""
    text = re.sub(r"\*\*|(?<!\w)_|_(?!\w)|^#{1,6}\s+", "", text, flags=re.M)
    return re.sub(r"\s+", " ", text)


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
    id_match = _ID.match(doc_id)

    year = _YEAR.search(flat)
    if year:
        vergaderjaar: str | None = f"{year.group(1)}–{year.group(2)}"
    elif id_match:
        vergaderjaar = f"{id_match.group(1)}–{id_match.group(2)}"
    else:
        vergaderjaar = None

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

    zaak = _ZAAK.search(flat) or _ZAAK.search(doc_id)
    asked = _ASKED.search(flat)
    answered = _ANSWERED.search(flat)
    title_m = _TITLE.search(re.sub(r"\*\*", "", intro))
    subject = _squash(asked.group("subject")) if asked else None
    title = _squash(title_m.group(1)) if title_m else subject

    return DocumentMeta(
        title=title,
        vergaderjaar=vergaderjaar,
        ah_nr=ah_nr,
        zaak_nr=f"{zaak.group(1)}Z{zaak.group(2)}" if zaak else None,
        asked_by=_squash(asked.group("by")) if asked else None,
        asked_to=_squash(asked.group("to")) if asked else None,
        answered_by=_squash(answered.group("who")) if answered else None,
        date_submitted=_iso(_SUBMITTED.search(flat)),
        date_received=_iso(_RECEIVED.search(flat)),
    )
