"""Publication ids of officielebekendmakingen.nl and the URLs of the official text (pure).

The Tweede Kamer open data gives an answer document's ``Aanhangselnummer`` as nine digits:
the last two digits of both years of the vergaderjaar, then the number, so ``232401178`` is
vergaderjaar 2023-2024, nr. 1178, published as ``ah-tk-20232024-1178`` (``ah-ek-…`` for the
Eerste Kamer). Question sets are published as ``kv-tk-<zaak number>`` (``kv-tk-2024Z18435``).
Since 2025 new publications can also carry a plain serial id (``ah-1234567``); those are
published as PDF only, without the structured XML.

Every function here is pure and needs only the standard library and the id patterns of
:mod:`rag.ingest.patterns` (where every id form is defined once), so the chat can use
:func:`official_urls` for its "official text" link without the fetch machinery.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag import __version__
from rag.ingest.patterns import OFFICIAL_ID, QUESTION_SET_ID, SERIAL_ID

PUBLICATIONS_URL = "https://zoek.officielebekendmakingen.nl"
TK_API_URL = "https://gegevensmagazijn.tweedekamer.nl/OData/v4/2.0"  # the open-data service
# How fetch names itself to those services by default (``--user-agent`` changes it): the
# project and its version, nothing it cannot vouch for.
USER_AGENT = f"Vraagbaak/{__version__} (rag fetch)"
HOUSES = {"tk": "Tweede Kamer", "ek": "Eerste Kamer"}

_AANHANGSEL = re.compile(r"^(?P<y1>\d{2})(?P<y2>\d{2})(?P<nr>\d{5})$")


@dataclass(frozen=True)
class OfficialUrls:
    """Where the official text of a publication lives; ``xml`` is None when there is none."""

    html: str  # the page people cite
    pdf: str
    xml: str | None


def _century(yy: int) -> int:
    # Aanhangsel numbers in this form exist from the 1990s on
    return 1900 + yy if yy >= 90 else 2000 + yy


def ah_id(aanhangselnummer: str | None, house: str = "tk") -> str | None:
    """``"232401178"`` -> ``"ah-tk-20232024-1178"``; None when it is not of that form."""
    if house not in HOUSES or not aanhangselnummer:
        return None
    m = _AANHANGSEL.match(aanhangselnummer.strip())
    if not m:
        return None
    start, end = _century(int(m["y1"])), _century(int(m["y2"]))
    nr = int(m["nr"])
    if end != start + 1 or nr == 0:
        return None
    return f"ah-{house}-{start}{end}-{nr}"


def aanhangselnummer(doc_id: str) -> str | None:
    """``"ah-tk-20232024-1178"`` -> ``"232401178"``, the inverse of :func:`ah_id`."""
    m = OFFICIAL_ID.match(canonical_id(doc_id) or "")
    if not m:
        return None
    return f"{m[1][2:]}{m[2][2:]}{int(m[3]):05d}"


def vergaderjaar(doc_id: str) -> str | None:
    """``"ah-tk-20232024-1178"`` -> ``"2023-2024"``; None for ids without a year."""
    m = OFFICIAL_ID.match(canonical_id(doc_id) or "")
    return f"{m[1]}-{m[2]}" if m else None


def ah_number(doc_id: str) -> int | None:
    """``"ah-tk-20232024-1178"`` -> ``1178``, the number of the Aanhangsel; None for other ids."""
    m = OFFICIAL_ID.match(canonical_id(doc_id) or "")
    return int(m[3]) if m else None


def canonical_id(doc_id: str) -> str | None:
    """The id as published (lower case, ``Z`` upper case in a zaak number), or None when it
    is not an official Aanhangsel or Kamervragen id."""
    text = doc_id.strip().lower()
    if (m := OFFICIAL_ID.match(text)) and int(m[2]) == int(m[1]) + 1:
        return text
    if SERIAL_ID.match(text):
        return text
    if m := QUESTION_SET_ID.match(text):
        return f"kv-{m[1]}-{m[2]}Z{m[3]}"
    return None


def official_urls(doc_id: str, base: str = PUBLICATIONS_URL) -> OfficialUrls | None:
    """The official HTML page, PDF and (where published) XML of ``doc_id``, or None when
    ``doc_id`` is not an official id (a file a user named freely, say)."""
    ident = canonical_id(doc_id)
    if ident is None:
        return None
    root = base.rstrip("/")
    xml = None if SERIAL_ID.match(ident) else f"{root}/{ident}.xml"
    return OfficialUrls(html=f"{root}/{ident}.html", pdf=f"{root}/{ident}.pdf", xml=xml)
