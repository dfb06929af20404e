"""Metadata filters staff use to narrow a search: year, ministry, party, date range."""

from __future__ import annotations

from dataclasses import dataclass

from rag.index import DocRecord


@dataclass(frozen=True)
class Filter:
    """All set fields must match; text fields match case-insensitively as substrings.

    ``vergaderjaar`` accepts ``2023–2024`` or ``2023-2024``; dates are ISO strings and are
    compared with the date the answer was received (else submitted).
    """

    vergaderjaar: str | None = None
    ministry: str | None = None
    party: str | None = None
    date_from: str | None = None
    date_to: str | None = None

    @property
    def active(self) -> bool:
        """Whether any field is set."""
        return any(getattr(self, name) for name in self.__dataclass_fields__)

    def matches(self, doc: DocRecord) -> bool:
        """Whether a document passes every set field."""
        meta = doc.meta
        if self.vergaderjaar and (meta.vergaderjaar or "").replace("–", "-") != (
                self.vergaderjaar.replace("–", "-")):
            return False
        if self.ministry and not _contains(f"{meta.answered_by} {meta.asked_to}", self.ministry):
            return False
        if self.party and not _contains(meta.asked_by, f"{self.party}"):
            return False
        date = meta.date_received or meta.date_submitted
        if (self.date_from or self.date_to) and not date:
            return False
        if self.date_from and date and date < self.date_from:
            return False
        return not (self.date_to and date and date > self.date_to)


def _contains(haystack: str | None, needle: str) -> bool:
    return needle.casefold() in (haystack or "").casefold()
