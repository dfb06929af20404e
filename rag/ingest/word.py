"""Read a Word ``.docx`` file into text with python-docx: one line per paragraph, in body order.

Ministry Word versions number their questions with Word's automatic numbering, whose "1." is
not in the paragraph text; it is recomputed here from the numbering definitions (``w:numPr``
on the paragraph or its style) and put back in front of the paragraph, so the parser sees
``1. Bent u bekend ...`` as in the printed version. Bullets become ``- ``. Table cells are
read row by row; headers, footers and footnote texts are not part of the body and are left out.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from typing import Any

from rag.errors import ParseError

MAX_UNZIPPED_BYTES = 200 * 1024 * 1024  # a zip bomb is refused before python-docx opens it
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # encrypted .docx and legacy .doc files
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_ROMAN = [(1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"),
          (50, "l"), (40, "xl"), (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i")]


def read_docx(data: bytes, name: str) -> str:
    """The text of a ``.docx`` file; every failure is a :class:`ParseError` with the reason."""
    if data.startswith(_OLE_MAGIC):
        raise ParseError(f"{name}: encrypted or old-format (.doc) Word file; save it as an "
                         "unprotected .docx")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unzipped = sum(info.file_size for info in archive.infolist())
            if "word/document.xml" not in archive.namelist():
                raise ParseError(f"{name}: not a Word document (no word/document.xml)")
    except zipfile.BadZipFile as exc:
        raise ParseError(f"{name}: not a valid .docx file (damaged or not a zip archive)") from exc
    except ParseError:
        raise
    except Exception as exc:  # zipfile raises assorted errors on damaged archives
        raise ParseError(f"{name}: damaged .docx file ({type(exc).__name__})") from exc
    if unzipped > MAX_UNZIPPED_BYTES:
        raise ParseError(f"{name}: .docx unpacks to {unzipped // 2**20} MiB, over the "
                         f"{MAX_UNZIPPED_BYTES // 2**20} MiB limit")
    try:
        import docx
    except ImportError as exc:  # pragma: no cover - python-docx is a declared dependency
        raise ParseError(f"{name}: reading .docx needs python-docx (pip install python-docx)"
                         ) from exc
    try:
        document = docx.Document(io.BytesIO(data))
        numbering = _Numbering(document)
        lines = [line for p in _paragraphs(document.element.body)
                 for line in [numbering.label(p) + _text(p)]]
    except ParseError:
        raise
    except Exception as exc:  # python-docx / lxml raise assorted errors on damaged parts
        raise ParseError(f"{name}: damaged .docx file ({type(exc).__name__}: {exc})") from exc
    text = "\n".join(line.rstrip() for line in lines)
    if not text.strip():
        raise ParseError(f"{name}: Word file has no text")
    return text


def _paragraphs(container: Any) -> Iterator[Any]:
    """Every ``w:p`` in reading order, descending into tables and content controls."""
    for child in container.iterchildren():
        tag = child.tag
        if tag == f"{_W}p":
            yield child
        elif tag == f"{_W}tbl":
            for row in child.iterchildren(f"{_W}tr"):
                for cell in row.iterchildren(f"{_W}tc"):
                    yield from _paragraphs(cell)
        elif tag in (f"{_W}sdt", f"{_W}sdtContent", f"{_W}customXml", f"{_W}smartTag"):
            yield from _paragraphs(child)


def _text(p: Any) -> str:
    """The visible text of one paragraph (python-docx maps tabs and breaks to \\t and \\n)."""
    return str(p.text or "").replace("\t", " ")


def _format(value: int, fmt: str) -> str:
    if fmt in ("lowerLetter", "upperLetter"):
        letters = ""
        while value > 0:
            value, rest = divmod(value - 1, 26)
            letters = chr(ord("a") + rest) + letters
        return letters.upper() if fmt == "upperLetter" else letters
    if fmt in ("lowerRoman", "upperRoman"):
        roman = ""
        for number, symbol in _ROMAN:
            while value >= number:
                roman, value = roman + symbol, value - number
        return roman.upper() if fmt == "upperRoman" else roman
    return str(value)


class _Numbering:
    """Word's list counters, replayed over the paragraphs in order."""

    def __init__(self, document: Any) -> None:
        self._levels: dict[str, dict[int, tuple[str, str, int]]] = {}  # numId -> levels
        self._counters: dict[str, list[int | None]] = {}
        self._styles: dict[str, Any] = {}
        try:
            root = document.part.numbering_part.element
        except Exception:  # no numbering part: nothing is auto-numbered
            root = None
        if root is not None:
            abstract = {a.get(f"{_W}abstractNumId"): self._read_levels(a)
                        for a in root.iterchildren(f"{_W}abstractNum")}
            for num in root.iterchildren(f"{_W}num"):
                ref = num.find(f"{_W}abstractNumId")
                levels = dict(abstract.get(ref.get(f"{_W}val") if ref is not None else "", {}))
                for override in num.iterchildren(f"{_W}lvlOverride"):
                    start = override.find(f"{_W}startOverride")
                    ilvl = _int(override.get(f"{_W}ilvl"))
                    if start is not None and ilvl in levels:
                        fmt, text, _ = levels[ilvl]
                        levels[ilvl] = (fmt, text, _int(start.get(f"{_W}val"), 1))
                self._levels[num.get(f"{_W}numId") or ""] = levels
        try:
            styles = document.part.styles.element
            self._styles = {s.get(f"{_W}styleId"): s for s in styles.iterchildren(f"{_W}style")}
        except Exception:
            self._styles = {}

    @staticmethod
    def _read_levels(abstract: Any) -> dict[int, tuple[str, str, int]]:
        levels = {}
        for lvl in abstract.iterchildren(f"{_W}lvl"):
            fmt = lvl.find(f"{_W}numFmt")
            text = lvl.find(f"{_W}lvlText")
            start = lvl.find(f"{_W}start")
            levels[_int(lvl.get(f"{_W}ilvl"))] = (
                fmt.get(f"{_W}val", "decimal") if fmt is not None else "decimal",
                text.get(f"{_W}val", "") if text is not None else "",
                _int(start.get(f"{_W}val"), 1) if start is not None else 1,
            )
        return levels

    def _num_pr(self, p: Any) -> tuple[str, int] | None:
        """(numId, level) from the paragraph, else from its style chain."""
        ppr = p.find(f"{_W}pPr")
        num_pr = ppr.find(f"{_W}numPr") if ppr is not None else None
        style_id = None
        if ppr is not None and (pstyle := ppr.find(f"{_W}pStyle")) is not None:
            style_id = pstyle.get(f"{_W}val")
        seen: set[str] = set()
        while num_pr is None and style_id and style_id not in seen:
            seen.add(style_id)
            style = self._styles.get(style_id)
            if style is None:
                break
            sppr = style.find(f"{_W}pPr")
            num_pr = sppr.find(f"{_W}numPr") if sppr is not None else None
            based = style.find(f"{_W}basedOn")
            style_id = based.get(f"{_W}val") if based is not None else None
        if num_pr is None:
            return None
        num_id = num_pr.find(f"{_W}numId")
        ilvl = num_pr.find(f"{_W}ilvl")
        if num_id is None:
            return None
        return num_id.get(f"{_W}val") or "", _int(ilvl.get(f"{_W}val") if ilvl is not None else 0)

    def label(self, p: Any) -> str:
        """The list label of a paragraph plus a space ("1. ", "a) ", "- "), or ""."""
        found = self._num_pr(p)
        if found is None:
            return ""
        num_id, level = found
        levels = self._levels.get(num_id)
        if not levels or num_id == "0" or not 0 <= level <= 8 or not _text(p).strip():
            return ""
        counters = self._counters.setdefault(num_id, [None] * 9)
        fmt, text, start = levels.get(level, ("decimal", f"%{level + 1}.", 1))
        counters[level] = start if counters[level] is None else counters[level] + 1  # type: ignore[operator]
        for deeper in range(level + 1, 9):
            counters[deeper] = None
        if fmt == "bullet":
            return "- "
        if fmt == "none":
            return ""
        label = text
        for k in range(9):
            if f"%{k + 1}" in label:
                value = counters[k] if counters[k] is not None else levels.get(k, ("", "", 1))[2]
                label = label.replace(f"%{k + 1}", _format(int(value or 1), levels.get(
                    k, ("decimal", "", 1))[0]))
        return f"{label} " if label.strip() else ""


def _int(value: object, default: int = 0) -> int:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return default
