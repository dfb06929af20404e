"""The Tweede Kamer OData v4 queries fetch makes, and their answers as typed pages.

The listing (see :func:`document_filter`; paged by value, :mod:`rag.opendata.keyset`)::

    Document?$filter=<kinds, dates, deletions>&$orderby=ApiGewijzigdOp,Id
        &$expand=Zaak($expand=ZaakActor),DocumentActor,
                 HuidigeDocumentVersie($expand=DocumentPublicatie)

- A first run lists ``Verwijderd eq false`` documents of the chosen kinds, dated
  ``--since``/``--until`` on ``Datum``. ``Datum`` is local midnight in Dutch time
  (``2024-06-03T00:00:00+02:00``), so the bounds are the moments those days begin in
  Europe/Amsterdam, written in UTC (:func:`rag.opendata.moments.day_start`).
- A delta run lists everything whose ``ApiGewijzigdOp`` is at or after the cursor, and
  includes deleted entities (``Verwijderd eq true``) whatever their kind or date: a deleted
  entity's other fields are null, and a deletion of a document fetch never wrote is ignored.
- ``ApiGewijzigdOp``, not ``GewijzigdOp``: the first is when a record became visible in the
  API, the second when the source system changed it (the service's own definitions, quoted
  in ``TweedeKamerDerStaten-Generaal/OpenDataPortaal`` issue 83). A record can become visible
  long after its ``GewijzigdOp`` (3 % of 58,249 recorded Document rows more than two days
  later, up to 302 days), so a cursor on ``GewijzigdOp`` passes over it for good.

Besides the listing: :func:`list_xml_publications` (official XML files published since a
moment: the documents fetch holds as PDF or Word whose XML has appeared since, which the
document's own timestamps do not always show) and :func:`documents_by_id`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from rag.errors import FetchError
from rag.opendata.entity import KINDS, BadEntity, TkDocument, parse_entity
from rag.opendata.http import Client
from rag.opendata.ids import TK_API_URL
from rag.opendata.keyset import FIELD, list_by_value
from rag.opendata.moments import day_start, stamp

API_URL = TK_API_URL
EXPAND = ("Zaak($expand=ZaakActor),DocumentActor,"
          "HuidigeDocumentVersie($expand=DocumentPublicatie)")
BY_ID = 20  # Ids per query of documents_by_id: keeps the URL short


@dataclass(frozen=True)
class Query:
    """Which documents to list."""

    kinds: tuple[str, ...] = ("answers",)  # keys of rag.opendata.entity.KINDS
    since: date | None = None
    until: date | None = None
    changed_since: str | None = None  # a stamp of ApiGewijzigdOp; None for a full listing


@dataclass(frozen=True)
class Page:
    """Part of a listing: the entities that parsed, and those that did not."""

    documents: tuple[TkDocument, ...]
    bad: tuple[BadEntity, ...]
    total: int | None  # @odata.count of the whole listing, when the service gives it


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def document_filter(query: Query) -> str:
    """The ``$filter`` expression for ``query`` (see the module docstring); the keyset
    paging adds its own bound on ``ApiGewijzigdOp``."""
    unknown = [k for k in query.kinds if k not in KINDS]
    if unknown or not query.kinds:
        raise FetchError(f"unknown kind {', '.join(unknown) or '(none)'}; "
                         f"choose from {', '.join(KINDS)}")
    soorten = [s for k in query.kinds for s in KINDS[k]]
    wanted = ["(" + " or ".join(f"Soort eq {_quote(s)}" for s in soorten) + ")"]
    if query.since:
        wanted.append(f"Datum ge {day_start(query.since)}")
    if query.until:
        wanted.append(f"Datum lt {day_start(query.until + timedelta(days=1))}")
    selection = " and ".join(wanted)
    if query.changed_since is None:
        return f"Verwijderd eq false and {selection}"
    return (f"{FIELD} ge {query.changed_since} and "
            f"(Verwijderd eq true or (Verwijderd eq false and {selection}))")


def _page(rows: Iterable[object], total: int | None) -> Page:
    documents, bad = [], []
    for row in rows:
        try:
            if not isinstance(row, Mapping):
                raise BadEntity("an entity that is not a JSON object", None, None)
            documents.append(parse_entity(row))
        except BadEntity as exc:
            bad.append(exc)
    return Page(tuple(documents), tuple(bad), total)


def list_documents(client: Client, query: Query, api_url: str = API_URL) -> Iterator[Page]:
    """The listing, page by page, each document once (see :mod:`rag.opendata.keyset`)."""
    url = f"{api_url.rstrip('/')}/Document"
    for batch in list_by_value(client, url, document_filter(query), {"$expand": EXPAND}):
        yield _page(batch.rows, batch.total)


def documents_by_id(client: Client, tk_ids: Iterable[str],
                    api_url: str = API_URL) -> Iterator[Page]:
    """The documents with these Ids (``Id eq …``, a few per query), expanded as listed."""
    url = f"{api_url.rstrip('/')}/Document"
    wanted = list(dict.fromkeys(tk_ids))
    for start in range(0, len(wanted), BY_ID):
        where = " or ".join(f"Id eq {tk_id}" for tk_id in wanted[start:start + BY_ID])
        body = client.get_json(url, {"$filter": where, "$expand": EXPAND})
        if not isinstance(body, Mapping) or not isinstance(body.get("value"), list):
            raise FetchError(f"{url}: not an OData collection (no 'value' list)")
        yield _page(body["value"], None)


@dataclass(frozen=True)
class PublishedXml:
    """An official XML file the Tweede Kamer lists, by the document version it belongs to."""

    version_id: str  # DocumentVersie_Id
    api_stamp: str  # its ApiGewijzigdOp, as a stamp


def list_xml_publications(client: Client, since: str,
                          api_url: str = API_URL) -> Iterator[PublishedXml]:
    """Official XML files of Aanhangsel publications listed (or changed) at or after the
    stamp ``since``."""
    url = f"{api_url.rstrip('/')}/DocumentPublicatie"
    where = (f"{FIELD} ge {since} and Verwijderd eq false and DocumentType eq 'Xml' and "
             "startswith(Identifier,'ah-')")
    select = {"$select": f"Id,DocumentVersie_Id,{FIELD},Verwijderd"}
    for batch in list_by_value(client, url, where, select):
        for row in batch.rows:
            version, when = row.get("DocumentVersie_Id"), row.get(FIELD)
            if isinstance(version, str) and isinstance(when, str):
                try:
                    published = PublishedXml(version, stamp(when))
                except FetchError:
                    continue
                yield published
