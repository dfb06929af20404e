"""Read an HTML page (as saved from tweedekamer.nl) into text, without the site's chrome.

Scripts, styles, navigation, header, footer, forms, cookie banners and hidden elements are
removed; when the page has a ``<main>`` (or ``role="main"``, or an ``<article>``) only that is
read. Block elements (paragraphs, headings, list items, table rows, ``<br>``) end a line, so the
text has the shape of the page as a reader sees it: a title line, the intro, ``Vraag 1`` …
``Antwoord 1`` … and the "Ondertekenaars" trailer, which the parser then handles like the
bundled sample. Footnotes (reference marks, a ``<sup>`` number linking to ``#…``, and the
footnote list) are dropped, as the text parser drops them; list items keep a "- " or "1. ".
"""

from __future__ import annotations

import re

from rag.errors import ParseError

_DROP_TAGS = (
    "script", "style", "noscript", "template", "nav", "aside", "form", "button", "svg",
    "iframe", "object", "embed", "select", "dialog", "head",
)
_CHROME_TAGS = ("header", "footer")  # site chrome when outside the main content
_DROP_MARKERS = re.compile(
    r"cookie|breadcrumb|skip-?link|site-?header|site-?footer|menu|navbar|share|social|banner"
    r"|footnote|voetnoot",  # footnote texts and reference marks, as the text parser drops them
    re.I,
)
_BLOCK = {
    "p", "div", "section", "article", "main", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul",
    "ol", "dl", "dt", "dd", "tr", "table", "thead", "tbody", "blockquote", "pre", "figure",
    "figcaption", "address", "hr", "caption", "details", "summary",
}
_CELL = {"td", "th"}
_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_-]+)""", re.I)


def decode_html(data: bytes) -> str:
    """Decode by the page's declared charset, else UTF-8, else cp1252."""
    declared = _CHARSET.search(data[:4096])
    for encoding in ([declared.group(1).decode("ascii")] if declared else []) + ["utf-8-sig"]:
        try:
            return data.decode(encoding)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("cp1252", errors="replace")


def read_html(data: bytes, name: str) -> str:
    """The readable text of an HTML page; every failure is a :class:`ParseError`."""
    if b"\x00" in data[:4096]:
        raise ParseError(f"{name}: binary data, not an HTML page")
    try:
        import lxml.etree
        import lxml.html
    except ImportError as exc:  # pragma: no cover - lxml is a declared dependency
        raise ParseError(f"{name}: reading HTML needs lxml (pip install lxml)") from exc
    markup = decode_html(data)
    # lxml refuses a str that still declares its encoding
    markup = re.sub(r"^\s*<\?xml[^>]*\?>", "", markup)
    try:
        parser = lxml.html.HTMLParser(no_network=True, remove_comments=True, remove_pis=True)
        root = lxml.html.document_fromstring(markup, parser=parser)
    except Exception as exc:  # lxml raises ParserError / ValueError on empty or junk input
        raise ParseError(f"{name}: not a readable HTML page ({type(exc).__name__})") from exc
    body = _main_content(root)
    if body.tag == "body":  # type: ignore[attr-defined]
        for el in list(body.iter(*_CHROME_TAGS)):  # type: ignore[attr-defined]
            _remove(el)
    for el in list(body.iter(*_DROP_TAGS)):  # type: ignore[attr-defined]
        _remove(el)
    for el in list(body.iter()):  # type: ignore[attr-defined]
        if not isinstance(el.tag, str):
            continue
        marker = f"{el.get('class', '')} {el.get('id', '')} {el.get('role', '')}"
        hidden = el.get("hidden") is not None or el.get("aria-hidden") == "true" or re.search(
            r"display\s*:\s*none", el.get("style", ""))
        if el is body:
            continue
        chrome = el.get("role") in ("navigation", "banner", "contentinfo") or (
            _DROP_MARKERS.search(marker) and el.tag not in ("main", "article"))
        if hidden or chrome or (el.tag == "sup" and _is_footnote_ref(el)):
            _remove(el)
    text = _block_text(body)
    if not text.strip():
        raise ParseError(f"{name}: HTML page has no text")
    return text


def _remove(el: object) -> None:
    """Drop an element but keep the text that follows it (its tail)."""
    el.drop_tree()  # type: ignore[attr-defined]


def _is_footnote_ref(sup: object) -> bool:
    text = (sup.text_content() or "").strip()  # type: ignore[attr-defined]
    if not re.fullmatch(r"\[?\d{1,3}\]?", text):
        return False
    links = [sup, *sup.iterancestors("a"), *sup.iter("a")]  # type: ignore[attr-defined]
    return any(str(a.get("href", "")).startswith("#") for a in links if a.tag == "a")


def _main_content(root: object) -> object:
    for query in ("//main", "//*[@role='main']", "//article", "//body"):
        # the first match in document order; a page has one main content area
        found = root.xpath(query)  # type: ignore[attr-defined]
        if found:
            return found[0]
    return root


def _block_text(root: object) -> str:
    """Text with a line break around every block element and a space between table cells."""
    parts: list[str] = []

    def walk(el: object) -> None:
        tag = el.tag if isinstance(el.tag, str) else ""  # type: ignore[attr-defined]
        block = tag in _BLOCK
        if tag == "br":
            parts.append("\n")  # a line break inside a paragraph, not a paragraph break
        elif block:
            parts.append("\n")
        elif tag in _CELL:
            parts.append(" ")
        if tag == "li":
            parent = el.getparent()  # type: ignore[attr-defined]
            if parent is not None and parent.tag == "ol":
                parts.append(f"{list(parent.iterchildren('li')).index(el) + 1}. ")
            else:
                parts.append("- ")
        if el.text:  # type: ignore[attr-defined]
            parts.append(el.text)  # type: ignore[attr-defined]
        for child in el:  # type: ignore[attr-defined]
            walk(child)
            if child.tail:
                parts.append(child.tail)
        if block:
            parts.append("\n")

    walk(root)
    raw = "".join(parts).split("\n")
    lines = (re.sub(r"[ \t\r\f\v\u00a0]+", " ", line).strip() for line in raw)
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip()
