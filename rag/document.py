"""The nouns of parsing: a document, its metadata and its numbered question/answer blocks."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from enum import StrEnum


class DocKind(StrEnum):
    """What a parsed file turned out to be; only ANSWERS documents are indexed."""

    ANSWERS = "antwoord"  # an Aanhangsel document with answers
    QUESTIONS = "vragen"  # questions as submitted, no answers yet
    NOTICE = "mededeling"  # a postponement notice ("Mededeling ... uitstel")
    UNKNOWN = "onbekend"  # no recognisable question/answer structure


@dataclass(frozen=True)
class DocumentMeta:
    """Whatever metadata the text gives; every field is optional because sources vary.

    Dates are ISO strings (``2024-09-02``); ``vergaderjaar`` uses an en dash (``2023–2024``)
    as the official citation does.
    """

    title: str | None = None  # "Antwoord op vragen van het lid X over <subject>"
    vergaderjaar: str | None = None
    ah_nr: int | None = None
    zaak_nr: str | None = None
    asked_by: str | None = None  # e.g. "de leden Aartsen en Rajkowski (VVD)"
    asked_to: str | None = None  # e.g. "de Minister voor Sociale Zaken en Werkgelegenheid"
    answered_by: str | None = None  # e.g. "Minister Van Hijum (Sociale Zaken en Werkgelegenheid)"
    date_submitted: str | None = None
    date_received: str | None = None
    subject: str | None = None  # the "over ..." part: "de huiverigheid van werkgevers om ..."
    # structured forms of the people above, for filters (see rag.meta for how they are read)
    askers: tuple[str, ...] = ()  # surnames as written: ("Aartsen", "Rajkowski")
    parties: tuple[str, ...] = ()  # as written: ("VVD",), ("GroenLinks-PvdA", "D66")
    answerers: tuple[str, ...] = ()  # e.g. ("Minister Van Hijum", "Minister Beljaarts")
    ministries: tuple[str, ...] = ()  # answering, co-answering ("mede namens"), then asked
    # from a fetched file's sidecar (rag.opendata.sidecar): the official page, the TK id
    official_url: str | None = None  # "https://zoek.officielebekendmakingen.nl/ah-….html"
    tk_document_id: str | None = None  # the Tweede Kamer open-data Document Id (a GUID)

    def __post_init__(self) -> None:
        # JSON gives lists back; tuples keep the record hashable and comparable after a reload
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, list):
                object.__setattr__(self, f.name, tuple(value))


@dataclass(frozen=True)
class QABlock:
    """One numbered Vraag with its Antwoord; a combined answer carries several numbers.

    ``question`` and ``answer`` are the cleaned text as stored in the index: quotes are
    verbatim substrings of them.
    """

    vraag: tuple[int, ...]
    question: str
    answer: str


@dataclass(frozen=True)
class Document:
    """One parsed file: its id (the file stem), kind, metadata and blocks."""

    doc_id: str
    source: str  # path relative to the corpus folder
    kind: DocKind
    meta: DocumentMeta
    blocks: tuple[QABlock, ...] = ()
    anomalies: tuple[str, ...] = field(default=())  # e.g. "gap in numbering: 3 -> 5"
