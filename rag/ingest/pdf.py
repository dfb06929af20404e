"""PDF: the text layer via pypdf, and an honest word when the file is damaged.

pypdf is lenient: a PDF cut off in a download often still opens, because pypdf reads
backwards to the last complete revision or rebuilds a broken cross-reference table. Such a
file is indexed with what could be read, and :attr:`Extracted.damage` says what is missing, so
the build summary names it instead of treating it as whole. Signs of damage:

- bytes after the last end-of-file marker (an incremental update or the rest of the file was
  cut off: pypdf silently shows the older, shorter revision);
- pypdf repairing the file's structure while reading (its warnings about the xref table,
  the startxref pointer or a missing end-of-file marker);
- pages whose text cannot be extracted (the others are kept);
- no end-of-file marker at the end: the file was cut off, and is read with its ending
  supplied (`read_pdf`).
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager

from rag.errors import ParseError
from rag.types import Extracted

PAGE_BREAK = "\n\f\n"  # between PDF pages; the parser treats it as a line break
MAX_PDF_PAGES = 500
# pypdf warnings that mean it had to repair the file's structure (not font or text notes)
_REPAIRS = ("xref", "startxref", "eof marker", "trailer", "object stream", "rebuild",
            "invalid parent", "wrong pointing", "not defined", "previous trailer")
# "3 0 obj << /Type /Catalog": the object a trailer's /Root names (within one object)
_CATALOG = re.compile(rb"(\d+)\s+(\d+)\s+obj\s*<<(?:(?!endobj).){0,2000}?/Type\s*/Catalog\b",
                      re.S)


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextmanager
def _pypdf_warnings() -> Iterator[_Collect]:
    """Collect pypdf's warnings instead of printing them (per-font notes are noise)."""
    logger = logging.getLogger("pypdf")
    collect = _Collect()
    level, propagate = logger.level, logger.propagate
    logger.addHandler(collect)
    logger.setLevel(logging.WARNING)
    logger.propagate = False
    try:
        yield collect
    finally:
        logger.removeHandler(collect)
        logger.setLevel(level)
        logger.propagate = propagate


def read_pdf(data: bytes, name: str) -> Extracted:
    """The text layer of a PDF, pages joined by :data:`PAGE_BREAK`; refuses encrypted,
    scanned and unreadable files.

    A file cut off before its end-of-file marker (a download that stopped) usually cannot
    be opened: its cross-reference table and trailer are at the end. It is read again with
    an ending supplied (`_completions`), so the pages that are there are indexed and the file
    is named damaged; if that fails too, the first error stands.
    """
    if not data.startswith(b"%PDF"):
        raise ParseError(f"{name}: not a PDF (no %PDF header)")
    try:
        return _read(data, name, cut_off=False)
    except ParseError as first:
        if b"%%EOF" in data[-1024:]:
            raise
        for completed in _completions(data):
            try:
                return _read(completed, name, cut_off=True)
            except ParseError:
                continue
        raise first from None


def _completions(data: bytes) -> Iterator[bytes]:
    """A cut-off PDF with what it lacks supplied, from least to most: the end-of-file
    marker alone; then its objects up to the last complete one, with a trailer naming the
    document catalog found among them and a cross-reference pointer pypdf cannot use, so
    that it rebuilds the table from the objects present."""
    yield data + b"\n%%EOF\n"
    catalogs = list(_CATALOG.finditer(data))
    last = data.rfind(b"endobj")
    if catalogs and last > catalogs[-1].start():  # the last: an update's catalog wins
        number, generation = (g.decode() for g in catalogs[-1].groups())
        yield data[:last + len(b"endobj")] + (
            f"\ntrailer\n<< /Root {number} {generation} R >>\nstartxref\n0\n%%EOF\n".encode())


def _read(data: bytes, name: str, cut_off: bool) -> Extracted:
    """Read the pages of ``data``; ``cut_off`` when its ending was supplied."""
    try:
        import pypdf
        from pypdf.errors import FileNotDecryptedError, PdfReadError
    except ImportError as exc:  # pragma: no cover - pypdf is a declared dependency
        raise ParseError(f"{name}: reading PDFs needs pypdf (pip install pypdf)") from exc
    try:
        with _pypdf_warnings() as warnings:
            reader = pypdf.PdfReader(io.BytesIO(data))
            if reader.is_encrypted:
                try:
                    reader.decrypt("")
                    pages, failed = _extract_pages(reader, name)
                except ParseError:
                    raise
                except Exception as exc:
                    raise ParseError(f"{name}: encrypted PDF") from exc
            else:
                pages, failed = _extract_pages(reader, name)
    except ParseError:
        raise
    except FileNotDecryptedError as exc:
        raise ParseError(f"{name}: encrypted PDF") from exc
    except PdfReadError as exc:
        raise ParseError(f"{name}: truncated or corrupt PDF ({exc})") from exc
    except Exception as exc:  # pypdf raises assorted errors on damaged files
        raise ParseError(f"{name}: truncated or corrupt PDF ({type(exc).__name__})") from exc
    if not pages:
        raise ParseError(f"{name}: PDF has no pages")
    if failed == len(pages):
        raise ParseError(f"{name}: truncated or corrupt PDF (no page could be read)")
    text = PAGE_BREAK.join(p.strip("\n") for p in pages)
    letters = sum(1 for c in text if c.isalpha())
    if letters < 20 * (len(pages) - failed):
        # a scan carries at most a stray page number or stamp in its text layer
        raise ParseError(f"{name}: no text layer (scanned PDF? {letters} letters on "
                         f"{len(pages)} pages); run OCR on it first")
    return Extracted(text, damage=_damage(data, len(pages), failed, warnings.messages,
                                          cut_off))


def _extract_pages(reader: object, name: str) -> tuple[list[str], int]:
    """Every page's text ("" for a page that fails) and how many pages failed."""
    pages = reader.pages  # type: ignore[attr-defined]
    if len(pages) > MAX_PDF_PAGES:
        raise ParseError(f"{name}: too large ({len(pages)} pages; the limit is {MAX_PDF_PAGES})")
    texts, failed = [], 0
    for page in pages:
        try:
            texts.append(page.extract_text() or "")
        except Exception:  # one damaged page content stream: keep the other pages
            texts.append("")
            failed += 1
    return texts, failed


def _damage(data: bytes, n_pages: int, failed: int, warnings: list[str],
            cut_off: bool = False) -> str | None:
    """What is missing from a PDF that could be read, or None when it is whole."""
    end = data.rfind(b"%%EOF")
    trailing = len(data.rstrip(b" \t\r\n\x00")) - (end + len(b"%%EOF")) if end >= 0 else 0
    repaired = [w for w in warnings if any(word in w.lower() for word in _REPAIRS)]
    if not (cut_off or trailing > 0 or repaired or failed):
        return None
    read = n_pages - failed
    causes = ["the file ends before its end-of-file marker, so it was cut off"] if cut_off \
        else []
    if trailing > 0:
        causes.append(f"{trailing:,} bytes after the last complete revision, "
                      "so the file was cut off or half updated")
    if repaired:
        causes.append(f"structure repaired while reading ({repaired[0]})")
    if failed:
        causes.append(f"{failed} of {n_pages} pages without readable text")
    return (f"damaged PDF: read {read} page{'s' if read != 1 else ''}, the rest is "
            f"unreadable ({'; '.join(causes)})")
