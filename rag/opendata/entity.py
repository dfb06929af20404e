"""A Tweede Kamer ``Document`` entity (OData v4 JSON) as a typed, frozen record.

The fields are those of the published information model (opendata.tweedekamer.nl,
"Document"): ``Id``, ``Soort``, ``DocumentNummer``, ``Titel``, ``Onderwerp``, ``Datum``,
``DatumOntvangst``, ``Vergaderjaar``, ``Kamer``, ``Aanhangselnummer``, ``ContentType``,
``ContentLength``, ``GewijzigdOp``, ``Verwijderd``; and, expanded, the question set
(``Zaak`` with its ``ZaakActor`` rows: ``Relatie`` "Indiener"/"Medeindiener"/"Gericht aan",
``ActorNaam``, ``ActorFractie``, ``Functie``), the signatories (``DocumentActor``) and the
current version (``HuidigeDocumentVersie`` with ``ExterneIdentifier``, the publication id).

Expanded rows marked ``Verwijderd`` are left out. Real answer documents have ``Titel`` null
and their title in ``Onderwerp`` ("Antwoord op vragen van het lid … over …"), so the title
is taken from ``Onderwerp`` first.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from rag.errors import FetchError
from rag.opendata import ids

ANSWERS = ("Antwoord schriftelijke vragen", "Antwoord schriftelijke vragen (nader)")
NOTICES = ("Mededeling (uitstel antwoord)",)
KINDS: dict[str, tuple[str, ...]] = {"answers": ANSWERS, "notices": NOTICES}
_ASKERS = ("indiener", "medeindiener")
_SIGNATORY_ROLES = ("minister", "staatssecretaris", "minister-president")


@dataclass(frozen=True)
class Actor:
    """A person on a question set or a document: who asked, who was asked, who signed."""

    naam: str
    fractie: str | None = None
    functie: str | None = None
    relatie: str | None = None


@dataclass(frozen=True)
class TkDocument:
    """The fields of a ``Document`` entity that fetch uses, checked and typed."""

    id: str
    gewijzigd_op: str  # as the API gives it, e.g. "2024-06-03T10:12:54.123+02:00"
    verwijderd: bool = False
    soort: str | None = None
    document_nummer: str | None = None
    titel: str | None = None
    onderwerp: str | None = None
    datum: str | None = None  # ISO date
    datum_ontvangst: str | None = None
    vergaderjaar: str | None = None  # "2023-2024"
    kamer: int | None = None  # 1 Eerste Kamer, 2 Tweede Kamer
    aanhangselnummer: str | None = None
    content_type: str | None = None
    content_length: int | None = None
    externe_identifier: str | None = None  # the publication id, where the API gives one
    zaak_nummer: str | None = None  # "2024Z18435"
    zaak_gestart_op: str | None = None
    indieners: tuple[Actor, ...] = ()
    gericht_aan: tuple[Actor, ...] = ()
    ondertekenaars: tuple[Actor, ...] = ()

    @property
    def house(self) -> str:
        """``tk`` or ``ek``, for the publication id."""
        return "ek" if self.kamer == 1 else "tk"

    @property
    def doc_id(self) -> str | None:
        """The file stem: ``ah-tk-<years>-<nr>`` from the Aanhangselnummer, else the
        publication id the API names; None when the document has neither."""
        derived = ids.ah_id(self.aanhangselnummer, self.house)
        if derived:
            return derived
        return ids.canonical_id(self.externe_identifier or "")

    @property
    def publication_id(self) -> str | None:
        """The id under which officielebekendmakingen.nl publishes it (may be ``ah-1234567``)."""
        named = ids.canonical_id(self.externe_identifier or "")
        if named and named.startswith("ah-"):
            return named
        return ids.ah_id(self.aanhangselnummer, self.house)

    @property
    def title(self) -> str | None:
        """The published title: ``Onderwerp`` for answers, else ``Titel``."""
        return self.onderwerp or self.titel


def parse_datetime(text: str) -> datetime:
    """A timestamp as the API writes it (offset or ``Z``, up to 7 decimals) as aware UTC."""
    value = text.strip().replace("Z", "+00:00")
    head, _, tail = value.partition(".")
    if tail:  # Python's parser takes at most 6 decimals
        digits = len(tail) - len(tail.lstrip("0123456789"))
        value = f"{head}.{tail[:min(digits, 6)]}{tail[digits:]}"
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise FetchError(f"unreadable timestamp {text!r}") from exc
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def _text(row: Mapping[str, Any], key: str) -> str | None:
    value = row.get(key)
    if value is None:
        return None
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        raise FetchError(f"{key} is {type(value).__name__}, not text")
    text = " ".join(str(value).split())
    return text or None


def _date(row: Mapping[str, Any], key: str) -> str | None:
    text = _text(row, key)
    return text[:10] if text and len(text) >= 10 and text[4] == "-" else None


def _int(row: Mapping[str, Any], key: str) -> int | None:
    value = row.get(key)
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _rows(value: object) -> list[Mapping[str, Any]]:
    """An expanded navigation property: a list, a single entity or null; deleted rows out."""
    rows = value if isinstance(value, list) else [value] if isinstance(value, Mapping) else []
    return [r for r in rows if isinstance(r, Mapping) and not r.get("Verwijderd", False)]


def _actor(row: Mapping[str, Any]) -> Actor | None:
    naam = _text(row, "ActorNaam")
    if not naam:
        return None
    return Actor(naam, _text(row, "ActorFractie"), _text(row, "Functie"), _text(row, "Relatie"))


def _question_set(zaken: list[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    for zaak in zaken:
        if _text(zaak, "Soort") == "Schriftelijke vragen":
            return zaak
    return zaken[0] if zaken else None


def parse_entity(row: Mapping[str, Any]) -> TkDocument:
    """Check and type one ``Document`` entity; raises :class:`FetchError` when it lacks an
    ``Id`` or ``GewijzigdOp`` or carries a value of the wrong type."""
    try:
        ident = _text(row, "Id")
        changed = _text(row, "GewijzigdOp")
        if not ident or not changed:
            raise FetchError("a Document without Id or GewijzigdOp")
        parse_datetime(changed)
        zaak = _question_set(_rows(row.get("Zaak")))
        actors = [a for a in (_actor(r) for r in _rows(zaak.get("ZaakActor"))) if a] \
            if zaak else []
        signatories = [a for a in (_actor(r) for r in _rows(row.get("DocumentActor"))) if a
                       and (a.functie or "").lower().startswith(_SIGNATORY_ROLES)]
        version = next(iter(_rows(row.get("HuidigeDocumentVersie"))), None)
        return TkDocument(
            id=ident, gewijzigd_op=changed, verwijderd=row.get("Verwijderd") is True,
            soort=_text(row, "Soort"), document_nummer=_text(row, "DocumentNummer"),
            titel=_text(row, "Titel"), onderwerp=_text(row, "Onderwerp"),
            datum=_date(row, "Datum"), datum_ontvangst=_date(row, "DatumOntvangst"),
            vergaderjaar=_text(row, "Vergaderjaar"), kamer=_int(row, "Kamer"),
            aanhangselnummer=_text(row, "Aanhangselnummer"),
            content_type=_text(row, "ContentType"), content_length=_int(row, "ContentLength"),
            externe_identifier=_text(version, "ExterneIdentifier") if version else None,
            zaak_nummer=_text(zaak, "Nummer") if zaak else None,
            zaak_gestart_op=_date(zaak, "GestartOp") if zaak else None,
            indieners=tuple(a for a in actors if (a.relatie or "").lower() in _ASKERS),
            gericht_aan=tuple(a for a in actors if (a.relatie or "").lower() == "gericht aan"),
            ondertekenaars=tuple(signatories),
        )
    except FetchError as exc:
        raise FetchError(f"Document {row.get('Id', '?')}: {exc}") from None
