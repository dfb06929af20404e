"""Listing an OData entity set by value (keyset paging) on ``ApiGewijzigdOp``, never by position.

Why not follow ``@odata.nextLink``: the live service pages by position (the link adds
``$skip=250``, ``$skip=500`` …, as ``kasperwelbers/tweedekamer`` ``README.md`` records), and a
full listing is read over hours while the files download. A record edited in between moves
from its place to the end of the ordering, every later record shifts one place up, and the
next ``$skip`` page passes over one of them for good: its ``ApiGewijzigdOp`` is older than
the cursor the run ends with, so no later run lists it either.

How: every page is a fresh query ordered by ``ApiGewijzigdOp,Id`` that starts at the last
``ApiGewijzigdOp`` read (``ApiGewijzigdOp ge <stamp>``), and only its first page is used (the
service returns 250 rows and a nextLink when there are more: that link says only whether to
go on). Rows of that very stamp read before are passed over by ``Id``. An edit moves a row
to a later stamp, which a later query still reaches; nothing shifts out of reach.

When one page holds nothing but a single stamp, ``ge`` would return it again forever. The
rows of that stamp are then read by themselves (``ApiGewijzigdOp eq <stamp>``, ordered by
``Id``, following nextLinks), pass after pass until a pass brings no row not yet seen (a row
edited meanwhile leaves that set, so a later row may shift past a ``$skip``; the next pass
finds it, and the set only shrinks, so the passes end), and the listing goes on with
``ApiGewijzigdOp gt <stamp>``.

Ordering comparisons on ``Id`` (``Id gt …``) are not used: ``Id`` is an ``Edm.Guid``
(``$metadata``), for which OData stacks differ in whether ``gt`` is allowed at all
("The binary operator GreaterThan is not defined for the types 'System.Guid'"), and SQL
Server orders ``uniqueidentifier`` values otherwise than their text, so no client could
continue a Guid order by comparison. Only ``Id eq`` (shown to work on this service in
``tommyvanderwal/motiematcher``) is relied on, elsewhere.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

from rag.errors import FetchError
from rag.opendata.http import Client
from rag.opendata.moments import stamp

FIELD = "ApiGewijzigdOp"
MAX_PAGES = 100_000  # a guard against a service that never ends a listing


@dataclass(frozen=True)
class Batch:
    """Rows not listed before in this listing, in the service's order."""

    rows: tuple[Mapping[str, Any], ...]
    total: int | None  # @odata.count of the first query, when the service gives it


def _and(*clauses: str | None) -> str:
    """Clauses joined with ``and``; one with a top-level ``or`` in brackets when joined."""
    given = [c for c in clauses if c]
    if len(given) == 1:
        return given[0]
    return " and ".join(f"({c})" if " or " in c else c for c in given)


def _key(row: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """The row's stamp and Id, None where unreadable."""
    try:
        value = row.get(FIELD)
        when = stamp(value) if isinstance(value, str) else None
    except FetchError:
        when = None
    ident = row.get("Id")
    return when, ident if isinstance(ident, str) else None


class _Pager:
    """Reads pages and counts them against :data:`MAX_PAGES`."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.pages = 0

    def get(self, url: str, params: Mapping[str, str] | None) -> Mapping[str, Any]:
        self.pages += 1
        if self.pages > MAX_PAGES:
            raise FetchError(f"the listing did not end after {MAX_PAGES} pages")
        body = self.client.get_json(url, params)
        if not isinstance(body, Mapping) or not isinstance(body.get("value"), list):
            raise FetchError(f"{url.split('?')[0]}: not an OData collection (no 'value' list)")
        link = body.get("@odata.nextLink")
        if link is not None and not isinstance(link, str):
            raise FetchError("@odata.nextLink is not a URL")
        return body


def list_by_value(client: Client, url: str, where: str, params: Mapping[str, str]
                  ) -> Iterator[Batch]:
    """Every row of ``url`` matching ``where``, by ``ApiGewijzigdOp`` (see the module
    docstring); ``params`` adds ``$expand``/``$select``."""
    pager = _Pager(client)
    lower: str | None = None  # the stamp the next query starts at
    past = False  # every row of stamp `lower` has been read: go on with "gt"
    seen: set[str] = set()  # Ids read whose stamp is `lower`
    total: int | None = None
    while True:
        bound = None if lower is None else f"{FIELD} {'gt' if past else 'ge'} {lower}"
        query = {**params, "$filter": _and(bound, where), "$orderby": f"{FIELD},Id"}
        if lower is None:
            query["$count"] = "true"
        body = pager.get(url, query)
        count = body.get("@odata.count")
        total = count if lower is None and isinstance(count, int) else total
        keyed = [(*_key(row), row) for row in body["value"]]
        yield Batch(tuple(row for when, ident, row in keyed
                          if not (when == lower and ident in seen)), total)
        if not body.get("@odata.nextLink"):
            return
        last = max((when for when, _, _ in keyed if when), default=None)
        if last is None:
            raise FetchError(f"a page of {url} without a readable {FIELD}: cannot go on")
        if lower is None or last > lower:
            lower, past = last, False
            seen = {ident for when, ident, _ in keyed if when == last and ident}
        elif not past:  # the whole page is one stamp
            yield from _one_stamp(pager, url, where, params, last, seen, total)
            past, seen = True, set()
        else:
            raise FetchError(f"{url}: {FIELD} gt {lower} returned older rows")


def _one_stamp(pager: _Pager, url: str, where: str, params: Mapping[str, str], when: str,
               seen: set[str], total: int | None) -> Iterator[Batch]:
    """Every row of stamp ``when`` not in ``seen``, pass after pass until one finds none
    (a row without an Id is passed on once, in the first pass)."""
    first = True
    while True:
        found = 0
        link: str | None = url
        query: Mapping[str, str] | None = {**params, "$filter": _and(f"{FIELD} eq {when}", where),
                                           "$orderby": "Id"}
        while link:
            body = pager.get(link, query)
            rows = []
            for row in body["value"]:
                ident = _key(row)[1]
                if ident is None and first:
                    rows.append(row)
                elif ident is not None and ident not in seen:
                    seen.add(ident)
                    rows.append(row)
                    found += 1
            yield Batch(tuple(rows), total)
            next_link = body.get("@odata.nextLink")
            link, query = (urljoin(link, next_link) if next_link else None), None
        first = False
        if not found:
            return
