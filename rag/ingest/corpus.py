"""Walk a corpus folder, read and parse every supported file, and say what was skipped and why.

Folder rules (predictable, documented in the README):

- files are visited recursively in sorted path order, a folder's own files before its
  subfolders, at any depth;
- hidden files and folders (name starting with ".") are not read; each is reported as skipped
  (a hidden folder once, not its contents), except the state folder of ``rag fetch``, known
  by the marker it writes there (:func:`rag.ingest.sidecar.is_fetch_state`), which is passed
  over in silence;
- a symlinked file is read (its target's content under the link's name); a symlinked folder is
  not followed (no loops, no escaping the corpus) and is reported; a broken or looping link is
  reported as unreadable, and so is a folder that cannot be listed;
- names are stored and shown in :func:`rag.names.stored_name` form, so a name that is not
  UTF-8 or holds a newline is indexed like any other, and two names never become one;
- files of other types are reported as unsupported;
- a sidecar ``X.meta.json`` (written by ``rag fetch``) is read with its document ``X.pdf``,
  ``X.xml`` … in the same folder and merged into its metadata, the sidecar winning over the
  text heuristics (:func:`rag.ingest.sidecar.merge_sidecar`); it is not listed as a file of
  its own, unless no document of that name is beside it; an unreadable sidecar is noted as
  an anomaly of its document;
- a file over :data:`rag.ingest.readers.MAX_FILE_BYTES` (25 MiB) is reported as too large, unread;
- the file stem is the document id; when two answer documents share one (the same answer as
  PDF and XML, or a copy), the XML is kept over PDF over HTML over Word over Markdown over text,
  and among equals the first in path order; the others are reported as duplicates.

Every supported file becomes a document or a :class:`Skipped` entry with its reason; one bad
file never stops the walk.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from rag.errors import ParseError, RagError
from rag.ingest.cache import PARSER_VERSION, ParseCache, Parsed
from rag.ingest.readers import (
    MAX_FILE_BYTES,
    SUPPORTED_SUFFIXES,
    load_bytes,
    preference,
    read_file,
    reader_for,
)
from rag.ingest.sidecar import (
    SIDECAR_SUFFIX,
    is_fetch_state,
    is_sidecar,
    merge_sidecar,
    sidecar_for,
)
from rag.names import printable, stored_name
from rag.types import DocKind, Document, Skipped

_NOT_INDEXED = {
    DocKind.QUESTIONS: "questions only, no answers yet",
    DocKind.NOTICE: "postponement notice (Mededeling), no answers",
    DocKind.UNKNOWN: "no numbered question/answer structure found",
}


@dataclass(frozen=True)
class CorpusLoad:
    """The result of reading a folder: every parsed document, and the files left out."""

    files_read: int
    documents: tuple[Document, ...]  # every parsed document, whatever its kind
    skipped: tuple[Skipped, ...]
    stamp: str = ""  # `corpus_stamp` of the folder as it was read
    cache: ParseCache | None = None  # what each file gave: the next build's parse cache

    @property
    def answer_documents(self) -> tuple[Document, ...]:
        """The documents that are indexed."""
        return tuple(d for d in self.documents if d.kind is DocKind.ANSWERS)


def walk_corpus(folder: Path) -> Iterator[tuple[Path, str | None]]:
    """Every entry under ``folder`` with ``None`` (to be read) or the reason it is not read."""
    if not folder.is_dir():
        raise RagError(f"corpus folder {folder} does not exist or is not a folder")
    yield from _walk(folder)


def _walk(base: Path) -> Iterator[tuple[Path, str | None]]:
    """One folder: its skipped subfolders, its files, then its subfolders in turn."""
    try:
        with os.scandir(base) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError as exc:  # unreadable folder: reported, the rest of the corpus goes on
        yield base, f"unreadable folder ({exc.strerror or exc})"
        return
    folders = []
    is_dir = {entry.name: _is_dir(entry) for entry in entries}
    for entry in entries:
        if not is_dir[entry.name]:
            continue
        if entry.name.startswith("."):
            if not is_fetch_state(base / entry.name):
                yield base / entry.name, "hidden folder, not read"
        elif entry.is_symlink():
            yield base / entry.name, "symlinked folder, not followed"
        else:
            folders.append(base / entry.name)
    names = {entry.name for entry in entries}
    for entry in entries:
        if is_dir[entry.name]:
            continue
        path = base / entry.name
        suffix = path.suffix.lower()
        if entry.name.startswith("."):
            yield path, "hidden file, not read"
        elif is_sidecar(entry.name):
            stem = entry.name[: -len(SIDECAR_SUFFIX)]
            if not any(f"{stem}{s}" in names for s in SUPPORTED_SUFFIXES):
                yield path, "metadata sidecar without its document (no file of that name)"
        elif reader_for(suffix) is None:
            hint = "; save it as .docx or PDF" if suffix in (".doc", ".odt", ".rtf") else ""
            yield path, (f"unsupported file type {printable(suffix) or '(none)'} (supported: "
                         f"{', '.join(SUPPORTED_SUFFIXES)}){hint}")
        else:
            yield path, None
    for sub in folders:
        yield from _walk(sub)


def _is_dir(entry: os.DirEntry) -> bool:
    """Whether an entry is a folder (or a link to one); a looping link is not."""
    try:
        return entry.is_dir()
    except OSError:
        return False


def corpus_files(folder: Path) -> Iterator[Path]:
    """Supported files under ``folder`` by the rules in the module docstring."""
    return (path for path, reason in walk_corpus(folder) if reason is None)


@dataclass(frozen=True)
class _Entry:
    """A walked entry with its printable name and, for a file to read, its stamp."""

    path: Path
    source: str
    reason: str | None
    stamp: tuple[int, ...] = ()  # size, mtime_ns, and the same of its sidecar (or -1, -1)


def _entries(folder: Path) -> Iterator[_Entry]:
    for path, reason in walk_corpus(folder):
        # Names are stored and shown in printable form (bytes that are not UTF-8, newlines,
        # control characters escaped, one-to-one); the real path is only used to read the file.
        source = stored_name(path.relative_to(folder).as_posix())
        if reason is not None:
            yield _Entry(path, source, reason)
            continue
        try:
            st = path.stat()
        except OSError:  # gone or unreadable: the reader reports it
            yield _Entry(path, source, None, (-1, -1, -1, -1))
            continue
        try:
            side = sidecar_for(path).stat()
            side_stamp = (side.st_size, side.st_mtime_ns)
        except OSError:
            side_stamp = (-1, -1)
        yield _Entry(path, source, None, (st.st_size, st.st_mtime_ns, *side_stamp))


def _stamp_of(entries: Iterable[_Entry]) -> str:
    digest = hashlib.sha256(PARSER_VERSION.encode())
    for e in entries:
        digest.update(f"{e.source}\0{e.reason}\0{e.stamp}\n".encode())
    return digest.hexdigest()


def corpus_stamp(folder: Path) -> str:
    """A hash of every entry's name, size and modification time (and its sidecar's): equal
    stamps mean no file was added, removed or touched since. Costs a stat per file."""
    return _stamp_of(_entries(folder))


def load_corpus(folder: Path, max_bytes: int = MAX_FILE_BYTES,
                cache: ParseCache | None = None) -> CorpusLoad:
    """Read and parse every file; a bad file is skipped with its reason, never fatal.

    With ``cache`` (the previous build's), a file whose stamp is unchanged is not opened
    and one whose bytes are unchanged is not parsed again (`rag.ingest.cache`).
    """
    cache = cache if cache is not None else ParseCache()
    documents: list[Document] = []
    skipped: list[Skipped] = []
    files_read = 0
    walked = list(_entries(folder))
    for entry in walked:
        if entry.reason is not None:
            skipped.append(Skipped(entry.source, entry.reason))
            continue
        files_read += 1
        parsed = _parse(entry, cache, max_bytes)
        cache.keep(parsed)
        if parsed.document is None:
            skipped.append(Skipped(entry.source, parsed.reason or "unreadable"))
            continue
        doc = _with_sidecar(parsed.document, entry.path)
        if doc.kind is not DocKind.ANSWERS:
            skipped.append(Skipped(entry.source, _NOT_INDEXED[doc.kind]))
        documents.append(doc)
    kept, duplicates = _dedupe(documents)
    return CorpusLoad(files_read, tuple(kept), (*skipped, *duplicates), _stamp_of(walked),
                      cache)


def _parse(entry: _Entry, cache: ParseCache, max_bytes: int) -> Parsed:
    """One file's document or skip reason: from the cache when its stamp or its bytes are
    unchanged, else read and parsed."""
    size, mtime_ns = entry.stamp[0], entry.stamp[1]
    cached = cache.by_stamp(entry.source, size, mtime_ns)
    if cached is not None:
        return cached
    doc_id = stored_name(entry.path.stem)
    try:
        data = read_file(entry.path, max_bytes)
    except ParseError as exc:
        return Parsed(entry.source, size, mtime_ns, "", None, _reason(exc, entry))
    digest = hashlib.sha256(data).hexdigest()
    same = cache.by_content(entry.source, digest)
    if same is not None:  # the same bytes under the same id (touched, or moved)
        doc = same.document
        return replace(same, source=entry.source, size=size, mtime_ns=mtime_ns,
                       document=replace(doc, source=entry.source) if doc else None)
    cache.parsed += 1
    try:
        doc = load_bytes(data, entry.path.suffix, doc_id, entry.source)
    except ParseError as exc:
        return Parsed(entry.source, size, mtime_ns, digest, None, _reason(exc, entry))
    return Parsed(entry.source, size, mtime_ns, digest, doc)


def _with_sidecar(doc: Document, path: Path) -> Document:
    """The document with its sidecar's metadata merged in, when it has one."""
    sidecar = sidecar_for(path)
    if not sidecar.is_file():
        return doc
    try:
        return replace(doc, meta=merge_sidecar(doc.meta, sidecar))
    except ParseError as exc:
        return replace(doc, anomalies=(*doc.anomalies, f"sidecar ignored: {exc}"))


def _reason(exc: ParseError, entry: _Entry) -> str:
    """The error message without the file name the skip list already shows (as the readers
    name it: the stored path, or the file's own name as shown)."""
    message = str(exc)
    for name in (entry.source, entry.source.rsplit("/", 1)[-1], printable(entry.path.name)):
        if message.startswith(f"{name}: ") and len(message) > len(name) + 2:
            return message[len(name) + 2:]
    return message


def _dedupe(documents: list[Document]) -> tuple[list[Document], list[Skipped]]:
    """Keep one answer document per id (see the module docstring); report the others."""
    best: dict[str, Document] = {}
    for doc in documents:
        if doc.kind is not DocKind.ANSWERS:
            continue
        current = best.get(doc.doc_id)
        if current is None or _rank(doc) < _rank(current):
            best[doc.doc_id] = doc
    kept = [d for d in documents if d.kind is not DocKind.ANSWERS or best[d.doc_id] is d]
    duplicates = [
        Skipped(d.source, f"duplicate document id {d.doc_id} (kept {best[d.doc_id].source})")
        for d in documents if d.kind is DocKind.ANSWERS and best[d.doc_id] is not d
    ]
    return kept, duplicates


def _rank(doc: Document) -> int:
    return preference(Path(doc.source).suffix)
