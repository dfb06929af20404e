"""Parse the text of an Aanhangsel document into numbered question/answer blocks.

The entry point :func:`parse_document` is pure: text in, :class:`~rag.types.Document` out.
It recognises the numbering styles met in practice:

- ``Vraag 1`` / ``Antwoord 1`` (printed Aanhangsel, website, Markdown conversions), including
  combined blocks such as ``Vraag 2 en 3`` / ``Antwoord 2 en 3``;
- ministry Word versions: questions numbered ``1.`` or a bare ``1`` line, answered by
  ``Antwoord vraag 1:``, ``Antwoord op vraag 1``, ``Antwoord vragen 1,2,3,4 en 5``,
  ``Antwoord vraag 4-7:`` or a bare ``Antwoord`` (which answers the questions since the last
  answer).

Question-only documents (QUESTIONS) and postponement notices (NOTICE) keep their questions as
blocks with an empty answer; only ANSWERS documents are meant to be indexed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from itertools import pairwise

from rag.errors import ParseError
from rag.ingest import clean
from rag.ingest.meta import extract_meta
from rag.ingest.patterns import NUMBERS, zaak_number
from rag.types import DocKind, Document, DocumentMeta, QABlock

# Far above any real document (the longest in the shared corpus: 64,000 characters, 343
# lines) and low enough that parsing stays within seconds: the parser is linear in lines but
# pairing answers with questions is quadratic in the number of numbered blocks.
MAX_TEXT_CHARS = 1_000_000
MAX_LINES = 20_000
MAX_SEGMENTS = 1_000

_NUMS = NUMBERS
_VRAAG = re.compile(rf"^Vraag\s+(?P<nums>{_NUMS})\s*[.:]?(?:\s*:\s*(?P<rest>.*))?$")
_ANTWOORD = re.compile(
    rf"^Antwoord(?:en)?(?:\s+op)?(?:\s+(?:de\s+)?vra(?:ag|gen))?(?:\s+(?P<nums>{_NUMS}))?\s*"
    r"(?::\s*(?P<rest>.*))?$"
)
_DOT = re.compile(r"^(?P<nums>\d{1,2})[.)]\s+(?P<rest>\S.*)$")
_BARE = re.compile(r"^(?P<nums>\d{1,2})$")
_TRAILER = re.compile(
    r"^(?:Ondertekenaars|Eerste ondertekenaar|Gerelateerde documenten|Bijlagen?|Toelichting"
    r"|Mededeling)\s*:?(?:\s|$)"
)
_DOCX_FOOTNOTE = re.compile(r"^(\d{1,2})\)\s+\S")
_MAX_FOOTNOTE_CANDIDATES = 50
_NOTICE = re.compile(r"(?m)^(?:Mededeling(?: van)?\b)")
_ASKED = re.compile(r"(?:Mondelinge\s+)?[Vv]ragen van .{3,}?(?:\(ingezonden|\baan\b)", re.S)


@dataclass
class _Segment:
    """A marker line and the lines that follow it up to the next marker."""

    kind: str  # "Q" or "A"
    nums: tuple[int, ...]
    lines: list[str] = field(default_factory=list)


def parse_numbers(spec: str) -> tuple[int, ...]:
    """Expand a number list such as ``"1,2,3,4 en 5"``, ``"4-7"`` or ``"2 t/m 4"``."""
    spec = re.sub(r"\s*(?:t/m|tot en met|[-–])\s*", "-", spec)
    nums: list[int] = []
    for part in re.split(r"\s*(?:,|\ben\b)\s*", spec):
        if not part:
            continue
        if "-" in part:
            lo, hi = (int(x) for x in part.split("-", 1))
            if lo <= hi <= lo + 30:
                nums.extend(range(lo, hi + 1))
            else:
                nums.extend([lo, hi])
        else:
            nums.append(int(part))
    return tuple(dict.fromkeys(nums))


def _label(nums: tuple[int, ...]) -> str:
    return ", ".join(str(n) for n in nums)


def _question_style(lines: list[str]) -> str:
    """Choose how questions are numbered: "vraag", "dot" ("1. ...") or "bare" ("1")."""
    if any(_VRAAG.match(x) for x in lines):
        return "vraag"
    if any(m and m.group("nums") == "1" for m in map(_DOT.match, lines)):
        return "dot"
    return "bare"


def _segments(lines: list[str]) -> tuple[list[str], list[_Segment]]:
    """Split lines into the intro and a list of question/answer segments."""
    style = _question_style(lines)
    qpattern = {"vraag": _VRAAG, "dot": _DOT, "bare": _BARE}[style]
    intro: list[str] = []
    segments: list[_Segment] = []
    expected = 1
    for line in lines:
        q = qpattern.match(line)
        if q and style != "vraag" and int(q.group("nums")) != expected:
            q = None  # numbered paragraphs also occur inside answers: only the next number counts
        if q:
            nums = parse_numbers(q.group("nums"))
            segments.append(_Segment("Q", nums))
            expected = max(nums) + 1
            rest = q.groupdict().get("rest")
            if rest:
                segments[-1].lines.append(rest)
            continue
        a = _ANTWOORD.match(line) if segments else None
        if a:
            nums = parse_numbers(a.group("nums")) if a.group("nums") else ()
            segments.append(_Segment("A", nums))
            if a.group("rest"):
                segments[-1].lines.append(a.group("rest"))
            continue
        (segments[-1].lines if segments else intro).append(line)
    return intro, segments


def _cut_trailer(lines: list[str], full_text: str) -> list[str]:
    """Drop what follows the last answer: signatures, related documents, notes, footnotes."""
    candidates = 0
    for i, line in enumerate(lines):
        if _TRAILER.match(line):
            return lines[:i]
        m = _DOCX_FOOTNOTE.match(line)
        if m and candidates < _MAX_FOOTNOTE_CANDIDATES:
            # each check scans the text before the line: bounded, or a file of "1) x" lines
            # would take quadratic time
            candidates += 1
            if re.compile(rf"\s{m.group(1)}\)").search(full_text, 0, full_text.find(line)):
                return lines[:i]
    return lines


def _recover_question(prev: _Segment | None, wrapped: bool, width: int) -> list[str]:
    """Take a question whose marker was lost from the tail of the previous answer.

    Page-break damage in conversions can drop a ``Vraag N`` line, leaving the question text at
    the end of the previous answer; it is recognised as a final paragraph ending in "?".
    """
    if prev is None or prev.kind != "A":
        return []
    groups = clean.split_paragraphs(prev.lines, wrapped, width)
    if len(groups) < 2 or not groups[-1][-1].endswith("?"):
        return []
    prev.lines = [line for group in groups[:-1] for line in (*group, "")]
    return groups[-1]


def _pair(segments: list[_Segment], wrapped: bool, width: int) -> tuple[list[QABlock], list[str]]:
    """Pair answers with the questions they answer; unanswered questions get an empty answer."""
    blocks: list[QABlock] = []
    anomalies: list[str] = []
    pending: list[_Segment] = []
    seen: list[_Segment] = []
    position: dict[int, int] = {}  # id(segment) -> its index in seen (identity, not equality)

    def text_of(seg: _Segment) -> str:
        return clean.join_paragraphs(seg.lines, wrapped, width)

    def flush(qs: list[_Segment]) -> None:
        for q in qs:
            blocks.append(QABlock(q.nums, text_of(q), ""))

    for i, seg in enumerate(segments):
        if seg.kind == "Q":
            if seen and seen[-1].nums == seg.nums and seen[-1].lines == seg.lines:
                anomalies.append(f"vraag {_label(seg.nums)} repeated in source")
                continue
            pending.append(seg)
            position[id(seg)] = len(seen)
            seen.append(seg)
            continue
        if seg.nums:
            nums = seg.nums
            qs = [q for q in pending if set(q.nums) & set(nums)]
            if not qs:
                qs = [q for q in seen if set(q.nums) & set(nums)]
        else:
            qs = pending[:]
            nums = tuple(n for q in qs for n in q.nums)
        if not nums:
            anomalies.append("answer without a question")
            continue
        if qs:
            first = position[id(qs[0])]
            chosen = {id(q) for q in qs}
            flush([q for q in pending if id(q) not in chosen and position[id(q)] < first])
            pending = [q for q in pending if id(q) not in chosen and position[id(q)] > first]
            question = "\n\n".join(text_of(q) for q in qs)
        else:
            flush(pending)
            pending = []
            recovered = _recover_question(segments[i - 1] if i else None, wrapped, width)
            if recovered:
                anomalies.append(f"vraag {_label(nums)} has no marker; question taken from text")
                if blocks and blocks[-1].vraag == segments[i - 1].nums:
                    blocks[-1] = QABlock(
                        blocks[-1].vraag, blocks[-1].question, text_of(segments[i - 1])
                    )
            else:
                anomalies.append(f"antwoord {_label(nums)} without a question")
            question = text_of(_Segment("Q", nums, recovered))
        blocks.append(QABlock(nums, question, text_of(seg)))
    flush(pending)
    return blocks, anomalies


def check_blocks(blocks: list[QABlock], kind: DocKind) -> list[str]:
    """Describe numbering gaps, duplicates and empty texts for a reviewer."""
    anomalies: list[str] = []
    numbers = [n for b in blocks for n in b.vraag]
    counts: dict[int, int] = {}
    for n in numbers:
        counts[n] = counts.get(n, 0) + 1
    anomalies += [f"duplicate vraag {n}" for n, c in counts.items() if c > 1]
    if numbers and numbers != sorted(numbers):
        anomalies.append(f"vraag numbers out of order: {_label(tuple(numbers))}")
    unique = sorted(counts)
    if unique and unique[0] != 1:
        anomalies.append(f"numbering starts at {unique[0]}")
    anomalies += [f"gap in numbering: {a} -> {b}" for a, b in pairwise(unique) if b - a > 1]
    for b in blocks:
        if not b.question:
            anomalies.append(f"empty question for vraag {_label(b.vraag)}")
        if kind is DocKind.ANSWERS and not b.answer:
            anomalies.append(f"empty answer for vraag {_label(b.vraag)}")
    return anomalies


def _reject_garbage(text: object) -> str:
    if not isinstance(text, str):
        raise ParseError(f"expected text, got {type(text).__name__}")
    if not text.strip():
        raise ParseError("empty text")
    if len(text) > MAX_TEXT_CHARS:
        raise ParseError(f"too large ({len(text):,} characters of text; the limit is "
                         f"{MAX_TEXT_CHARS:,})")
    lines = text.count("\n") + text.count("\r") + text.count("\f")
    if lines > MAX_LINES:
        raise ParseError(f"too large ({lines:,} lines; the limit is {MAX_LINES:,})")
    odd = sum(1 for c in text if (ord(c) < 32 and c not in "\n\r\t\f") or c == "\ufffd")
    if odd > max(3, len(text) // 50):
        raise ParseError("binary data, not text")
    return text


def parse_document(text: str, doc_id: str, source: str) -> Document:
    """Parse one document's text into a :class:`Document`; raises only :class:`ParseError`."""
    text = _reject_garbage(text)
    try:
        return _parse(text, doc_id, source)
    except ParseError:
        raise
    except Exception as exc:  # a parser bug must still surface as the library's typed error
        raise ParseError(f"{doc_id}: parser failure ({type(exc).__name__}: {exc})") from exc


