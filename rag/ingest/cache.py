"""The parse cache: what each corpus file gave the last time, so unchanged files cost a stat.

A rebuild over a large corpus spent nearly all its time re-reading and re-parsing files that
had not changed (~75 ms a file, PDFs most). With the cache a file whose size and
modification time are those recorded is not opened at all; a file whose stamp changed but
whose bytes did not (a copy, a ``touch``) is read and hashed but not parsed; only new and
edited files are parsed. The cache is kept with the index (one per generation, written by
the build) and is valid only for the parser it was made by: :data:`PARSER_VERSION` is a hash
of the ingest code itself and of the versions of the libraries that read the files (an
upgraded pypdf extracts other text), so any change to either invalidates every entry without
anyone having to remember a version number.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path

from rag.types import DocKind, Document, DocumentMeta, QABlock

_PACKAGE = Path(__file__).resolve().parents[1]
# Everything a parse depends on: the readers and parser, and the modules they use.
_PARSER_SOURCES = ("ingest/*.py", "types.py", "names.py", "dutch.py", "government.py")
# The libraries whose output the parser sees: PDF, Word and HTML/XML reading.
_READER_LIBRARIES = ("pypdf", "python-docx", "lxml")


def source_hash(patterns: Iterable[str]) -> str:
    """A short hash of the project's source files matching ``patterns`` (relative to the
    package): it changes whenever that code changes."""
    digest = hashlib.sha256()
    for pattern in patterns:
        for path in sorted(_PACKAGE.glob(pattern)):
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def _library_versions(names: Iterable[str]) -> str:
    """``name==version`` of each installed reader library (``name==none`` when absent)."""
    versions = []
    for name in names:
        try:
            versions.append(f"{name}=={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{name}==none")
    return ",".join(versions)


def parser_version() -> str:
    """A short hash of the parsing code and the reader libraries' versions."""
    key = f"{source_hash(_PARSER_SOURCES)}:{_library_versions(_READER_LIBRARIES)}"
    return hashlib.sha256(key.encode()).hexdigest()[:16]


PARSER_VERSION = parser_version()


@dataclass(frozen=True)
class Parsed:
    """One file's outcome: its document, or why it could not be read (never both)."""

    source: str  # printable path relative to the corpus folder
    size: int
    mtime_ns: int
    sha256: str
    document: Document | None
    reason: str | None = None


class ParseCache:
    """The entries of the previous build, looked up by stamp or by content; new ones kept."""

    def __init__(self, entries: Iterable[Parsed] = (), version: str = PARSER_VERSION) -> None:
        usable = [e for e in entries] if version == PARSER_VERSION else []
        self._by_source = {e.source: e for e in usable}
        self._by_content = {(e.sha256, _stem(e.source)): e for e in usable}
        self.entries: dict[str, Parsed] = {}  # what this build read: the next cache
        self.hits = self.rehashed = self.parsed = 0

    def by_stamp(self, source: str, size: int, mtime_ns: int) -> Parsed | None:
        """The entry of an untouched file (same path, size and modification time)."""
        entry = self._by_source.get(source)
        if entry is not None and (entry.size, entry.mtime_ns) == (size, mtime_ns):
            self.hits += 1
            return entry
        return None

    def by_content(self, source: str, sha256: str) -> Parsed | None:
        """The entry of a file with these very bytes and this document id (a touched or
        moved file): its parse is valid, as the parser sees only the bytes and the id."""
        entry = self._by_content.get((sha256, _stem(source)))
        if entry is not None:
            self.rehashed += 1
        return entry

    def keep(self, entry: Parsed) -> None:
        """Record what this build got for a file."""
        self.entries[entry.source] = entry


def _stem(source: str) -> str:
    name = source.rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[0] if "." in name else name


def write_cache(entries: Iterable[Parsed], path: Path) -> None:
    """One JSON line per file, after a header naming the parser version."""
    with path.open("x", encoding="utf-8") as fh:
        fh.write(json.dumps({"parser": PARSER_VERSION}) + "\n")
        for entry in entries:
            fh.write(json.dumps(asdict(entry), ensure_ascii=False) + "\n")


def read_cache(path: Path) -> ParseCache:
    """The cache at ``path``; an unreadable or other-version cache is an empty one (the
    files are then simply parsed again)."""
    try:
        with path.open(encoding="utf-8") as fh:
            header = json.loads(fh.readline())
            if not isinstance(header, dict) or header.get("parser") != PARSER_VERSION:
                return ParseCache()
            return ParseCache(list(_entries(fh)))
    except (OSError, ValueError, TypeError, KeyError):
        return ParseCache()


def _entries(lines: Iterable[str]) -> Iterator[Parsed]:
    for line in lines:
        row = json.loads(line)
        doc = row["document"]
        yield Parsed(row["source"], int(row["size"]), int(row["mtime_ns"]), row["sha256"],
                     _document(doc) if doc is not None else None, row.get("reason"))


def _document(row: dict) -> Document:
    return Document(
        doc_id=row["doc_id"], source=row["source"], kind=DocKind(row["kind"]),
        meta=DocumentMeta(**row["meta"]),
        blocks=tuple(QABlock(tuple(b["vraag"]), b["question"], b["answer"])
                     for b in row["blocks"]),
        anomalies=tuple(row["anomalies"]), damaged=row.get("damaged"))
