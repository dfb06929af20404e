"""What fetch has written into a folder, and where its listing stopped.

Kept in ``DIR/.vraagbaak-fetch/``:

- ``FETCH-STATE``, a marker by which the build recognises the folder as fetch's (and passes
  over it without reporting it: :func:`rag.ingest.sidecar.is_fetch_state`);
- ``state.json``, written atomically (temporary file, then rename): the delta cursor (the
  last ``ApiGewijzigdOp`` handled, as a :func:`~rag.opendata.moments.stamp`), the scope it
  belongs to (kinds, since, until), per Tweede Kamer document its ``GewijzigdOp``,
  ``ApiGewijzigdOp``, document version and every file fetch wrote for it with its size and
  SHA-256, and the documents that cannot be fetched as listed (*unfetchable*: no file name,
  an unreadable row, no file of a readable type), each with its reason and the
  ``ApiGewijzigdOp`` it was judged at: tried again only once that changes;
- ``journal.jsonl``, appended and flushed to disk after every step, so that a run killed at
  any moment loses nothing it finished: a document is recorded as *begun* (with the files
  about to be renamed into place) before its files are renamed, and *committed* after. On
  the next start the journal is replayed over ``state.json``; a document begun but not
  committed keeps as its own only the files whose bytes match what it recorded, and is
  fetched again. Saving ``state.json`` empties the journal. Unfetchable documents are not
  journalled: a run killed before it saves simply judges them again;
- ``lock``: one fetch at a time per folder (a kernel lock, released when a process dies).

Ownership is strict: a file is fetch's own only while its bytes are still those recorded. A
file edited by a user since is left alone, and never overwritten or deleted.

A state file of format 1 (whose cursor was a ``GewijzigdOp``) is read as well: its records
are kept, so nothing is downloaded again, but its cursor is dropped, so that the next run
lists everything in its scope once more. A cursor on ``GewijzigdOp`` can have passed over
documents that became visible in the API later; listing again finds them. It is saved in
format 2.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import IO, Any

from rag.errors import FetchError
from rag.ingest.sidecar import FETCH_MARKER, FETCH_MARKER_LINE
from rag.opendata.store import STATE_DIR, Identity, identity_on_disk

FORMAT = "vraagbaak-fetch-state/2"
FORMAT_1 = "vraagbaak-fetch-state/1"  # cursor on GewijzigdOp: read, and listed again
STATE_FILE = "state.json"
JOURNAL_FILE = "journal.jsonl"
LOCK_FILE = "lock"


@dataclass(frozen=True)
class Record:
    """One Tweede Kamer document as fetch last wrote it."""

    tk_id: str
    doc_id: str
    gewijzigd_op: str | None  # None: not completely written, fetch it again
    files: tuple[tuple[str, Identity], ...] = ()  # (path relative to DIR, identity)
    source: str = ""  # a rag.opendata.download source: tk-xml, tk-resource, koop-pdf …
    api_gewijzigd_op: str | None = None  # a stamp; None in records of format 1
    version_id: str | None = None  # HuidigeDocumentVersie's Id, to notice its XML appearing

    @property
    def paths(self) -> dict[str, Identity]:
        """The files as a mapping."""
        return dict(self.files)


@dataclass(frozen=True)
class Unfetchable:
    """A document that cannot be fetched as listed, and why (see the module docstring)."""

    api_gewijzigd_op: str | None
    name: str  # the document id, or the DocumentNummer when it has none
    reason: str
    version_id: str | None = None


def _record_json(record: Record) -> dict[str, Any]:
    return {"doc_id": record.doc_id, "gewijzigd_op": record.gewijzigd_op,
            "api_gewijzigd_op": record.api_gewijzigd_op, "version_id": record.version_id,
            "source": record.source,
            "files": {rel: {"size": i.size, "sha256": i.sha256} for rel, i in record.files}}


def _record_from(tk_id: str, row: dict[str, Any]) -> Record:
    files = tuple((rel, Identity(int(i["size"]), str(i["sha256"])))
                  for rel, i in row["files"].items())
    return Record(tk_id, str(row["doc_id"]), row.get("gewijzigd_op"), files,
                  str(row.get("source", "")), row.get("api_gewijzigd_op"),
                  row.get("version_id"))


class FetchState:
    """The state of one folder; open it with :func:`open_state`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.folder = root / STATE_DIR
        self.records: dict[str, Record] = {}  # change only through _set and _drop
        self._owners: dict[str, tuple[str, Identity]] = {}  # path -> (tk_id, identity)
        self.cursor: str | None = None
        self.scope: dict[str, Any] | None = None
        self.unfetchable: dict[str, Unfetchable] = {}  # by Tweede Kamer id
        self._journal: IO[str] | None = None
        self._pending: dict[str, dict[str, Any]] = {}  # begun, not committed
        self._since_save = 0

    # -- ownership -----------------------------------------------------------------------

    def owner(self, rel: str) -> tuple[str, Identity] | None:
        """The document (Tweede Kamer id) that recorded ``rel``, with the recorded identity."""
        return self._owners.get(rel)

    def _set(self, record: Record) -> None:
        self._drop(record.tk_id)
        self.records[record.tk_id] = record
        for rel, identity in record.files:
            self._owners[rel] = (record.tk_id, identity)

    def _drop(self, tk_id: str) -> None:
        old = self.records.pop(tk_id, None)
        for rel, _ in old.files if old else ():
            if self._owners.get(rel, ("",))[0] == tk_id:
                del self._owners[rel]

    def owns(self, rel: str, tk_id: str | None = None) -> bool:
        """True when ``rel`` is recorded (for ``tk_id``, if given) and still has those bytes."""
        found = self.owner(rel)
        if found is None or (tk_id is not None and found[0] != tk_id):
            return False
        return identity_on_disk(self.root / rel) == found[1]

    # -- changes, journalled -------------------------------------------------------------

    def begin(self, tk_id: str, doc_id: str, files: dict[str, Identity]) -> None:
        """Record that these files are about to be renamed into place for ``tk_id``."""
        entry = {"op": "begin", "tk_id": tk_id, "doc_id": doc_id,
                 "files": {r: {"size": i.size, "sha256": i.sha256} for r, i in files.items()}}
        self._append(entry)
        self._pending[tk_id] = entry

    def commit(self, record: Record) -> None:
        """Record a document as completely written."""
        self._append({"op": "commit", "tk_id": record.tk_id, "record": _record_json(record)})
        self._set(record)
        self._pending.pop(record.tk_id, None)

    def abandon(self, tk_id: str) -> None:
        """A begun document failed half-way: keep as its own only the files that landed,
        exactly as a restart after a crash would."""
        entry = self._pending.pop(tk_id, None)
        if entry is not None:
            self._recover(tk_id, entry)

    def note(self, record: Record) -> None:
        """Update what is known of a document whose files stay as they are (its
        ``ApiGewijzigdOp``, its version): not journalled, like the unfetchable documents."""
        current = self.records.get(record.tk_id)
        assert current is not None and current.files == record.files, "files are committed"
        self._set(record)

    def forget(self, tk_id: str) -> None:
        """Record that a document's files are gone."""
        self._append({"op": "forget", "tk_id": tk_id})
        self._drop(tk_id)

    def save(self) -> None:
        """Write ``state.json`` atomically and empty the journal."""
        for tk_id in list(self._pending):
            self.abandon(tk_id)
        body = {"format": FORMAT, "cursor": self.cursor, "scope": self.scope,
                "documents": {k: _record_json(r) for k, r in sorted(self.records.items())},
                "unfetchable": {k: asdict(u) for k, u in sorted(self.unfetchable.items())}}
        temp = self.folder / f".{STATE_FILE}.part"
        with temp.open("w", encoding="utf-8") as fh:
            json.dump(body, fh, ensure_ascii=False, indent=1, sort_keys=True)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(temp, self.folder / STATE_FILE)
        if self._journal is not None:
            self._journal.seek(0)
            self._journal.truncate()
            self._journal.flush()
            os.fsync(self._journal.fileno())
        self._since_save = 0

    def maybe_save(self, every: int = 1000) -> None:
        """Save now and then, so the journal stays short on a long run."""
        self._since_save += 1
        if self._since_save >= every:
            self.save()

    def _append(self, entry: dict[str, Any]) -> None:
        assert self._journal is not None, "state is not open"
        self._journal.write(json.dumps(entry, ensure_ascii=False) + "\n")
        self._journal.flush()
        os.fsync(self._journal.fileno())

    # -- loading -------------------------------------------------------------------------

    def _load(self) -> None:
        path = self.folder / STATE_FILE
        if path.exists():
            try:
                body = json.loads(path.read_text(encoding="utf-8"))
                if body.get("format") not in (FORMAT, FORMAT_1):
                    raise ValueError(f"format {body.get('format')!r}")
                self.cursor = body.get("cursor") if body["format"] == FORMAT else None
                self.scope = body.get("scope")
                for tk_id, row in body["documents"].items():
                    self._set(_record_from(tk_id, row))
                for tk_id, row in (body.get("unfetchable") or {}).items():
                    self.unfetchable[tk_id] = Unfetchable(**row)
            except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
                raise FetchError(f"{path} is unreadable ({exc}); it is not a state file of "
                                 "this version of rag fetch: move it away to start over") from None
        self._replay(self.folder / JOURNAL_FILE)

    def _replay(self, path: Path) -> None:
        if not path.exists():
            return
        lines = path.read_text(encoding="utf-8", errors="replace").split("\n")
        pending: dict[str, dict[str, Any]] = {}
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
                op, tk_id = entry["op"], entry["tk_id"]
                if op == "begin":
                    pending[tk_id] = entry
                elif op == "commit":
                    self._set(_record_from(tk_id, entry["record"]))
                    pending.pop(tk_id, None)
                elif op == "forget":
                    self._drop(tk_id)
                    pending.pop(tk_id, None)
            except (ValueError, KeyError, TypeError):
                if number >= len(lines) - 1:
                    break  # the last line, cut off by a kill while it was written
                raise FetchError(f"{path} line {number} is corrupt; move the folder "
                                 f"{self.folder} away to start over") from None
        for tk_id, entry in pending.items():
            self._recover(tk_id, entry)

    def _recover(self, tk_id: str, entry: dict[str, Any]) -> None:
        """A document killed between begin and commit: keep what verifiably landed."""
        before = self.records.get(tk_id) or Record(tk_id, str(entry["doc_id"]), None)
        files = before.paths
        for rel, row in entry["files"].items():
            wanted = Identity(int(row["size"]), str(row["sha256"]))
            if identity_on_disk(self.root / rel) == wanted:
                files[rel] = wanted
        self._set(replace(before, gewijzigd_op=None, files=tuple(files.items())))


@contextmanager
def open_state(root: Path) -> Iterator[FetchState]:
    """Lock ``root`` for one fetch, load its state (recovering from a crash), and save it
    when the block ends, also on an error."""
    if root.exists() and not root.is_dir():
        raise FetchError(f"{root} is not a folder")
    state = FetchState(root)
    state.folder.mkdir(parents=True, exist_ok=True)
    marker = state.folder / FETCH_MARKER
    if not (marker.exists() or marker.is_symlink()):
        marker.write_bytes(FETCH_MARKER_LINE + b"\nThis folder holds what `rag fetch` wrote "
                           b"into its parent folder; `rag build` does not read it.\n")
    with (state.folder / LOCK_FILE).open("a+") as lock:
        try:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise FetchError(f"another rag fetch is writing {root}; wait for it to finish") \
                from None
        state._load()
        with (state.folder / JOURNAL_FILE).open("a", encoding="utf-8") as journal:
            state._journal = journal
            try:
                yield state
            finally:
                state.save()
                state._journal = None
