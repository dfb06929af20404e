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
  Buitenlandse Zaken") -> ``answered_by`` ("Minister Bruins Slot (Buitenlandse Zaken)"),
  ``answerers``; ``ministries`` answering first, then those asked;
- ``official_urls.html`` -> ``official_url``, the Tweede Kamer ``Id`` -> ``tk_document_id``.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from rag.errors import ParseError
from rag.ingest.people import answerers_and_ministries, ministries_addressed
from rag.types import DocumentMeta

SIDECAR_SUFFIX = ".meta.json"
FORMAT = "vraagbaak-opendata/1"
MAX_SIDECAR_BYTES = 1024 * 1024
_YEAR = re.compile(r"^(\d{4})\s*[-–]\s*(\d{4})$")
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ROLE = re.compile(r"^(?P<role>minister-president|minister|staatssecretaris)\b"
                   r"(?:\s+(?:van|voor)\s+(?P<portfolio>.+))?$", re.I)
_INITIALS = re.compile(r"^(?:[A-Z][a-z]{0,2}\.)+$")


def sidecar_for(path: Path) -> Path:
    """``…/ah-tk-20232024-1178.pdf`` -> ``…/ah-tk-20232024-1178.meta.json``."""
    return path.with_name(path.stem + SIDECAR_SUFFIX)


def is_sidecar(name: str) -> bool:
    """True for a file name of the sidecar form."""
    return name.lower().endswith(SIDECAR_SUFFIX)


def surname(naam: str) -> str:
    """The surname as a citation writes it: ``"J.Z.C.M. Klaver"`` -> ``"Klaver"``,
    ``"H. van der Plas"`` -> ``"Van der Plas"``."""
    words = naam.split()
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


def _answered_by(signatories: list[dict[str, Any]]) -> str | None:
    """``Minister Bruins Slot (Buitenlandse Zaken)``, joined with " en van " for several, as
    the Aanhangsel intro writes it (and as `rag.ingest.people` reads it)."""
    phrases = []
    for person in signatories:
        m = _ROLE.match(" ".join(str(person.get("functie") or "").split()))
        if not (m and person.get("naam")):
            continue
        who = f"{m['role'][:1].upper()}{m['role'][1:].lower()} {surname(person['naam'])}"
        phrases.append(f"{who} ({m['portfolio']})" if m["portfolio"] else who)
    return " en van ".join(phrases) if phrases else None


def _ministries(functions: list[str]) -> list[str]:
    found: list[str] = []
    for functie in functions:
        found.extend(ministries_addressed("de " + functie))
    return found


def meta_fields(data: dict[str, Any]) -> dict[str, Any]:
    """The DocumentMeta fields a sidecar states (see the module docstring)."""
    values: dict[str, Any] = {}
    if m := _YEAR.match(str(data.get("vergaderjaar") or "")):
        values["vergaderjaar"] = f"{m[1]}–{m[2]}"
    if isinstance(data.get("ah_nr"), int) and data["ah_nr"] > 0:
        values["ah_nr"] = data["ah_nr"]
    for key, field in (("zaak_nummer", "zaak_nr"), ("title", "title"),
                       ("official_url", "official_url"), ("tk_document_id", "tk_document_id")):
        if isinstance(data.get(key), str) and data[key].strip():
            values[field] = " ".join(data[key].split())
    received = data.get("datum_ontvangst") or data.get("datum")
    if isinstance(received, str) and _ISO.match(received):
        values["date_received"] = received
    if isinstance(data.get("vragen_ingediend"), str) and _ISO.match(data["vragen_ingediend"]):
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
    signatories = [p for p in data.get("ondertekenaars") or [] if isinstance(p, dict)]
    answered_by = _answered_by(signatories)
    if answered_by:
        values["answered_by"] = answered_by
        values["answerers"] = answerers_and_ministries(answered_by)[0]
    ministries = _ministries([str(p.get("functie") or "") for p in signatories]
                             + [p["functie"] for p in asked])
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
