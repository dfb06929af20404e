"""Metadata filters staff use to narrow a search: year, ministry, party, date range."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from rag.errors import QueryError
from rag.government import expand_ministry, party_key
from rag.types import DocRecord


@dataclass(frozen=True)
class Filter:
    """All set fields must match.

    - ``vergaderjaar`` accepts ``2023–2024`` or ``2023-2024``;
    - ``ministry`` matches, case-insensitively as a substring, any of the document's
      ``ministries`` (answering, "mede namens", addressed); a known abbreviation such as
      ``BZK`` or ``SZW`` is expanded first;
    - ``party`` matches any of the askers' ``parties``, by name or short form ("GL-PvdA" finds
      "GroenLinks-PvdA", "NSC" finds "Nieuw Sociaal Contract");
    - ``date_from`` / ``date_to`` are inclusive ISO dates compared with the date the answer was
      received (else the date the questions were submitted); a document without either fails.

    Records from an index built before the structured fields existed fall back to the
    free-text ``answered_by`` / ``asked_to`` / ``asked_by``.

    ``exclude_docs`` leaves documents out by id (a dossier leaves out the set's own answer).
    """

    vergaderjaar: str | None = None
    ministry: str | None = None
    party: str | None = None
    date_from: str | None = None
    date_to: str | None = None
    exclude_docs: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        for name in ("date_from", "date_to"):
            value = getattr(self, name)
            if value:
                _check_date(value, name)
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise QueryError(f"date range is empty: {self.date_from} is after {self.date_to}")
        if self.vergaderjaar and not re.fullmatch(r"\d{4}\s*[–-]\s*\d{4}", self.vergaderjaar):
            raise QueryError(f"vergaderjaar {self.vergaderjaar!r} is not like 2023-2024")

    @property
    def active(self) -> bool:
        """Whether any field is set."""
        return any(getattr(self, name) for name in self.__dataclass_fields__)

    def matches(self, doc: DocRecord) -> bool:
        """Whether a document passes every set field."""
        meta = doc.meta
        if doc.doc_id in self.exclude_docs:
            return False
        if self.vergaderjaar and _year(meta.vergaderjaar) != _year(self.vergaderjaar):
            return False
        if self.ministry and not _ministry_matches(
                self.ministry, meta.ministries or (meta.answered_by or "", meta.asked_to or "")):
            return False
        if self.party and not _party_matches(self.party, meta.parties, meta.asked_by):
            return False
        when = meta.date_received or meta.date_submitted
        if (self.date_from or self.date_to) and not when:
            return False
        if self.date_from and when and when < self.date_from:
            return False
        return not (self.date_to and when and when > self.date_to)


def _check_date(value: str, name: str) -> None:
    try:
        date.fromisoformat(value)
    except ValueError:
        raise QueryError(f"{name} {value!r} is not a date like 2024-09-02") from None
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise QueryError(f"{name} {value!r} is not a date like 2024-09-02")


def _year(value: str | None) -> str:
    return re.sub(r"\s*[–-]\s*", "-", value or "")


def _contains(haystack: str | None, needle: str) -> bool:
    return needle.casefold() in (haystack or "").casefold()


def _ministry_matches(wanted: str, ministries: tuple[str, ...]) -> bool:
    needles = {wanted.strip(), expand_ministry(wanted.strip())}
    return any(_contains(m, n) for m in ministries for n in needles if n)


def _party_matches(wanted: str, parties: tuple[str, ...], asked_by: str | None) -> bool:
    key = party_key(wanted)
    if parties:
        return any(party_key(p) == key or _contains(p, wanted.strip()) for p in parties)
    return _contains(asked_by, wanted.strip())
