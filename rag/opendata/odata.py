"""List ``Document`` entities from the Tweede Kamer OData v4 API, page by page.

The query (see :func:`document_params`)::

    Document?$filter=<kinds, dates, deletions>&$expand=Zaak($expand=ZaakActor),
        DocumentActor,HuidigeDocumentVersie&$orderby=GewijzigdOp,Id&$count=true

- Pages are followed through ``@odata.nextLink`` (250 entities a page); ``$top`` is never
  sent, because with ``$top`` the service returns no nextLink.
- A first run lists ``Verwijderd eq false`` documents of the chosen kinds, dated
  ``--since``/``--until`` (on ``Datum``).
- A delta run lists everything changed since the cursor (``GewijzigdOp ge …``) and includes
  deleted entities (``Verwijderd eq true``) whatever their kind or date: a deleted entity's
  other fields cannot be relied on, and a deletion of a document fetch never wrote is
  simply ignored.
- Ordering by ``GewijzigdOp`` makes the cursor safe to advance: every entity before the
  last one handled has been seen.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urljoin

from rag.errors import FetchError
from rag.opendata.entity import KINDS, TkDocument, parse_entity
from rag.opendata.http import Client
from rag.opendata.ids import TK_API_URL

API_URL = TK_API_URL
EXPAND = "Zaak($expand=ZaakActor),DocumentActor,HuidigeDocumentVersie"
MAX_PAGES = 100_000  # a guard against a service that links a page to itself forever


@dataclass(frozen=True)
class Query:
    """Which documents to list."""

    kinds: tuple[str, ...] = ("answers",)  # keys of rag.opendata.entity.KINDS
    since: date | None = None
    until: date | None = None
    changed_since: datetime | None = None  # the delta cursor; None for a full listing


@dataclass(frozen=True)
class Page:
    """One page of the listing: the entities that parsed, and those that did not."""

    documents: tuple[TkDocument, ...]
    bad: tuple[str, ...]  # why an entity could not be read
    total: int | None  # @odata.count of the whole listing, when the service gives it


def odata_datetime(moment: datetime) -> str:
    """A DateTimeOffset literal in UTC: ``2024-01-01T00:00:00Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def document_filter(query: Query) -> str:
    """The ``$filter`` expression for ``query`` (see the module docstring)."""
    unknown = [k for k in query.kinds if k not in KINDS]
    if unknown or not query.kinds:
        raise FetchError(f"unknown kind {', '.join(unknown) or '(none)'}; "
                         f"choose from {', '.join(KINDS)}")
    soorten = [s for k in query.kinds for s in KINDS[k]]
    wanted = ["(" + " or ".join(f"Soort eq {_quote(s)}" for s in soorten) + ")"]
    if query.since:
        wanted.append(f"Datum ge {query.since.isoformat()}T00:00:00Z")
    if query.until:
        wanted.append(f"Datum lt {(query.until + timedelta(days=1)).isoformat()}T00:00:00Z")
    selection = " and ".join(wanted)
    if query.changed_since is None:
        return f"Verwijderd eq false and {selection}"
    return (f"GewijzigdOp ge {odata_datetime(query.changed_since)} and "
            f"(Verwijderd eq true or (Verwijderd eq false and {selection}))")


def document_params(query: Query) -> dict[str, str]:
    """The query parameters of the first page (later pages come from ``@odata.nextLink``)."""
    return {"$filter": document_filter(query), "$expand": EXPAND,
            "$orderby": "GewijzigdOp,Id", "$count": "true"}


def list_documents(client: Client, query: Query, api_url: str = API_URL) -> Iterator[Page]:
    """The listing page by page, following ``@odata.nextLink`` to the last page."""
    url: str | None = f"{api_url.rstrip('/')}/Document"
    params: dict[str, str] | None = document_params(query)
    seen: set[str] = set()
    for _ in range(MAX_PAGES):
        if url is None:
            return
        body = client.get_json(url, params)
        if not isinstance(body, Mapping) or not isinstance(body.get("value"), list):
            raise FetchError(f"{url.split('?')[0]}: not an OData collection (no 'value' list)")
        documents, bad = [], []
        for row in body["value"]:
            try:
                if not isinstance(row, Mapping):
                    raise FetchError("an entity that is not a JSON object")
                documents.append(parse_entity(row))
            except FetchError as exc:
                bad.append(str(exc))
        count = body.get("@odata.count")
        yield Page(tuple(documents), tuple(bad), count if isinstance(count, int) else None)
        link = body.get("@odata.nextLink")
        if link is not None and not isinstance(link, str):
            raise FetchError("@odata.nextLink is not a URL")
        if link:
            link = urljoin(url, link)  # the service may answer with a relative link
            if link in seen:
                raise FetchError(f"the listing loops: {link} was already read")
            seen.add(link)
        url, params = link or None, None
    raise FetchError(f"the listing did not end after {MAX_PAGES} pages")
