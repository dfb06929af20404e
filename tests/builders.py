"""Builders for test files in every supported format, written into ``tmp_path`` by the tests."""

from __future__ import annotations

import html
import re
import zlib
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
XML_SAMPLE = DATA / "ah-tk-20232024-2096.xml"
HTML_SAMPLE = DATA / "tweedekamer-ah-tk-20232024-2096.html"
_DOT_QUESTION = re.compile(r"^(\d{1,2})\.\s+(\S.*)$")


def write_docx(path: Path, text: str, autonumber: bool = True) -> Path:
    """A Word file with one paragraph per line of ``text``.

    With ``autonumber``, lines "1. Vraag…" become Word auto-numbered paragraphs (style "List
    Number") whose text no longer holds the "1.": the reader must put the number back.
    """
    import docx

    document = docx.Document()
    for line in text.split("\n"):
        m = _DOT_QUESTION.match(line)
        if autonumber and m:
            document.add_paragraph(m.group(2), style="List Number")
        else:
            document.add_paragraph(line)
    document.save(str(path))
    return path


def write_pdf(path: Path, lines: list[str], encrypt: bool = False) -> Path:
    """A small text PDF (Helvetica, one page per 45 lines) written without a PDF library."""
    pages = [lines[i:i + 45] for i in range(0, len(lines), 45)] or [[]]
    objects: list[bytes] = [b"<< /Type /Catalog /Pages 2 0 R >>", b""]
    font_ref = 3
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica "
                   b"/Encoding /WinAnsiEncoding >>")
    kids = []
    for page in pages:
        ops = ["BT", "/F1 10 Tf", "12 TL", "50 800 Td"]
        for line in page:
            escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
            ops.append(f"({escaped}) Tj T*")
        ops.append("ET")
        stream = zlib.compress("\n".join(ops).encode("cp1252", errors="replace"))
        objects.append(b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream)
                       + stream + b"\nendstream")
        content_ref = len(objects)
        objects.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
                       b"/Resources << /Font << /F1 %d 0 R >> >> /Contents %d 0 R >>"
                       % (font_ref, content_ref))
        kids.append(len(objects))
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
        b" ".join(b"%d 0 R" % k for k in kids), len(kids))
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    path.write_bytes(bytes(out))
    if encrypt:
        import pypdf

        writer = pypdf.PdfWriter(clone_from=str(path))
        writer.encrypt(user_password="geheim", owner_password="eigenaar")
        with path.open("wb") as fh:
            writer.write(fh)
    return path


def html_page(text: str, title: str = "Antwoord schriftelijke vragen") -> str:
    """``text`` as a tweedekamer.nl-like page: lines in paragraphs, markers as headings,
    inside site chrome (menu, cookie banner, scripts, footer) that must not reach the text."""
    body: list[str] = []
    lines: list[str] = []

    def flush() -> None:
        if lines:  # the page's own line breaks inside a paragraph, as the sample has them
            body.append(f"<p>{'<br>'.join(lines)}</p>")
            lines.clear()

    for line in text.split("\n"):
        escaped = html.escape(line)
        if re.match(r"^(Vraag|Antwoord) \d", line):
            flush()
            body.append(f"<h2>{escaped}</h2>")
        elif line.strip():
            lines.append(escaped)
        else:
            flush()
    flush()
    return f"""<!DOCTYPE html>
<html lang="nl"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<script>var x = "Vraag 99 scripttekst";</script><style>p {{ margin: 0 }}</style></head>
<body><div class="cookie-banner">Wij gebruiken cookies</div>
<header><nav><a href="/">Home</a> <a href="/kamervragen">Kamervragen menutekst</a></nav></header>
<main><article>{"".join(body)}</article></main>
<footer>Tweede Kamer footertekst</footer><script>track("Antwoord 98")</script></body></html>
"""
