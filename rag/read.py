"""Read a source file into text: plain text, Markdown or PDF (via pypdf)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rag.errors import ParseError

SUPPORTED_SUFFIXES = (".txt", ".md", ".pdf")
PAGE_BREAK = "\n\f\n"  # between PDF pages; the parser treats it as a line break


def read_text(path: Path) -> str:
    """Return the text of a ``.txt``, ``.md`` or ``.pdf`` file; any failure is a ParseError.

    Text files are read as UTF-8, falling back to cp1252 for legacy Windows exports. PDF pages
    are joined with :data:`PAGE_BREAK`.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise ParseError(
            f"{path.name}: unsupported file type {suffix or '(none)'}; "
            f"expected one of {', '.join(SUPPORTED_SUFFIXES)}"
        )
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ParseError(f"{path.name}: cannot read file ({exc.strerror or exc})") from exc
    if not data.strip():
        raise ParseError(f"{path.name}: empty file")
    if suffix == ".pdf":
        return _read_pdf(data, path.name)
    return _decode(data, path.name)


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


@contextmanager
def _quiet_pypdf() -> Iterator[None]:
    """Silence pypdf's per-font warnings (e.g. "fontTools is required") during extraction."""
    logger = logging.getLogger("pypdf")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _read_pdf(data: bytes, name: str) -> str:
    try:
        import pypdf
        from pypdf.errors import FileNotDecryptedError, PdfReadError
    except ImportError as exc:  # pragma: no cover - pypdf is a declared dependency
        raise ParseError(f"{name}: reading PDFs needs pypdf (pip install pypdf)") from exc
    if not data.startswith(b"%PDF"):
        raise ParseError(f"{name}: not a PDF (no %PDF header)")
    import io

    try:
        with _quiet_pypdf():
            reader = pypdf.PdfReader(io.BytesIO(data))
            if reader.is_encrypted:
                try:
                    reader.decrypt("")
                    pages = [page.extract_text() or "" for page in reader.pages]
                except Exception as exc:
                    raise ParseError(f"{name}: encrypted PDF") from exc
            else:
                pages = [page.extract_text() or "" for page in reader.pages]
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
    text = PAGE_BREAK.join(p.strip("\n") for p in pages)
    if not text.strip():
        raise ParseError(f"{name}: no text layer (scanned PDF?)")
    return text
