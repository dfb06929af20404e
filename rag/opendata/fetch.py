"""One fetch run: list the documents, and bring the folder in line with them.

For every listed Tweede Kamer document, in ``GewijzigdOp`` order:

- deleted (``Verwijderd``): its files are removed, if fetch wrote them and they are unchanged;
- known with the same ``GewijzigdOp`` and its files in place: *unchanged*, nothing is sent;
- otherwise the best file is downloaded and verified (:mod:`rag.opendata.download`), written
  with its sidecar under temporary names, then renamed into place (:mod:`rag.opendata.store`),
  and recorded (:mod:`rag.opendata.state`): *new* or *changed*.

What fetch may overwrite or delete: only files its state records as its own whose bytes are
still those it wrote. The folder may hold anything else (a user's notes, their own copies of
documents, other corpora): fetch never touches it, and refuses, with one line naming the
file, only a document whose file or sidecar would land on such a path. A folder whose
``.vraagbaak-fetch`` state cannot be read is refused as a whole.

The cursor: the next run lists only what changed since the last ``GewijzigdOp`` handled (less
:data:`CURSOR_OVERLAP`, because the service publishes changes with some delay: replays are
cheap, "unchanged"). A failed document holds the cursor back to its own ``GewijzigdOp``, so
the next run tries it again; ``--limit`` stops the run after so many downloads and keeps the
cursor where it stopped. Changing the kinds or dates lists everything once more.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from rag.errors import FetchError
from rag.opendata import ids, store
from rag.opendata.download import Downloaded, download
from rag.opendata.entity import TkDocument, parse_datetime
from rag.opendata.http import Client
from rag.opendata.odata import API_URL, Query, list_documents, odata_datetime
from rag.opendata.sidecar import sidecar_bytes, sidecar_json
from rag.opendata.state import FetchState, Record, open_state

CURSOR_OVERLAP = timedelta(days=2)


@dataclass(frozen=True)
class FetchOptions:
    """What to fetch, from where, into which folder."""

    target: Path
    kinds: tuple[str, ...] = ("answers",)
    since: date | None = None
    until: date | None = None
    limit: int | None = None  # stop after this many downloads (new + changed)
    api_url: str = API_URL
    publications_url: str = ids.PUBLICATIONS_URL


@dataclass(frozen=True)
class Failure:
    """A document that could not be fetched, with the reason."""

    tk_id: str
    name: str  # the document id, or the DocumentNummer when it has none
    reason: str


@dataclass(frozen=True)
class FetchReport:
    """What a run did."""

    listed: int
    new: int
    changed: int
    deleted: int
    unchanged: int
    failed: tuple[Failure, ...]
    cursor: str | None
    seconds: float
    target: Path
    stopped_at_limit: bool = False
    leftovers_removed: int = 0


@dataclass
class _Counts:
    listed: int = 0
    new: int = 0
    changed: int = 0
    deleted: int = 0
    unchanged: int = 0
    failed: list[Failure] = field(default_factory=list)
    total: int | None = None

    @property
    def downloads(self) -> int:
        return self.new + self.changed


Progress = Callable[[_Counts], None]


def run_fetch(options: FetchOptions, client: Client,
              progress: Progress | None = None) -> FetchReport:
    """Fetch into ``options.target`` (see the module docstring); raises FetchError only for
    what stops the whole run (the listing failing, an unreadable state)."""
    started = time.perf_counter()
    counts = _Counts()
    scope = {"kinds": sorted(options.kinds), "since": _iso(options.since),
             "until": _iso(options.until)}
    with open_state(options.target) as state:
        leftovers = store.remove_leftovers(options.target)
        cursor = state.cursor if state.scope == scope else None
        changed_since = parse_datetime(cursor) - CURSOR_OVERLAP if cursor else None
        query = Query(tuple(options.kinds), options.since, options.until, changed_since)
        handled: datetime | None = None
        held: datetime | None = None  # the first failure's GewijzigdOp holds the cursor
        at_limit = False
        for page in list_documents(client, query, options.api_url):
            counts.total = page.total if counts.total is None else counts.total
            for reason in page.bad:
                counts.listed += 1
                counts.failed.append(Failure("?", "?", reason))
            for doc in page.documents:
                if options.limit is not None and counts.downloads >= options.limit:
                    at_limit = True
                    break
                counts.listed += 1
                ok = _handle(doc, state, options, client, counts)
                moment = parse_datetime(doc.gewijzigd_op)
                if ok:
                    handled = moment if handled is None else max(handled, moment)
                elif held is None or moment < held:
                    held = moment
                state.maybe_save()
                if progress:
                    progress(counts)
            if at_limit:
                break
        new_cursor = _next_cursor(cursor, handled, held)
        state.cursor, state.scope = new_cursor, scope
    return FetchReport(counts.listed, counts.new, counts.changed, counts.deleted,
                       counts.unchanged, tuple(counts.failed), new_cursor,
                       time.perf_counter() - started, options.target, at_limit, leftovers)


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _next_cursor(old: str | None, handled: datetime | None, held: datetime | None) -> str | None:
    """The furthest point every document before which is done."""
    if held is not None:
        return odata_datetime(held) if old is None or held > parse_datetime(old) else old
    if handled is None:
        return old
    if old is not None and parse_datetime(old) >= handled:
        return old
    return odata_datetime(handled)


def _handle(doc: TkDocument, state: FetchState, options: FetchOptions, client: Client,
            counts: _Counts) -> bool:
    """Bring one document's files in line; False when it failed (recorded in ``counts``)."""
    record = state.records.get(doc.id)
    name = doc.doc_id or doc.document_nummer or doc.id
    try:
        if doc.verwijderd:
            if record is not None:
                _delete(record, state)
                counts.deleted += 1
            return True
        if record is not None and record.gewijzigd_op == doc.gewijzigd_op and _in_place(
                record, state):
            counts.unchanged += 1
            return True
        got = download(client, doc, options.api_url, options.publications_url)
        _write(doc, got, record, state, options)
    except (FetchError, OSError) as exc:
        counts.failed.append(Failure(doc.id, name, str(exc)))
        return False
    if record is None:
        counts.new += 1
    else:
        counts.changed += 1
    return True


