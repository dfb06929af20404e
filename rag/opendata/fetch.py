"""One fetch run: list the documents, and bring the folder in line with them.

For every listed Tweede Kamer document, in ``ApiGewijzigdOp`` order:

- deleted (``Verwijderd``): its files are removed, if fetch wrote them and they are unchanged;
- known with the same ``GewijzigdOp`` and file name, its files in place, and no official XML
  listed that it lacks: *unchanged*, nothing is downloaded;
- otherwise the best file is downloaded and verified (:mod:`rag.opendata.download`), written
  with its sidecar under temporary names, then renamed into place (:mod:`rag.opendata.store`),
  and recorded (:mod:`rag.opendata.state`): *new* or *changed*;
- a document that cannot be fetched as listed (no Aanhangselnummer and no publication id to
  name its file, a row that cannot be read, nothing of a readable type): *unfetchable*,
  recorded with its reason, and not tried again until its ``ApiGewijzigdOp`` changes.

What fetch may overwrite or delete: only files its state records as its own whose bytes are
still those it wrote. The folder may hold anything else (a user's notes, their own copies of
documents, other corpora): fetch never touches it, and refuses, with one line naming the
file, only a document whose file or sidecar would land on such a path. A folder whose
``.vraagbaak-fetch`` state cannot be read is refused as a whole.

The cursor: the next run lists only what became visible in the API since the last
``ApiGewijzigdOp`` handled, less :data:`CURSOR_OVERLAP` (replays are cheap: "unchanged"). A
document that failed for a reason that may pass (the network, a server error, a file that
did not verify) holds the cursor back to its own ``ApiGewijzigdOp``, so the next run tries it
again; an unfetchable one does not. ``--limit`` stops the run after so many downloads and
keeps the cursor where it stopped. Changing the kinds or dates lists everything once more.

A delta run also asks which official XML files were listed since the cursor
(:func:`rag.opendata.odata.list_xml_publications`): a document fetch holds as PDF or Word
whose XML has appeared since is fetched again, though its own record did not change.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path

from rag.errors import FetchError
from rag.opendata import ids, store
from rag.opendata.download import XML_SOURCES, CannotFetch, Downloaded, download
from rag.opendata.entity import BadEntity, TkDocument
from rag.opendata.http import Client
from rag.opendata.moments import earlier
from rag.opendata.odata import (
    API_URL,
    Page,
    Query,
    documents_by_id,
    list_documents,
    list_xml_publications,
)
from rag.opendata.sidecar import sidecar_bytes, sidecar_json
from rag.opendata.state import FetchState, Record, Unfetchable, open_state

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
    publications_url: str = ids.PUBLICATIONS_URL  # where official files are downloaded from


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
    failed: tuple[Failure, ...]  # may pass: tried again by the next run (exit code 1)
    cursor: str | None
    seconds: float
    target: Path
    stopped_at_limit: bool = False
    leftovers_removed: int = 0
    unfetchable: tuple[Failure, ...] = ()  # as listed, cannot be fetched: recorded, exit 0


@dataclass
class _Counts:
    listed: int = 0
    new: int = 0
    changed: int = 0
    deleted: int = 0
    unchanged: int = 0
    failed: list[Failure] = field(default_factory=list)
    unfetchable: list[Failure] = field(default_factory=list)
    total: int | None = None

    @property
    def downloads(self) -> int:
        return self.new + self.changed


Progress = Callable[[_Counts], None]


@dataclass
class _Cursor:
    """How far the listing got: the last stamp handled, the first that must be retried."""

    handled: str | None = None
    held: str | None = None

    def done(self, when: str) -> None:
        self.handled = when if self.handled is None else max(self.handled, when)

    def hold(self, when: str) -> None:
        self.held = when if self.held is None else min(self.held, when)

    def next(self, old: str | None) -> str | None:
        """The furthest point every document before which is done."""
        if self.held is not None:
            return self.held if old is None or self.held > old else old
        if self.handled is None or (old is not None and old >= self.handled):
            return old
        return self.handled


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
        old = state.cursor if state.scope == scope else None
        changed_since = earlier(old, CURSOR_OVERLAP) if old else None
        query = Query(tuple(options.kinds), options.since, options.until, changed_since)
        cursor = _Cursor()
        seen: set[str] = set()
        pages = list_documents(client, query, options.api_url)
        at_limit = _run_pages(pages, state, options, client, counts, cursor, seen, progress)
        if changed_since and not at_limit:
            at_limit = _xml_appeared(changed_since, state, options, client, counts, cursor,
                                     seen, progress)
        new_cursor = cursor.next(old)
        state.cursor, state.scope = new_cursor, scope
    return FetchReport(counts.listed, counts.new, counts.changed, counts.deleted,
                       counts.unchanged, tuple(counts.failed), new_cursor,
                       time.perf_counter() - started, options.target, at_limit, leftovers,
                       tuple(counts.unfetchable))


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _run_pages(pages: Iterable[Page], state: FetchState, options: FetchOptions,
               client: Client, counts: _Counts, cursor: _Cursor, seen: set[str],
               progress: Progress | None, hold_at: str | None = None) -> bool:
    """Handle every document of ``pages``; True when ``--limit`` stopped it. A failure holds
    the cursor at the document's own stamp, or at ``hold_at`` when given."""
    for page in pages:
        counts.total = page.total if counts.total is None else counts.total
        for bad in page.bad:
            counts.listed += 1
            _unreadable(bad, state, counts)
            if bad.api_stamp:
                cursor.done(bad.api_stamp)
        for doc in page.documents:
            if options.limit is not None and counts.downloads >= options.limit:
                return True
            counts.listed += 1
            seen.add(doc.id)
            if _handle(doc, state, options, client, counts):
                cursor.done(doc.api_gewijzigd_op)
            else:
                cursor.hold(hold_at or doc.api_gewijzigd_op)
            state.maybe_save()
            if progress:
                progress(counts)
    return False


