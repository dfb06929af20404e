"""Text cleanup of extraction artefacts: page furniture, footnotes, markdown, wrapped lines.

Everything here is a pure function on strings. The parser calls :func:`prepare_lines` once on
the whole document (it needs page boundaries to recognise footnote text), then
:func:`join_paragraphs` on the lines of each question or answer.

Footnote *reference* digits are handled conservatively: digits glued to a word ("EU4",
"Technopolis7") are left alone because they cannot be told apart from names such as "NIS2" or
"CO2"; digits glued after closing punctuation ("»?1", "SER.3", "(2,6%).6") and markdown
references ("[1 ]") are stripped, as are lone reference lines left by PDF extraction.
"""

from __future__ import annotations

import re
import statistics

from rag.ingest.patterns import PUBLICATION_ID

_DASH = r"[–-]"
_FOOTER_GLUE = re.compile(
    rf"(Tweede Kamer, vergaderjaar \d{{4}}\s*{_DASH}\s*\d{{4}}, (?:Aanhangsel|Vragen))"
    r"(?: ?(\d{1,4}))?"
)
_FURNITURE = [
    re.compile(r"^Tweede Kamer der Staten-Generaal\s*\d?$"),
    PUBLICATION_ID,  # "ah-tk-20232024-784", "kv-tk-2024Z18435"
    re.compile(r"^a?h tk \d{8} \d+$"),  # a footer whose hyphens a converter dropped
    re.compile(r"^ISSN 0921\s*-\s*7398"),
    re.compile(r"^[’'‘]s-Gravenhage \d{4}"),
    re.compile(
        rf"^Tweede Kamer, vergaderjaar \d{{4}}\s*{_DASH}\s*\d{{4}}, (?:Aanhangsel|Vragen)( \d+)?$"
    ),
]
_PAGE_SEPARATOR = re.compile(r"^-{3,}$")
_MD_HEADING = re.compile(r"^#{1,6}\s+")
_MD_FOOTNOTE = re.compile(r"\s?\[\d{1,3}(?: \d{1,3})* ?\]")
_MD_ITALIC = re.compile(r"(?<![\w/])_(?=\S)|(?<=[^\s/])_(?![\w/])")
_FOOTNOTE_START = re.compile(r"^(\d{1,2})\s?(?=[A-Z«(“\"‘\[]|https?:|www\.)")
_LONE_REFS = re.compile(r"^\d{1,2}(?:\s*(?:,|en)?\s*\d{1,2})*$")
_REF_PUNCT_LINE = re.compile(r"^\d{1,2}([.,;:?!»”)]+)$")
_REF_AT_START = re.compile(r"^\d{1,2} (?=[A-Z«])")
_SENTENCE_END = re.compile(r"[.?!»”)]$")
_REF_AFTER_PUNCT = re.compile(
    r"(?<!\bnr)(?<!\bart)(?<!\bblz)(?<!\bno)(?<=[A-Za-zÀ-ÿ%»”)])"  # not "nr.25"
    r"([.?!,;:»”)])\d{1,2}(?:,\s?\d{1,2})*(?=\s|$)"
)
_REF_SPACED = re.compile(r"(?<=[.?!»”])\s\d{1,2}(?:,\s?\d{1,2})*(?=\s+[A-Z]|\s*$)")
_DOCX_REF_AT_END = re.compile(r"(?<=[.?!»”'’])\s\d{1,2}\)$")
_GLUED = re.compile(
    r"(?<![\w-])(de|het|een|van|en|in|op|te|met|voor|aan|door|dat|die|bij|om|naar|over|uit"
    r"|als|is|zijn|ook|niet|tot|mijn|uw|ons|onze|deze|dit)(?=[A-Z][A-Za-z])"
)
_SENTENCE_CLOSE = re.compile(r"[.?!:;][»”’')\]]*$")
_LIST_ITEM = re.compile(r"^(?:[-•–·▪]\s|[a-z]\)\s|\(?[a-z0-9]{1,2}\)\s|\d{1,2}\.\s)")
_CONJUNCTIONS = {"en", "of", "tot", "t/m"}


