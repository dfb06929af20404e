"""Read a source file: a registry of readers by suffix, one entry point for all of them.

:func:`load_document` turns any supported file into a :class:`~rag.types.Document` and raises
only :class:`~rag.errors.ParseError`. The readers (:data:`READERS`), each in its own module:

- ``.xml``: the official officielebekendmakingen XML, parsed structurally
  (:mod:`rag.ingest.officialxml`): when the XML is there, it wins over text heuristics;
- ``.pdf``: the text layer via pypdf (:mod:`rag.ingest.pdf`); a scanned PDF without one, an
  encrypted or an unreadable PDF is refused with that reason, and one that could be read
  only in part is kept with ``Document.damaged`` saying what is missing;
- ``.html`` / ``.htm``: the page text without site chrome (:mod:`rag.ingest.webpage`);
- ``.docx``: python-docx, auto-numbering restored (:mod:`rag.ingest.word`);
- ``.md`` / ``.txt``: UTF-8, falling back to cp1252 (:mod:`rag.ingest.plaintext`).

The order of the registry is also which copy is kept when two files share a document id
(structured first, then the official layout). Limits, each reported as "too large": a file
over :data:`MAX_FILE_BYTES` (25 MiB) is refused unread; a PDF over 500 pages
(:data:`rag.ingest.pdf.MAX_PDF_PAGES`), a text over 1 million characters
(:data:`rag.ingest.parse.MAX_TEXT_CHARS`, 15 times the longest real answer document) or
20,000 lines is refused before parsing; an XML file with more than
:data:`rag.ingest.officialxml.MAX_BLOCKS` vraag/antwoord elements likewise.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from rag.errors import ParseError
from rag.ingest.parse import MAX_TEXT_CHARS, parse_document
from rag.names import printable
from rag.types import Document, Extracted

MAX_FILE_BYTES = 25 * 1024 * 1024


@dataclass(frozen=True)
class Reader:
    """How one kind of file is read: into text for the parser, or straight into a Document."""

    kind: str
    suffixes: tuple[str, ...]
    text: Callable[[bytes, str], Extracted] | None = None
    document: Callable[[bytes, str, str], Document] | None = None


# Each reader imports its library only when used, so `rag --help` stays fast.
def _xml(data: bytes, doc_id: str, source: str) -> Document:
    from rag.ingest.officialxml import parse_xml

    return parse_xml(data, doc_id, source)


def _pdf(data: bytes, name: str) -> Extracted:
    from rag.ingest.pdf import read_pdf

    return read_pdf(data, name)


def _html(data: bytes, name: str) -> Extracted:
    from rag.ingest.webpage import read_html

    return Extracted(read_html(data, name))


def _docx(data: bytes, name: str) -> Extracted:
    from rag.ingest.word import read_docx

    return Extracted(read_docx(data, name))


def _plain(data: bytes, name: str) -> Extracted:
    from rag.ingest.plaintext import read_plain

    return read_plain(data, name)


# In order of preference for a duplicated document id: structured first, then the layout
# closest to the official publication.
READERS = (
    Reader("official XML", (".xml",), document=_xml),
    Reader("PDF", (".pdf",), text=_pdf),
    Reader("web page", (".html", ".htm"), text=_html),
    Reader("Word", (".docx",), text=_docx),
    Reader("Markdown", (".md",), text=_plain),
    Reader("text", (".txt",), text=_plain),
)
_BY_SUFFIX = {suffix: reader for reader in READERS for suffix in reader.suffixes}
SUPPORTED_SUFFIXES = tuple(_BY_SUFFIX)


def reader_for(suffix: str) -> Reader | None:
    """The reader for a file suffix (any case), or None for an unsupported one."""
    return _BY_SUFFIX.get(suffix.lower())


def preference(suffix: str) -> int:
    """Which copy of a duplicated document id is kept: lower wins."""
    reader = reader_for(suffix)
    return READERS.index(reader) if reader is not None else len(READERS)


def _unsupported(name: str, suffix: str) -> ParseError:
    return ParseError(f"{name}: unsupported file type {printable(suffix) or '(none)'}; "
                      f"expected one of {', '.join(SUPPORTED_SUFFIXES)}")


def load_document(path: Path, doc_id: str | None = None, source: str | None = None,
                  max_bytes: int = MAX_FILE_BYTES) -> Document:
    """Read and parse one file of any supported type; any failure is a ParseError.

    ``doc_id`` defaults to the file stem and ``source`` to the file name.
    """
    path = Path(path)
    data = read_file(path, max_bytes)
    return load_bytes(data, path.suffix, doc_id or printable(path.stem),
                      source or printable(path.name))


def load_bytes(data: bytes, suffix: str, doc_id: str, source: str) -> Document:
    """Parse the bytes of a file with the given suffix (``.pdf``, ``.xml`` …) into a Document.

    A file that could be read only in part (a damaged PDF) is returned with ``damaged``
    saying what is missing.
    """
    reader = reader_for(suffix)
    if reader is None:
        raise _unsupported(source, suffix)
    try:
        if reader.document is not None:
            _check_nonempty(data, source)
            return reader.document(data, doc_id, source)
        extracted = _extract(reader, data, source)
        doc = parse_document(extracted.text, doc_id, source)
        notes = tuple(n for n in (extracted.note, extracted.damage) if n)
        if notes:
            doc = replace(doc, damaged=extracted.damage, anomalies=(*doc.anomalies, *notes))
        return doc
    except ParseError:
        raise
    except Exception as exc:  # a reader bug must still surface as the library's typed error
        raise ParseError(f"{source}: reader failure ({type(exc).__name__}: {exc})") from exc


def read_text(path: Path) -> str:
    """The text a ``.txt``, ``.md``, ``.pdf``, ``.docx`` or ``.html`` file gives the parser.

    Any failure is a ParseError; ``.xml`` is structured, read it with :func:`load_document`.
    """
    path = Path(path)
    name = printable(path.name)
    reader = reader_for(path.suffix)
    if reader is None:
        raise _unsupported(name, path.suffix)
    if reader.text is None:
        raise ParseError(f"{name}: {reader.kind} is structured; read it with load_document")
    return _extract(reader, read_file(path, MAX_FILE_BYTES), name).text


def _extract(reader: Reader, data: bytes, name: str) -> Extracted:
    """A text reader's result, within the limits; any failure is a ParseError."""
    assert reader.text is not None
    _check_nonempty(data, name)
    try:
        extracted = reader.text(data, name)
    except ParseError:
        raise
    except Exception as exc:
        raise ParseError(f"{name}: reader failure ({type(exc).__name__}: {exc})") from exc
    if not extracted.text.strip():
        raise ParseError(f"{name}: empty file")
    if len(extracted.text) > MAX_TEXT_CHARS:
        raise ParseError(f"{name}: too large ({len(extracted.text):,} characters of text; "
                         f"the limit is {MAX_TEXT_CHARS:,})")
    return extracted


def read_file(path: Path, max_bytes: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of a supported file within the size limit; any failure is a ParseError."""
    name = printable(path.name)
    if reader_for(path.suffix) is None:
        raise _unsupported(name, path.suffix)
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise ParseError(f"{name}: too large ({size / 2**20:.1f} MiB; the limit is "
                             f"{max_bytes / 2**20:.0f} MiB)")
        if not path.is_file():
            raise ParseError(f"{name}: not a regular file")
        with path.open("rb") as fh:
            data = fh.read(max_bytes + 1)
    except OSError as exc:
        raise ParseError(f"{name}: cannot read file ({exc.strerror or exc})") from exc
    if len(data) > max_bytes:  # grew after stat
        raise ParseError(f"{name}: too large (over {max_bytes / 2**20:.0f} MiB)")
    return data


def _check_nonempty(data: bytes, name: str) -> None:
    if not data.strip():
        raise ParseError(f"{name}: empty file")
