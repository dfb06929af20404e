"""The sidecar ``<id>.meta.json``: the open-data metadata of a fetched file.

``rag fetch`` writes one beside every file (``ah-tk-20232024-1178.pdf`` and
``ah-tk-20232024-1178.meta.json``, through `rag.opendata.sidecar`); ``rag build`` merges it
into the document's metadata with :func:`merge_sidecar`. The sidecar wins over what the text
heuristics of :mod:`rag.ingest.meta` read, field by field, wherever it states a value; where it
is silent the text's value stays. Reading it needs nothing of the fetch machinery.

How the open-data fields become :class:`~rag.types.DocumentMeta` fields:

- ``vergaderjaar`` "2023-2024" -> "2023–2024" (en dash, as citations write it), ``ah_nr``,
  ``zaak_nr``, ``title`` (the document's ``Onderwerp``), ``date_received`` (``DatumOntvangst``,
  else the document's ``Datum``), ``date_submitted`` (the question set's ``GestartOp``);
- the askers (``ZaakActor`` "Indiener"/"Medeindiener": ``ActorNaam``, ``ActorFractie``) ->
  ``asked_by`` ("het lid Klaver (GroenLinks-PvdA)"), ``askers`` (surnames), ``parties``;
- those asked (``ZaakActor`` "Gericht aan", ``Functie``) -> ``asked_to``;
- the signing ministers (``DocumentActor`` with a ``Functie`` such as "minister van
  Buitenlandse Zaken") -> ``answerers`` (role, surname, ministry), built from the structured
  rows and never read back from text; ``answered_by`` ("Minister Bruins Slot (Buitenlandse
  Zaken)") is written from those answerers, and ``ministries`` lists theirs first, then those
  of the people asked;
- ``official_urls.html`` -> ``official_url``, the Tweede Kamer ``Id`` -> ``tk_document_id``.

Fetch also keeps its bookkeeping in the corpus folder, in a hidden folder that carries
:data:`FETCH_MARKER`; :func:`is_fetch_state` recognises it by that marker, so that the build
passes over it without reporting it (a user's own hidden folders are still reported).
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from rag.errors import ParseError
from rag.government import expand_ministry
from rag.ingest.patterns import ISO_DATE, YEARS
from rag.ingest.people import ROLE, ministries_addressed
from rag.types import Answerer, DocumentMeta

SIDECAR_SUFFIX = ".meta.json"
FORMAT = "vraagbaak-opendata/1"
MAX_SIDECAR_BYTES = 1024 * 1024
# The file rag fetch writes into its state folder, and the first line it writes there.
FETCH_MARKER = "FETCH-STATE"
FETCH_MARKER_LINE = b"vraagbaak rag fetch state"
_INITIALS = re.compile(r"^(?:[A-Z][a-z]{0,2}\.)+$")
_GIVEN_NAME = re.compile(r"\s*\([^()]*\)")  # "A.P.C. (Tony) van Dijck": the name in use
_PORTFOLIO = re.compile(r"\s+(?:van|voor)\s+(?P<portfolio>.+)$")


def sidecar_for(path: Path) -> Path:
    """``…/ah-tk-20232024-1178.pdf`` -> ``…/ah-tk-20232024-1178.meta.json``."""
    return path.with_name(path.stem + SIDECAR_SUFFIX)


def is_sidecar(name: str) -> bool:
    """True for a file name of the sidecar form."""
    return name.lower().endswith(SIDECAR_SUFFIX)


def is_fetch_state(folder: Path) -> bool:
    """True for the state folder of `rag fetch`: it holds :data:`FETCH_MARKER` (a regular
    file, not a link) starting with :data:`FETCH_MARKER_LINE`."""
    marker = folder / FETCH_MARKER
    try:
        if marker.is_symlink() or not marker.is_file():
            return False
        with marker.open("rb") as fh:
            return fh.read(len(FETCH_MARKER_LINE)) == FETCH_MARKER_LINE
    except OSError:
        return False


def surname(naam: str) -> str:
    """The surname as a citation writes it: ``"J.Z.C.M. Klaver"`` -> ``"Klaver"``,
    ``"H. van der Plas"`` -> ``"Van der Plas"``, ``"A.P.C. (Tony) van Dijck"`` ->
    ``"Van Dijck"`` (the open data puts the name in use in brackets)."""
    words = _GIVEN_NAME.sub("", naam).split()
    while len(words) > 1 and _INITIALS.match(words[0]):
        words = words[1:]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} en {items[-1]}"


def _asked_by(indieners: list[dict[str, Any]]) -> str | None:
    """``het lid Klaver (GroenLinks-PvdA)``, ``de leden Aartsen (VVD) en Bontenbal (CDA)``."""
    people = [(surname(p["naam"]), p.get("fractie")) for p in indieners if p.get("naam")]
    if not people:
        return None
    parts = [f"{name} ({party})" if party else name for name, party in people]
    return ("het lid " if len(parts) == 1 else "de leden ") + _join(parts)


def _signatory(person: dict[str, Any]) -> tuple[Answerer, str] | None:
    """A signatory row as an :class:`Answerer` with the whole portfolio ("Volksgezondheid,
    Welzijn en Sport – Jeugd, Preventie en Sport"), or None when the row names no one in
    office or no ministry."""
    functie = " ".join(str(person.get("functie") or "").split())
    naam = person.get("naam")
    m = ROLE.match(functie)
    if not (m and isinstance(naam, str) and naam.strip()):
        return None
    role, rest = m.group(0).lower(), functie[m.end():]
    if portfolio := _PORTFOLIO.match(rest):
        ministry = expand_ministry(portfolio["portfolio"])
    elif not rest and role == "minister-president":
        ministry = "Algemene Zaken"
    else:  # "ministerie …", or an office without a portfolio
        return None
    main = re.split(r"\s+[–-]\s+", ministry)[0]  # the ministry, not its sub-portfolio
    return Answerer(role, surname(naam), main), ministry


def _answered_by(signed: dict[Answerer, str]) -> str:
    """``Minister Bruins Slot (Buitenlandse Zaken)``, joined with " en van " for several, as
    the Aanhangsel intro writes it (with the whole portfolio)."""
    return " en van ".join(f"{a.role[:1].upper()}{a.role[1:]} {a.name} ({portfolio})"
                           for a, portfolio in signed.items())


def meta_fields(data: dict[str, Any]) -> dict[str, Any]:
    """The DocumentMeta fields a sidecar states (see the module docstring)."""
    values: dict[str, Any] = {}
    if m := YEARS.fullmatch(str(data.get("vergaderjaar") or "").strip()):
        values["vergaderjaar"] = f"{m[1]}–{m[2]}"
    if isinstance(data.get("ah_nr"), int) and data["ah_nr"] > 0:
        values["ah_nr"] = data["ah_nr"]
    for key, field in (("zaak_nummer", "zaak_nr"), ("title", "title"),
                       ("official_url", "official_url"), ("tk_document_id", "tk_document_id")):
        if isinstance(data.get(key), str) and data[key].strip():
            values[field] = " ".join(data[key].split())
    received = data.get("datum_ontvangst") or data.get("datum")
    if isinstance(received, str) and ISO_DATE.match(received):
        values["date_received"] = received
    if isinstance(data.get("vragen_ingediend"), str) and ISO_DATE.match(data["vragen_ingediend"]):
        values["date_submitted"] = data["vragen_ingediend"]
    indieners = [p for p in data.get("indieners") or [] if isinstance(p, dict)]
    if asked_by := _asked_by(indieners):
        values["asked_by"] = asked_by
        values["askers"] = tuple(dict.fromkeys(surname(p["naam"]) for p in indieners
                                               if p.get("naam")))
        parties = [p["fractie"] for p in indieners if p.get("fractie")]
        if parties:
            values["parties"] = tuple(dict.fromkeys(parties))
    asked = [p for p in data.get("gericht_aan") or [] if isinstance(p, dict) and p.get("functie")]
    if asked:
        values["asked_to"] = "de " + _join([" ".join(p["functie"].split()) for p in asked])
    signed: dict[Answerer, str] = {}  # in the order signed, each once, with the portfolio
    for person in data.get("ondertekenaars") or []:
        if isinstance(person, dict) and (found := _signatory(person)):
            signed.setdefault(*found)
    if signed:
        values["answered_by"] = _answered_by(signed)
        values["answerers"] = tuple(signed)
    ministries = list(signed.values())
    for person in asked:
        ministries.extend(ministries_addressed("de " + person["functie"]))
    if ministries:
        values["ministries"] = tuple(dict.fromkeys(ministries))
    return values


def read_sidecar(path: Path) -> dict[str, Any]:
    """The parsed sidecar; any problem is a :class:`ParseError` naming the file."""
    try:
        if path.stat().st_size > MAX_SIDECAR_BYTES:
            raise ParseError(f"{path.name}: too large for a sidecar")
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ParseError(f"{path.name}: unreadable sidecar ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ParseError(f"{path.name}: not a sidecar of rag fetch (format {FORMAT!r})")
    return data


def merge_sidecar(meta: DocumentMeta, sidecar_path: Path) -> DocumentMeta:
    """``meta`` with every field the sidecar states replaced by the sidecar's value."""
    return replace(meta, **meta_fields(read_sidecar(sidecar_path)))
