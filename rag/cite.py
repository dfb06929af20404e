"""Citations: pure functions of stored metadata, with exact, tested wording.

Three forms: the short citation for lists (``Aanhangsel Handelingen 2023–2024, nr. 2096,
vraag 3``), the long one with who answered and when, and the compact header a reply shows per
hit (``nr. 2096 · vraag 3 · 2 sep 2024 · SZW, EZ``). Who answered comes from the structured
:class:`~rag.types.Answerer` records read at ingest, never from re-parsing the text.
"""

from __future__ import annotations

import re

from rag.dutch import MONTHS, MONTHS_SHORT
from rag.government import ministry_short, preposition
from rag.opendata.ids import official_urls
from rag.types import DocumentMeta

_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


def vraag_label(vraag: tuple[int, ...]) -> str:
    """``vraag 3``, ``vragen 4 en 5``, ``vragen 1, 2 en 3``."""
    if len(vraag) == 1:
        return f"vraag {vraag[0]}"
    numbers = [str(n) for n in vraag]
    return f"vragen {', '.join(numbers[:-1])} en {numbers[-1]}"


def document_citation(doc_id: str, meta: DocumentMeta) -> str:
    """``Aanhangsel Handelingen 2023–2024, nr. 2096``, or the document id when unknown."""
    if meta.vergaderjaar and meta.ah_nr is not None:
        return f"Aanhangsel Handelingen {meta.vergaderjaar}, nr. {meta.ah_nr}"
    return doc_id


def citation(doc_id: str, meta: DocumentMeta, vraag: tuple[int, ...]) -> str:
    """``Aanhangsel Handelingen 2023–2024, nr. 2096, vraag 3``: the short form for lists."""
    return f"{document_citation(doc_id, meta)}, {vraag_label(vraag)}"


def _date_parts(iso: str | None) -> tuple[int, int, int] | None:
    m = _ISO.fullmatch(iso or "")
    if not m or not 1 <= int(m.group(2)) <= 12 or not 1 <= int(m.group(3)) <= 31:
        return None
    return int(m.group(1)), int(m.group(2)), int(m.group(3))


def dutch_date(iso: str | None) -> str | None:
    """``2024-09-02`` -> ``2 september 2024``; None for a missing or malformed date."""
    parts = _date_parts(iso)
    return f"{parts[2]} {MONTHS[parts[1] - 1]} {parts[0]}" if parts else None


def short_date(iso: str | None) -> str | None:
    """``2024-09-02`` -> ``2 sep 2024``; None for a missing or malformed date."""
    parts = _date_parts(iso)
    return f"{parts[2]} {MONTHS_SHORT[parts[1] - 1]} {parts[0]}" if parts else None


def answerer_phrase(meta: DocumentMeta) -> str | None:
    """``de minister van Sociale Zaken en Werkgelegenheid`` (joined with "en" for several).

    Falls back to the text as given when no answerer with a ministry was read from it.
    """
    offices = list(dict.fromkeys((a.role, a.ministry) for a in meta.answerers))
    if not offices:
        text = meta.answered_by
        return " ".join(text.split()) if text and text.strip() else None
    phrases = [f"de {role} {preposition(role, ministry)} {ministry}"
               for role, ministry in offices]
    return phrases[0] if len(phrases) == 1 else f"{', '.join(phrases[:-1])} en {phrases[-1]}"


def answerers_named(meta: DocumentMeta) -> str | None:
    """``staatssecretaris Karremans van Volksgezondheid, Welzijn en Sport``: who answered, by
    name where the document gives one (else as `answerer_phrase`), joined with "en"."""
    if not meta.answerers:
        return answerer_phrase(meta)
    people = list(dict.fromkeys(
        f"{a.role} {a.name} {preposition(a.role, a.ministry)} {a.ministry}" if a.name
        else f"de {a.role} {preposition(a.role, a.ministry)} {a.ministry}"
        for a in meta.answerers))
    return people[0] if len(people) == 1 else f"{', '.join(people[:-1])} en {people[-1]}"


def long_citation(doc_id: str, meta: DocumentMeta, vraag: tuple[int, ...]) -> str:
    """The full citation, with as much as the document gives.

    ``Aanhangsel Handelingen 2023–2024, nr. 2096, vraag 3 — antwoord van de minister van
    Sociale Zaken en Werkgelegenheid, ontvangen 2 september 2024``
    """
    short = citation(doc_id, meta, vraag)
    who = answerer_phrase(meta)
    when = dutch_date(meta.date_received)
    tail = ", ".join(part for part in (f"antwoord van {who}" if who else None,
                                       f"ontvangen {when}" if when else None) if part)
    return f"{short} — {tail}" if tail else short


def compact_id(doc_id: str, meta: DocumentMeta, vraag: tuple[int, ...]) -> str:
    """``nr. 2096 · vraag 8``: the Aanhangsel number (the document id when there is none)
    and the vraag, the shortest label that still tells hits apart (the result picker's)."""
    number = f"nr. {meta.ah_nr}" if meta.ah_nr is not None else doc_id
    return f"{number} · {vraag_label(vraag)}"


def compact_header(doc_id: str, meta: DocumentMeta, vraag: tuple[int, ...]) -> str:
    """``nr. 2096 · vraag 8 · 2 sep 2024 · SZW, EZ``: what tells five hits apart at a glance.

    `compact_id`, the date the answer was received, then the answering ministries in their
    short forms.
    """
    ministries = list(dict.fromkeys(ministry_short(a.ministry) for a in meta.answerers))
    parts = [compact_id(doc_id, meta, vraag), short_date(meta.date_received),
             ", ".join(ministries) or None]
    return " · ".join(p for p in parts if p)


def official_url(doc_id: str, meta: DocumentMeta) -> str | None:
    """The page of the official publication on officielebekendmakingen.nl, or None.

    The URL the open data gave (``meta.official_url``, from a fetched file's sidecar) comes
    first: newer publications (``ah-1234567``) are known by it alone. Otherwise it is built
    from an official document id (``ah-tk-…``, ``ah-ek-…``, ``kv-tk-…``); a file named
    freely has none. Only ``https``/``http`` addresses are returned, so a hand-edited
    sidecar cannot turn the link into script.
    """
    given = (meta.official_url or "").strip()
    if given.lower().startswith(("https://", "http://")) and not any(
            c.isspace() or ord(c) < 32 for c in given):
        return given
    urls = official_urls(doc_id)
    return urls.html if urls is not None else None