def normalise(text: str) -> str:
    """Unify line ends and odd spaces, and split page footers glued to the next page's text."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n")
    text = text.replace("\u00a0", " ").replace("\t", " ").replace("\u00ad", "")
    text = re.sub(r"[\u200b\u200c\u200d\ufeff]", "", text)
    page = 0

    def split_footer(m: re.Match[str]) -> str:
        # the page number is glued to whatever follows ("Aanhangsel 1Antwoord 3"); pages are
        # numbered in order, so the expected number tells where the page number ends
        nonlocal page
        page += 1
        digits = m.group(2) or ""
        expected = str(page)
        if digits.startswith(expected):
            rest = digits[len(expected) :]
            return f"{m.group(1)} {expected}\n{rest}"
        return f"{m.group(0)}\n"

    text = _FOOTER_GLUE.sub(split_footer, text)
    text = re.sub(r"(’s-Gravenhage \d{4})(?=Tweede Kamer)", r"\1 ", text)
    return text


def is_markdown(text: str) -> bool:
    """Whether the text looks like a PDF-to-Markdown conversion."""
    return bool(re.search(r"^(#{1,6} |\*\*|-----$)", text, re.M))


def strip_markdown(line: str) -> str:
    """Remove heading hashes, bold/italic markers and ``[1 ]`` footnote references."""
    line = _MD_HEADING.sub("", line)
    line = line.replace("**", "")
    line = _MD_FOOTNOTE.sub("", line)
    return _MD_ITALIC.sub("", line)


def is_furniture(line: str) -> bool:
    """Whether a line is a page header, footer or separator rather than document text."""
    s = line.strip()
    return bool(_PAGE_SEPARATOR.match(s)) or any(p.match(s) for p in _FURNITURE)


def _drop_footnotes(out: list[str], next_fn: int) -> int:
    """Remove the footnote text block at the bottom of the page that ``out`` ends with.

    Footnotes are numbered through the document, so the block starts at the lowest line that
    begins with the next expected number; below it, lines beginning with the following numbers
    start further footnotes and other lines are wrapped continuations. Returns the next expected
    footnote number.
    """
    window = range(max(0, len(out) - 40), len(out))
    starts = [
        i for i in window if (m := _FOOTNOTE_START.match(out[i])) and int(m.group(1)) == next_fn
    ]
    if not starts:
        return next_fn
    first = starts[-1]
    expected = next_fn + 1
    for line in out[first + 1 :]:
        m = _FOOTNOTE_START.match(line)
        if m and int(m.group(1)) == expected:
            expected += 1
    if len(out) - first > 8 * (expected - next_fn) + 4:
        return next_fn
    del out[first:]
    return expected


def prepare_lines(text: str) -> list[str]:
    """Split normalised text into lines without page furniture, footnote text or markdown."""
    markdown = is_markdown(text)
    paged = bool(re.search(r"(?m)^(Tweede Kamer, vergaderjaar|ISSN 0921|-----$)", text))
    out: list[str] = []
    next_fn = 1
    lines = text.split("\n")
    after_furniture = False
    for idx, raw in enumerate(lines):
        line = strip_markdown(raw) if markdown else raw
        line = line.strip()
        if not line and after_furniture:
            continue
        after_furniture = is_furniture(line)
        if after_furniture:
            if line.startswith("Tweede Kamer der Staten-Generaal"):
                # the chamber number may sit on its own line below the header
                if idx + 1 < len(lines) and re.fullmatch(r"#?\s*2\s*", lines[idx + 1]):
                    lines[idx + 1] = ""
            elif paged:
                next_fn = _drop_footnotes(out, next_fn)
                while out and not out[-1]:
                    out.pop()  # a page break is not a paragraph break
            continue
        out.append(line)
    if paged:
        _drop_footnotes(out, next_fn)
        out = _strip_reference_lines(out)
    return out


def _strip_reference_lines(lines: list[str]) -> list[str]:
    """Drop footnote reference marks that PDF extraction put on lines of their own."""
    out: list[str] = []
    for line in lines:
        prev = next((p for p in reversed(out) if p), "")
        if _LONE_REFS.match(line):
            continue
        m = _REF_PUNCT_LINE.match(line)
        if m and out and out[-1]:
            out[-1] += m.group(1)
            continue
        if _REF_AT_START.match(line) and _SENTENCE_END.search(prev):
            line = _REF_AT_START.sub("", line)
        out.append(line)
    return out


def strip_reference_digits(text: str) -> str:
    """Remove footnote digits glued after punctuation ("SER.3 In" -> "SER. In", "»?1" -> "»?")."""
    text = _REF_AFTER_PUNCT.sub(r"\1", text)
    return _REF_SPACED.sub("", text)


def fix_glued_words(text: str) -> str:
    """Split a short Dutch function word glued to a capitalised word ("deStaatssecretaris")."""
    return _GLUED.sub(r"\1 ", text)


def _join_two(left: str, right: str) -> str:
    """Join two wrapped lines, undoing end-of-line hyphenation where it is clearly a break."""
    m = re.search(r"(\w)-$", left[-2:])  # only the tail: left grows with every joined line
    if m and right[:1].isalpha():
        first = right.split(" ", 1)[0]
        if first in _CONJUNCTIONS:
            return f"{left} {right}"  # "midden- en kleinbedrijf"
        if m.group(1).islower() and right[0].islower():
            return left[:-1] + right  # "onderne-" + "mingsklimaat"
        return left + right  # "AI-" + "verordening"
    return f"{left} {right}"


def line_width(lines: list[str]) -> int:
    """The wrap width of a document: a high percentile of its line lengths."""
    lengths = sorted(len(x) for x in lines if len(x) > 20)
    if len(lengths) < 5:
        return 0
    return lengths[int(len(lengths) * 0.9) - 1]


def is_wrapped(lines: list[str]) -> bool:
    """Whether line breaks are layout (PDF) rather than paragraph ends (Word)."""
    body = [x for x in lines if len(x) > 20]
    if len(body) < 5:
        return False
    ends = sum(1 for x in body if re.search(r"[.?!:;]$", x))
    return ends / len(body) < 0.6 or statistics.median(len(x) for x in body) < 100


def split_paragraphs(lines: list[str], wrapped: bool, width: int) -> list[list[str]]:
    """Group lines into paragraphs.

    A line that stops mid-sentence always continues on the next line. A line that closes a
    sentence ends the paragraph in unwrapped (Word) text, and in wrapped (PDF) text only when it
    stops well short of the wrap width. Blank lines and list items always start a paragraph.
    """
    groups: list[list[str]] = []
    current: list[str] = []
    for line in lines:
        line = line.strip()
        if not line or (current and _LIST_ITEM.match(line)):
            if current:
                groups.append(current)
            current = []
            if not line:
                continue
        current.append(line)
        if _SENTENCE_CLOSE.search(line) and (not wrapped or (width and len(line) < 0.75 * width)):
            groups.append(current)
            current = []
    if current:
        groups.append(current)
    return groups


def join_paragraphs(lines: list[str], wrapped: bool, width: int) -> str:
    """Join lines into tidy paragraphs separated by a blank line (see :func:`split_paragraphs`)."""
    paragraphs = []
    for group in split_paragraphs(lines, wrapped, width):
        text = group[0]
        for line in group[1:]:
            text = _join_two(text, line)
        paragraphs.append(tidy(text))
    return "\n\n".join(p for p in paragraphs if p).strip()


def tidy(paragraph: str) -> str:
    """Apply the in-line fixes to one paragraph and collapse runs of spaces."""
    paragraph = strip_reference_digits(paragraph)
    paragraph = _DOCX_REF_AT_END.sub("", paragraph)  # "...stoplicht'? 1)"
    paragraph = fix_glued_words(paragraph)
    return re.sub(r"\s{2,}", " ", paragraph).strip()
