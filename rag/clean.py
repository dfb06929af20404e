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

_DASH = r"[–-]"
_FOOTER_GLUE = re.compile(
    rf"(Tweede Kamer, vergaderjaar \d{{4}}\s*{_DASH}\s*\d{{4}}, (?:Aanhangsel|Vragen))(?: ?(\d{{1,4}}))?"
)
_FURNITURE = [
    re.compile(r"^Tweede Kamer der Staten-Generaal\s*\d?$"),
    re.compile(r"^[a-z]{2}-tk-\S+$"),  # "ah-tk-20232024-784", "kv-tk-2024Z18435"
    re.compile(r"^a?h tk \d{8} \d+$"),  # a footer whose hyphens a converter dropped
    re.compile(r"^ISSN 0921\s*-\s*7398"),
    re.compile(r"^[’'‘]s-Gravenhage \d{4}"),
    re.compile(rf"^Tweede Kamer, vergaderjaar \d{{4}}\s*{_DASH}\s*\d{{4}}, (?:Aanhangsel|Vragen)( \d+)?$"),
]
_PAGE_SEPARATOR = re.compile(r"^-{3,}$")
_MD_HEADING = re.compile(r"^#{1,6}\s+")
_MD_FOOTNOTE = re.compile(r"\s?\[\d{1,3} ?\]")
_MD_ITALIC = re.compile(r"(?<![\w/])_(?=\S)|(?<=[^\s/])_(?![\w/])")
_FOOTNOTE_START = re.compile(r"^(\d{1,2})(?:\s(?=\S)|(?=[^\s\d.,;:%)\]/-]))")
_LONE_REFS = re.compile(r"^\d{1,2}(?:\s*(?:,|en)?\s*\d{1,2})*$")
_REF_PUNCT_LINE = re.compile(r"^\d{1,2}([.,;:?!»”)]+)$")
_REF_AT_START = re.compile(r"^\d{1,2} (?=[A-Z«])")
_SENTENCE_END = re.compile(r"[.?!»”)]$")
_REF_AFTER_PUNCT = re.compile(r"(?<=[A-Za-zÀ-ÿ%»”)])([.?!,;:»”)])\d{1,2}(?:,\s?\d{1,2})*(?=\s|$)")
_REF_SPACED = re.compile(r"(?<=[.?!»”])\s\d{1,2}(?:,\s?\d{1,2})*(?=\s+[A-Z]|\s*$)")
_GLUED = re.compile(
    r"(?<![\w-])(de|het|een|van|en|in|op|te|met|voor|aan|door|dat|die|bij|om|naar|over|uit"
    r"|als|is|zijn|ook|niet|tot|mijn|uw|ons|onze|deze|dit)(?=[A-Z][A-Za-z])"
)
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

    A block is a run of lines above the page end whose numbered lines count down to the next
    expected footnote number (footnotes are numbered through the document); lines between them
    are wrapped continuations. Returns the next expected footnote number.
    """
    numbered: list[tuple[int, int]] = []
    for i in range(len(out) - 1, max(-1, len(out) - 40), -1):
        m = _FOOTNOTE_START.match(out[i].strip())
        if m:
            numbered.append((i, int(m.group(1))))
    if not numbered:
        return next_fn
    top = numbered[0][1]
    if top < next_fn or top > next_fn + 15:
        return next_fn
    expected = top
    for i, n in numbered:
        if n > top:
            continue  # a wrapped line that happens to start with a number ("31 augustus")
        if n != expected:
            return next_fn
        if n == next_fn:
            if len(out) - i > 8 * (top - n + 1) + 4:
                return next_fn
            del out[i:]
            return top + 1
        expected -= 1
    return next_fn


def prepare_lines(text: str) -> list[str]:
    """Split normalised text into lines without page furniture, footnote text or markdown."""
    markdown = is_markdown(text)
    paged = bool(re.search(r"(?m)^(Tweede Kamer, vergaderjaar|ISSN 0921)", text))
    out: list[str] = []
    next_fn = 1
    lines = text.split("\n")
    for idx, raw in enumerate(lines):
        line = strip_markdown(raw) if markdown else raw
        line = line.strip()
        if is_furniture(line):
            if line.startswith("Tweede Kamer der Staten-Generaal"):
                # the chamber number may sit on its own line below the header
                if idx + 1 < len(lines) and re.fullmatch(r"#?\s*2\s*", lines[idx + 1]):
                    lines[idx + 1] = ""
            elif paged:
                next_fn = _drop_footnotes(out, next_fn)
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
    m = re.search(r"(\w)-$", left)
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


def join_paragraphs(lines: list[str], wrapped: bool, width: int) -> str:
    """Join lines into paragraphs separated by a blank line, then tidy the text.

    Blank lines always end a paragraph. In wrapped (PDF) text a line also ends a paragraph when
    it closes a sentence well short of the wrap width; in unwrapped (Word) text every line does.
    """
    paragraphs: list[str] = []
    current = ""
    for line in lines:
        line = line.strip()
        if not line:
            if current:
                paragraphs.append(current)
            current = ""
            continue
        current = _join_two(current, line) if current else line
        short = width and len(line) < 0.75 * width
        if not wrapped or (short and re.search(r"[.?!:]$", line)):
            paragraphs.append(current)
            current = ""
    if current:
        paragraphs.append(current)
    text = "\n\n".join(tidy(p) for p in paragraphs)
    return text.strip()


def tidy(paragraph: str) -> str:
    """Apply the in-line fixes to one paragraph and collapse runs of spaces."""
    paragraph = strip_reference_digits(paragraph)
    paragraph = fix_glued_words(paragraph)
    return re.sub(r"\s{2,}", " ", paragraph).strip()
