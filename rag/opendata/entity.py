"""A Tweede Kamer ``Document`` entity (OData v4 JSON) as a typed, frozen record.

The fields are those of the service's ``$metadata`` (recorded in ``tommyvanderwal/motiematcher``,
``api_metadata.xml``): ``Id``, ``Soort``, ``DocumentNummer``, ``Titel``, ``Onderwerp``,
``Datum``, ``DatumOntvangst``, ``Vergaderjaar``, ``Kamer``, ``Aanhangselnummer``,
``ContentType``, ``ContentLength``, ``GewijzigdOp``, ``ApiGewijzigdOp``, ``Verwijderd``; and,
expanded, the question set (``Zaak`` with its ``ZaakActor`` rows: ``Relatie``
"Indiener"/"Medeindiener"/"Gericht aan", ``ActorNaam``, ``ActorFractie``, ``Functie``), the
signatories (``DocumentActor``) and the current version (``HuidigeDocumentVersie``, a single
entity, with ``ExterneIdentifier``, the publication id, and its ``DocumentPublicatie`` rows:
the files of the official publication, ``DocumentType`` "Xml", "Pdf", "Html", "Odt").

Expanded rows marked ``Verwijderd`` are left out. A deleted ``Document`` comes back with
every field null but ``Id``, the two timestamps and ``Verwijderd``. Real answer documents have
``Titel`` null and their title in ``Onderwerp`` ("Antwoord op vragen van het lid … over …"),
so the title is taken from ``Onderwerp`` first.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rag.errors import FetchError
from rag.ingest.people import ROLE
from rag.opendata import ids
from rag.opendata.moments import stamp

ANSWERS = ("Antwoord schriftelijke vragen", "Antwoord schriftelijke vragen (nader)")
NOTICES = ("Mededeling (uitstel antwoord)",)
KINDS: dict[str, tuple[str, ...]] = {"answers": ANSWERS, "notices": NOTICES}
_ASKERS = ("indiener", "medeindiener")


class BadEntity(FetchError):
    """A row that cannot be read; carries what could be read of its key."""

    def __init__(self, message: str, tk_id: str | None, api_stamp: str | None) -> None:
        super().__init__(message)
        self.tk_id = tk_id
        self.api_stamp = api_stamp


@dataclass(frozen=True)
class Actor:
    """A person on a question set or a document: who asked, who was asked, who signed."""

    naam: str
    fractie: str | None = None
    functie: str | None = None
    relatie: str | None = None


@dataclass(frozen=True)
class Publication:
    """One file of the official publication, as the Tweede Kamer lists it
    (``DocumentPublicatie``; its bytes are ``DocumentPublicatie(<Id>)/Resource``)."""

    id: str
    kind: str  # DocumentType in lower case: "xml", "pdf", "html", "odt"
    identifier: str | None = None  # the publication id: "ah-tk-20232024-2096"
    content_length: int | None = None  # bytes


@dataclass(frozen=True)
class TkDocument:
    """The fields of a ``Document`` entity that fetch uses, checked and typed."""

    id: str
    gewijzigd_op: str  # as the API gives it, e.g. "2024-06-03T10:12:54.123+02:00"
    api_gewijzigd_op: str  # when it became visible in the API, as a moments.stamp
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
    version_id: str | None = None  # the Id of HuidigeDocumentVersie
    externe_identifier: str | None = None  # the publication id, where the API gives one
    # the official publication's files; None when the listing did not expand them (then
    # whether the official XML exists is unknown), () when there are none (yet)
    publications: tuple[Publication, ...] | None = None
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

    def publication(self, kind: str) -> Publication | None:
        """The listed publication file of ``kind`` ("xml", "pdf"), if any."""
        return next((p for p in self.publications or () if p.kind == kind), None)


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


def _publications(version: Mapping[str, Any] | None) -> tuple[Publication, ...] | None:
    """The files of the official publication, or None when they were not expanded."""
    if version is None or "DocumentPublicatie" not in version:
        return None
    found = []
    for row in _rows(version.get("DocumentPublicatie")):
        ident, kind = _text(row, "Id"), _text(row, "DocumentType")
        if ident and kind:
            found.append(Publication(ident, kind.lower(), _text(row, "Identifier"),
                                     _int(row, "ContentLength")))
    return tuple(found)


def _signs(actor: Actor) -> bool:
    """A signatory in office: a ``Functie`` that starts with a role ("minister van …")."""
    functie = actor.functie or ""
    m = ROLE.match(functie)
    return m is not None and functie[m.end():m.end() + 1] in ("", " ")


def parse_entity(row: Mapping[str, Any]) -> TkDocument:
    """Check and type one ``Document`` entity; raises :class:`BadEntity` when it lacks an
    ``Id``, ``GewijzigdOp`` or ``ApiGewijzigdOp`` or carries a value of the wrong type."""
    raw_id = row.get("Id")
    tk_id = raw_id.strip() if isinstance(raw_id, str) and raw_id.strip() else None
    api_stamp: str | None = None
    try:
        raw_stamp = row.get("ApiGewijzigdOp")
        api_stamp = stamp(raw_stamp) if isinstance(raw_stamp, str) else None
        changed = _text(row, "GewijzigdOp")
        if not tk_id or not changed or not api_stamp:
            raise FetchError("a Document without Id, GewijzigdOp or ApiGewijzigdOp")
        stamp(changed)  # readable
        zaak = _question_set(_rows(row.get("Zaak")))
        actors = [a for a in (_actor(r) for r in _rows(zaak.get("ZaakActor"))) if a] \
            if zaak else []
        signatories = [a for a in (_actor(r) for r in _rows(row.get("DocumentActor")))
                       if a and _signs(a)]
        version = next(iter(_rows(row.get("HuidigeDocumentVersie"))), None)
        return TkDocument(
            id=tk_id, gewijzigd_op=changed, api_gewijzigd_op=api_stamp,
            verwijderd=row.get("Verwijderd") is True,
            soort=_text(row, "Soort"), document_nummer=_text(row, "DocumentNummer"),
            titel=_text(row, "Titel"), onderwerp=_text(row, "Onderwerp"),
            datum=_date(row, "Datum"), datum_ontvangst=_date(row, "DatumOntvangst"),
            vergaderjaar=_text(row, "Vergaderjaar"), kamer=_int(row, "Kamer"),
            aanhangselnummer=_text(row, "Aanhangselnummer"),
            content_type=_text(row, "ContentType"), content_length=_int(row, "ContentLength"),
            version_id=_text(version, "Id") if version else None,
            externe_identifier=_text(version, "ExterneIdentifier") if version else None,
            publications=_publications(version),
            zaak_nummer=_text(zaak, "Nummer") if zaak else None,
            zaak_gestart_op=_date(zaak, "GestartOp") if zaak else None,
            indieners=tuple(a for a in actors if (a.relatie or "").lower() in _ASKERS),
            gericht_aan=tuple(a for a in actors if (a.relatie or "").lower() == "gericht aan"),
            ondertekenaars=tuple(signatories),
        )
    except FetchError as exc:
        raise BadEntity(f"Document {tk_id or '?'}: {exc}", tk_id, api_stamp) from None
