"""Writing the sidecar ``<id>.meta.json`` of a fetched file (read at build time by
`rag.ingest.sidecar`, which documents its fields)."""

from __future__ import annotations

import json
from typing import Any

from rag.ingest.sidecar import FORMAT, meta_fields
from rag.opendata import ids
from rag.opendata.entity import Actor, TkDocument


def _people(actors: tuple[Actor, ...]) -> list[dict[str, str]]:
    return [{k: v for k, v in (("naam", a.naam), ("fractie", a.fractie), ("functie", a.functie),
                               ("relatie", a.relatie)) if v} for a in actors]


def sidecar_json(doc: TkDocument, doc_id: str, file_name: str, source: dict[str, str],
                 official_urls: dict[str, str | None]) -> dict[str, Any]:
    """The sidecar of a fetched file: the open-data metadata, in the form
    :func:`meta_fields` reads. Deterministic: fetching the same version twice gives the
    same bytes."""
    data: dict[str, Any] = {
        "format": FORMAT, "doc_id": doc_id, "file": file_name,
        "tk_document_id": doc.id, "document_nummer": doc.document_nummer, "soort": doc.soort,
        "gewijzigd_op": doc.gewijzigd_op, "vergaderjaar": doc.vergaderjaar,
        "aanhangselnummer": doc.aanhangselnummer, "ah_nr": ids.ah_number(doc_id),
        "publication_id": doc.publication_id, "zaak_nummer": doc.zaak_nummer,
        "title": doc.title, "titel": doc.titel, "onderwerp": doc.onderwerp,
        "datum": doc.datum, "datum_ontvangst": doc.datum_ontvangst,
        "vragen_ingediend": doc.zaak_gestart_op,
        "indieners": _people(doc.indieners), "gericht_aan": _people(doc.gericht_aan),
        "ondertekenaars": _people(doc.ondertekenaars),
        "official_url": official_urls.get("html"), "official_urls": official_urls,
        "source": source,
    }
    data["ministeries"] = list(meta_fields(data).get("ministries", ()))
    return data


def sidecar_bytes(data: dict[str, Any]) -> bytes:
    """The sidecar as written to disk (UTF-8 JSON, keys in a fixed order)."""
    return (json.dumps(data, ensure_ascii=False, indent=1) + "\n").encode("utf-8")