def _in_place(record: Record, state: FetchState) -> bool:
    """Every recorded file is there with its recorded size (hashing waits for a write)."""
    for rel, identity in record.files:
        path = state.root / rel
        if path.is_symlink() or not path.is_file() or path.stat().st_size != identity.size:
            return False
    return bool(record.files)


def _write(doc: TkDocument, got: Downloaded, record: Record | None, state: FetchState,
           options: FetchOptions) -> None:
    """Write a document's file and sidecar all-or-nothing, then drop its superseded files."""
    doc_id = doc.doc_id
    assert doc_id is not None  # download() refuses a document without one
    file_rel, sidecar_rel = store.layout(doc.vergaderjaar, doc_id, got.suffix)
    publication = doc.publication_id or doc_id
    urls = ids.official_urls(publication, options.publications_url)
    sidecar = sidecar_json(
        doc, doc_id, file_rel.rsplit("/", 1)[-1],
        {"kind": got.source, "url": got.url, "content_type": got.content_type},
        {"html": urls.html, "pdf": urls.pdf, "xml": urls.xml} if urls else {})
    for rel in (file_rel, sidecar_rel):
        _check_free(rel, doc.id, state)
    staged = [store.stage(state.root, file_rel, got.content),
              store.stage(state.root, sidecar_rel, sidecar_bytes(sidecar))]
    try:
        state.begin(doc.id, doc_id, {s.rel: s.identity for s in staged})
        for item in staged:
            store.commit(item)
    except BaseException:
        state.abandon(doc.id)
        raise
    finally:
        for item in staged:
            store.discard(item)  # a no-op for those committed
    new = {s.rel: s.identity for s in staged}
    for rel in (record.paths if record else {}):
        if rel not in new and state.owns(rel, doc.id):
            store.remove(state.root, rel)  # e.g. the PDF, now that the XML is published
    state.commit(Record(doc.id, doc_id, doc.gewijzigd_op, tuple(new.items()), got.source))


def _check_free(rel: str, tk_id: str, state: FetchState) -> None:
    """Refuse a path that holds a file fetch did not write (or that a user changed since)."""
    path = state.root / rel
    if not (path.exists() or path.is_symlink()):
        return
    found = state.owner(rel)
    if found is not None and found[0] != tk_id:
        raise FetchError(f"{rel} is already the file of Tweede Kamer document {found[0]}")
    if not state.owns(rel, tk_id):
        raise FetchError(f"not overwriting {rel}: rag fetch did not write it, or it was "
                         "changed since; move it away to let fetch write there")


def _delete(record: Record, state: FetchState) -> None:
    """Remove a deleted document's files that are still as fetch wrote them."""
    kept = [rel for rel in record.paths if (state.root / rel).exists()
            and not state.owns(rel, record.tk_id)]
    for rel in record.paths:
        if rel not in kept:
            store.remove(state.root, rel)
    state.forget(record.tk_id)
    if kept:
        raise FetchError(f"deleted upstream, but {', '.join(kept)} was changed since rag fetch "
                         "wrote it, so it was left in place")
