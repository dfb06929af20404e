"""Plain text and Markdown as extracted by any tool: UTF-8, else cp1252 for Windows exports."""

from __future__ import annotations

from rag.errors import ParseError
from rag.types import Extracted


def read_plain(data: bytes, name: str) -> Extracted:
    """The text of a ``.txt``/``.md`` file; refuses binary data.

    Text that is not UTF-8 is decoded as cp1252 rather than skipped (that would lose a
    readable document) and flagged, so the parse report shows it.
    """
    if b"\x00" in data[:4096] or data.startswith(b"%PDF"):
        raise ParseError(f"{name}: binary data, not a text file")
    try:
        return Extracted(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        return Extracted(data.decode("cp1252", errors="replace"),
                         note="not UTF-8: decoded as cp1252")
