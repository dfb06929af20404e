"""Is a downloaded file what it claims to be? Checked before anything is written.

A file is kept only when all of these hold:

- it is not empty, and its size is the ``ContentLength`` the API lists for it (when it does);
- it is not an HTML page: services answer a missing file with a 200 and an error page, so a
  PDF, Word or XML body that starts like HTML, or is served as ``text/html``, is refused;
- its magic bytes match its type (``%PDF-`` and an ``%%EOF`` near the end for PDF, a zip
  holding ``word/document.xml`` whose checksums agree for Word, ``<`` for XML) and the
  served content type does not contradict it;
- an official XML file does not name another publication than the one asked for;
- it parses with the project's own reader (:func:`rag.ingest.readers.load_bytes`), so every file
  fetch writes can be indexed or is skipped by the build with a reason.
"""

from __future__ import annotations

import io
import re
import zipfile

from rag.errors import FetchError, ParseError
from rag.ingest.readers import load_bytes
from rag.types import Document

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
_TYPES = {
    ".pdf": {"application/pdf", "application/x-pdf", "application/octet-stream", ""},
    ".docx": {DOCX_TYPE, "application/zip", "application/octet-stream", ""},
    ".xml": {"application/xml", "text/xml", "application/octet-stream", ""},
}
NAMES = {".pdf": "a PDF", ".docx": "a Word file", ".xml": "an XML file"}
_HTML = re.compile(rb"^\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html)\b",
                   re.I | re.S)
_SELF_ID = re.compile(rb'name="(?:DC\.identifier|OVERHEIDop\.externMetadataRecord)"[^>]*?'
                      rb'content="([^"]*)"')


def suffix_for(content_type: str | None) -> str | None:
    """The file suffix for a media type the reader can read (``.pdf``, ``.docx``, ``.xml``)."""
    kind = (content_type or "").split(";")[0].strip().lower()
    return {"application/pdf": ".pdf", DOCX_TYPE: ".docx", "application/xml": ".xml",
            "text/xml": ".xml"}.get(kind)


def looks_like_html(content: bytes) -> bool:
    """True for a body that is an HTML page (an error page served in place of a file)."""
    return bool(_HTML.match(content[:4096]))


def check_bytes(content: bytes, suffix: str, served_type: str,
                expected_size: int | None = None) -> None:
    """Raise :class:`FetchError` unless ``content`` is a plausible, complete ``suffix`` file."""
    what = NAMES.get(suffix, suffix)
    if not content.strip():
        raise FetchError(f"empty response where {what} was expected")
    if served_type == "text/html" or looks_like_html(content):
        raise FetchError(f"an HTML page where {what} was expected")
    if expected_size is not None and expected_size > 0 and len(content) != expected_size:
        raise FetchError(f"{len(content)} bytes where the API lists {expected_size}")
    if served_type not in _TYPES.get(suffix, {served_type}):
        raise FetchError(f"served as {served_type} where {what} was expected")
    if suffix == ".pdf":
        if not content.startswith(b"%PDF-"):
            raise FetchError("not a PDF (no %PDF- header)")
        if b"%%EOF" not in content[-2048:]:
            raise FetchError("truncated PDF (no %%EOF at the end)")
    elif suffix == ".docx":
        _check_docx(content)
    elif suffix == ".xml" and not content.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        raise FetchError("not XML")


def _check_docx(content: bytes) -> None:
    if not content.startswith(b"PK\x03\x04"):
        raise FetchError("not a Word file (no zip header)")
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            if "word/document.xml" not in archive.namelist():
                raise FetchError("a zip file without word/document.xml, not a Word file")
            broken = archive.testzip()
    except zipfile.BadZipFile as exc:
        raise FetchError(f"truncated or corrupt Word file ({exc})") from None
    if broken:
        raise FetchError(f"corrupt Word file ({broken} fails its checksum)")


def check_identity(content: bytes, publication_id: str) -> None:
    """Refuse official XML whose metadata names another publication than the one asked for."""
    named = [m.decode("utf-8", "replace") for m in _SELF_ID.findall(content[:16384])]
    if named and not any(re.search(rf"(?<![\w-]){re.escape(publication_id)}(?![\w-])", n)
                         for n in named):
        raise FetchError(f"the XML names itself {named[0]!r}, not {publication_id}")


def verified(content: bytes, suffix: str, served_type: str, doc_id: str,
             expected_size: int | None = None) -> Document:
    """Check ``content`` (see the module docstring) and return what the reader makes of it."""
    check_bytes(content, suffix, served_type, expected_size)
    try:
        return load_bytes(content, suffix, doc_id, f"{doc_id}{suffix}")
    except ParseError as exc:
        message = str(exc).removeprefix(f"{doc_id}{suffix}: ")
        raise FetchError(f"does not parse: {message}") from None