def _unreadable(bad: BadEntity, state: FetchState, counts: _Counts) -> None:
    """A row that cannot be read: unfetchable, recorded when it has an Id."""
    failure = Failure(bad.tk_id or "?", bad.tk_id or "?", str(bad))
    counts.unfetchable.append(failure)
    if bad.tk_id:
        state.unfetchable[bad.tk_id] = Unfetchable(bad.api_stamp, failure.name, failure.reason)


def _xml_appeared(since: str, state: FetchState, options: FetchOptions, client: Client,
                  counts: _Counts, cursor: _Cursor, seen: set[str],
                  progress: Progress | None) -> bool:
    """Fetch again the documents held without their official XML whose XML was listed since
    ``since``; True when ``--limit`` stopped it."""
    waiting = {r.version_id: tk_id for tk_id, r in state.records.items()
               if r.version_id and r.source not in XML_SOURCES}
    waiting.update({u.version_id: tk_id for tk_id, u in state.unfetchable.items()
                    if u.version_id})
    if not waiting:
        return False
    found: dict[str, str] = {}  # tk_id -> the stamp of its XML's listing
    for xml in list_xml_publications(client, since, options.api_url):
        tk_id = waiting.get(xml.version_id)
        if tk_id and tk_id not in seen:
            found[tk_id] = min(found.get(tk_id, xml.api_stamp), xml.api_stamp)
    for tk_id, when in found.items():
        pages = documents_by_id(client, [tk_id], options.api_url)
        if _run_pages(pages, state, options, client, counts, cursor, seen, progress, when):
            return True
    return False


def _handle(doc: TkDocument, state: FetchState, options: FetchOptions, client: Client,
            counts: _Counts) -> bool:
    """Bring one document's files in line; False when it failed and is to be tried again."""
    record = state.records.get(doc.id)
    name = doc.doc_id or doc.document_nummer or doc.id
    try:
        if doc.verwijderd:
            state.unfetchable.pop(doc.id, None)
            if record is not None:
                _delete(record, state)
                counts.deleted += 1
            return True
        known = state.unfetchable.get(doc.id)
        if known is not None and known.api_gewijzigd_op == doc.api_gewijzigd_op \
                and not doc.publication("xml"):
            counts.unfetchable.append(Failure(doc.id, known.name, known.reason))
            return True
        if record is not None and _unchanged(record, doc, state):
            if (record.api_gewijzigd_op, record.version_id) != (doc.api_gewijzigd_op,
                                                                 doc.version_id):
                state.note(replace(record, api_gewijzigd_op=doc.api_gewijzigd_op,
                                   version_id=doc.version_id))
            counts.unchanged += 1
            return True
        got = download(client, doc, options.api_url, options.publications_url)
        _write(doc, got, record, state)
    except CannotFetch as exc:
        state.unfetchable[doc.id] = Unfetchable(doc.api_gewijzigd_op, name, str(exc),
                                             doc.version_id)
        counts.unfetchable.append(Failure(doc.id, name, str(exc)))
        return True
    except (FetchError, OSError) as exc:
        counts.failed.append(Failure(doc.id, name, str(exc)))
        return False
    state.unfetchable.pop(doc.id, None)
    if record is None:
        counts.new += 1
    else:
        counts.changed += 1
    return True


def _unchanged(record: Record, doc: TkDocument, state: FetchState) -> bool:
    """Nothing to download: the same version under the same name, its files in place, and
    no official XML listed that it lacks."""
    return (record.gewijzigd_op == doc.gewijzigd_op and record.doc_id == doc.doc_id
            and (record.source in XML_SOURCES or not doc.publication("xml"))
            and _in_place(record, state))


def _in_place(record: Record, state: FetchState) -> bool:
    """Every recorded file is there with its recorded size (hashing waits for a write)."""
    for rel, identity in record.files:
        path = state.root / rel
        if path.is_symlink() or not path.is_file() or path.stat().st_size != identity.size:
            return False
    return bool(record.files)


def _write(doc: TkDocument, got: Downloaded, record: Record | None,
           state: FetchState) -> None:
    """Write a document's file and sidecar all-or-nothing, then drop its superseded files."""
    doc_id = doc.doc_id
    assert doc_id is not None  # download() refuses a document without one
    file_rel, sidecar_rel = store.layout(doc.vergaderjaar, doc_id, got.suffix)
    # the link people cite is always the official one, wherever the bytes came from
    urls = ids.official_urls(doc.publication_id or doc_id)
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
    state.commit(Record(doc.id, doc_id, doc.gewijzigd_op, tuple(new.items()), got.source,
                        doc.api_gewijzigd_op, doc.version_id))


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
