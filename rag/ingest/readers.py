"""Read a source file: text formats into text for the parser, official XML into a Document.

One entry point, :func:`load_document`, turns any supported file into a
:class:`~rag.types.Document` and raises only :class:`~rag.errors.ParseError`:

- ``.txt`` / ``.md``: UTF-8, falling back to cp1252 for legacy Windows exports;
- ``.pdf``: the text layer via pypdf (:mod:`rag.ingest.pdf`); a scanned PDF without one, an
  encrypted or an unreadable PDF is refused with that reason, and one that could be read
  only in part is kept with ``Document.damaged`` saying what is missing;
- ``.docx``: python-docx, auto-numbering restored (:mod:`rag.ingest.word`);
- ``.html`` / ``.htm``: the page text without site chrome (:mod:`rag.ingest.webpage`);
- ``.xml``: the official officielebekendmakingen XML, parsed structurally
  (:mod:`rag.ingest.officialxml`): when the XML is there, it wins over text heuristics.

Limits, each reported as "too large": a file over :data:`MAX_FILE_BYTES` (25 MiB) is refused
unread; a PDF over :data:`rag.ingest.pdf.MAX_PDF_PAGES` (500) pages, a text over
:data:`rag.ingest.parse.MAX_TEXT_CHARS` (1 million characters, 15 times the longest real answer
document) or :data:`rag.ingest.parse.MAX_LINES` (20,000 lines) is refused before parsing; an XML file
with more than :data:`rag.ingest.officialxml.MAX_BLOCKS` vraag/antwoord elements likewise.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from rag.types import Document
from rag.errors import ParseError
from rag.names import printable
from rag.ingest.parse import MAX_TEXT_CHARS, parse_document

TEXT_SUFFIXES = (".txt", ".md", ".pdf", ".docx", ".html", ".htm")
SUPPORTED_SUFFIXES = (*TEXT_SUFFIXES, ".xml")
MAX_FILE_BYTES = 25 * 1024 * 1024


def load_document(path: Path, doc_id: str | None = None, source: str | None = None,
                  max_bytes: int = MAX_FILE_BYTES) -> Document:
    """Read and parse one file of any supported type; any failure is a ParseError.

    ``doc_id`` defaults to the file stem and ``source`` to the file name.
    """
    path = Path(path)
    data = _read_bytes(path, max_bytes)
    return load_bytes(data, path.suffix, doc_id or printable(path.stem),
                      source or printable(path.name))


def load_bytes(data: bytes, suffix: str, doc_id: str, source: str) -> Document:
    """Parse the bytes of a file with the given suffix (``.pdf``, ``.xml`` …) into a Document.

    A file that could be read only in part (a damaged PDF) is returned with ``damaged``
    saying what is missing.
    """
    suffix = suffix.lower()
    try:
        if suffix == ".xml":
            from rag.ingest.officialxml import parse_xml

            _check_nonempty(data, source)
            return parse_xml(data, doc_id, source)
        text, damage = _extract(data, suffix, source)
        doc = parse_document(text, doc_id, source)
        if suffix in (".txt", ".md") and not _is_utf8(data):
            doc = replace(doc, anomalies=(*doc.anomalies, "not UTF-8: decoded as cp1252"))
        if damage:
            doc = replace(doc, damaged=damage, anomalies=(*doc.anomalies, damage))
        return doc
    except ParseError:
        raise
    except Exception as exc:  # a reader bug must still surface as the library's typed error
        raise ParseError(f"{source}: reader failure ({type(exc).__name__}: {exc})") from exc


def read_text(path: Path) -> str:
    """Return the text of a ``.txt``, ``.md``, ``.pdf``, ``.docx`` or ``.html`` file.

    Any failure is a ParseError; ``.xml`` is structured, read it with :func:`load_document`.
    """
    path = Path(path)
    return text_from_bytes(_read_bytes(path, MAX_FILE_BYTES), path.suffix,
                           printable(path.name))


def text_from_bytes(data: bytes, suffix: str, name: str) -> str:
    """The text of a file's bytes by its suffix; any failure is a ParseError."""
    return _extract(data, suffix, name)[0]


def _extract(data: bytes, suffix: str, name: str) -> tuple[str, str | None]:
    """The text, and what is missing when the file could be read only in part."""
    suffix = suffix.lower()
    damage = None
    if suffix not in TEXT_SUFFIXES:
        hint = "; XML is read with load_document" if suffix == ".xml" else ""
        raise ParseError(
            f"{name}: unsupported file type {suffix or '(none)'}; "
            f"expected one of {', '.join(SUPPORTED_SUFFIXES)}{hint}"
        )
    _check_nonempty(data, name)
    try:
        if suffix == ".pdf":
            from rag.ingest.pdf import read_pdf

            pdf = read_pdf(data, name)
            text, damage = pdf.text, pdf.damage
        elif suffix == ".docx":
            from rag.ingest.word import read_docx

            text = read_docx(data, name)
        elif suffix in (".html", ".htm"):
            from rag.ingest.webpage import read_html

            text = read_html(data, name)
        else:
            text = _decode(data, name)
    except ParseError:
        raise
    except Exception as exc:
        raise ParseError(f"{name}: reader failure ({type(exc).__name__}: {exc})") from exc
    if len(text) > MAX_TEXT_CHARS:
        raise ParseError(f"{name}: too large ({len(text):,} characters of text; the limit is "
                         f"{MAX_TEXT_CHARS:,})")
    return text, damage


def _read_bytes(path: Path, max_bytes: int) -> bytes:
    suffix = path.suffix.lower()
    name = printable(path.name)
    if suffix not in SUPPORTED_SUFFIXES:
        raise ParseError(
            f"{name}: unsupported file type {printable(suffix) or '(none)'}; "
            f"expected one of {', '.join(SUPPORTED_SUFFIXES)}"
        )
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


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _check_nonempty(data: bytes, name: str) -> None:
    if not data.strip():
        raise ParseError(f"{name}: empty file")


def _decode(data: bytes, name: str) -> str:
    if b"\x00" in data[:4096] or data.startswith(b"%PDF"):
        raise ParseError(f"{name}: binary data, not a text file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    if not text.strip():
        raise ParseError(f"{name}: empty file")
    return text