def _parse(text: str, doc_id: str, source: str) -> Document:
    text = clean.normalise(text)
    lines = clean.prepare_lines(text)
    intro, segments = _segments(lines)
    if len(segments) > MAX_SEGMENTS:
        raise ParseError(f"{doc_id}: too large ({len(segments):,} numbered questions and "
                         f"answers; the limit is {MAX_SEGMENTS:,})")
    meta = extract_meta("\n".join(intro if segments else lines[:80]), doc_id)
    wrapped = clean.is_wrapped(lines)
    width = clean.line_width(lines)
    if segments:
        segments[-1].lines = _cut_trailer(segments[-1].lines, text)

    has_answers = any(s.kind == "A" for s in segments)
    if has_answers:
        kind = DocKind.ANSWERS
    elif _NOTICE.search("\n".join(lines)):
        kind = DocKind.NOTICE
    elif segments or _ASKED.search(" ".join(intro)):
        kind = DocKind.QUESTIONS
    else:
        kind = DocKind.UNKNOWN

    if kind is DocKind.NOTICE and meta.zaak_nr is None:
        meta = _notice_zaak(lines, meta)
    blocks, anomalies = _pair(segments, wrapped, width)
    if has_answers and not any(s.kind == "Q" for s in segments):
        anomalies.append("answers without questions")
    anomalies += check_blocks(blocks, kind)
    return Document(
        doc_id=doc_id,
        source=source,
        kind=kind,
        meta=meta,
        blocks=tuple(blocks),
        anomalies=tuple(dict.fromkeys(anomalies)),
    )


def _notice_zaak(lines: list[str], meta: DocumentMeta) -> DocumentMeta:
    """A notice names the questions it postpones by their zaak number in its own text."""
    text = "\n".join(lines)
    for notice in _NOTICE.finditer(text):
        zaak = zaak_number(text[notice.start(): notice.start() + 800])
        if zaak:
            return replace(meta, zaak_nr=zaak)
    return meta


def is_consecutive(doc: Document) -> bool:
    """Whether the blocks cover vraag 1..N exactly once and every question and answer has text.

    Combined blocks may appear out of order ("Vraag 1, 2, 3 en 5" before "Vraag 4"); that is
    how the source is written, so order is not required.
    """
    numbers = [n for b in doc.blocks for n in b.vraag]
    return (
        bool(numbers)
        and sorted(numbers) == list(range(1, len(numbers) + 1))
        and all(b.answer.strip() and b.question.strip() for b in doc.blocks)
    )
