"""A new question set from a file or pasted text: its vragen, subject and search context.

Any format the corpus reader takes works (`rag.ingest.readers`, with its limits: 25 MiB,
1 million characters, 500 PDF pages; binary data refused), and the parser splits the vragen
(combined vragen keep all their numbers). One addition for question documents whose
numbering was lost on export, as the Kamer's Word files often are when saved as text: when
there is no ``Vraag N`` marker, every paragraph after the "Vragen van …" introduction that
asks something (holds a "?") is a vraag, numbered in order; footnotes are left out.

Refused, each with one message: a document that already holds answers (a dossier is made
for questions still to be answered), a postponement notice, and a text without vragen.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import BinaryIO

from rag.dossier.text import is_formal, shingles
from rag.errors import ParseError, RagError
from rag.ingest.readers import MAX_FILE_BYTES, load_bytes, load_document, read_text, reader_for
from rag.names import printable
from rag.types import DocKind, Document, DocumentMeta, Hit, QuestionSet, Vraag

STDIN = "-"
STDIN_NAME = "stdin"

_VRAAG_MARKER = re.compile(r"(?m)^\s*Vraag\s+\d")
_INTRO = re.compile(r"^\s*(?:Mondelinge\s+)?Vragen\s+van\b", re.I)
_FOOTNOTE = re.compile(r"^\s*(?:\[\d{1,3}\]|\d{1,3}\)|\d{1,3}\s?(?=[A-Z«“\"'‘(]|https?:))")
_TRAILER = re.compile(r"^\s*(?:Toelichting|Ondertekenaars|Gerelateerde documenten)\b", re.I)
_REF_MARK = re.compile(r"\s*(?:\[\d{1,3}\]|\d{1,3}\))(?=\s|$)")
_TITLE_PREFIX = re.compile(r"^Antwoord op (?:de )?vragen van .+? over\s+", re.I | re.S)
_OVER = re.compile(r"over\s+(.{8,})$", re.S)  # also glued: "…Sportover zorg voor …"
# Footnotes the extraction left after a set's last vraag: "…2024? 1Noordhollands Dagblad, …"
_TRAILING_NOTES = re.compile(r"(?<=\?)\s+\d{1,2}\s?[A-Z«“(][^?]*$", re.S)
_QUOTED = re.compile(r"[«“‘'\"]([^«»“”‘’'\"]{12,300})[»”’'\"]")
_TITLE_NOTE = re.compile(r"\s+\d{1,2}$")


class DossierError(RagError):
    """The input is not a question set a dossier can be made for."""


def read_question_set(source: str | Path, stdin: BinaryIO | None = None) -> QuestionSet:
    """The question set in a file, or on standard input when ``source`` is ``-`` (pasted
    text, or a PDF, Word, HTML or XML file piped in: `sniff_suffix`); any problem is a
    `DossierError` or `ParseError` with one readable line."""
    if str(source) == STDIN:
        stream = stdin if stdin is not None else sys.stdin.buffer
        data = stream.read(MAX_FILE_BYTES + 1)
        if len(data) > MAX_FILE_BYTES:
            raise ParseError(f"{STDIN_NAME}: too large (over {MAX_FILE_BYTES / 2**20:.0f} MiB)")
        return question_set_from_bytes(data, sniff_suffix(data), STDIN_NAME)
    path = Path(source)
    doc = load_document(path)
    return question_set_from_document(doc, lambda: read_text(path))


def sniff_suffix(data: bytes) -> str:
    """The reader for bytes without a file name (standard input), by their first bytes: a
    PDF, a Word file (a zip), XML or HTML; anything else is read as text."""
    if data.startswith(b"%PDF-"):
        return ".pdf"
    if data.startswith(b"PK\x03\x04"):
        return ".docx"
    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"<!doctype html", b"<html")):
        return ".html"
    if head.startswith(b"<?xml") or head.startswith(b"<kamervragen"):
        return ".xml"
    return ".txt"


def question_set_from_text(text: str, name: str = STDIN_NAME) -> QuestionSet:
    """The question set in pasted text (read as a ``.txt`` file, with the same limits)."""
    return question_set_from_bytes(text.encode("utf-8"), ".txt", name)


def question_set_from_bytes(data: bytes, suffix: str, name: str) -> QuestionSet:
    """The question set in a file's bytes (an upload); ``suffix`` chooses the reader."""
    if len(data) > MAX_FILE_BYTES:
        raise ParseError(f"{printable(name)}: too large ({len(data) / 2**20:.1f} MiB; the "
                         f"limit is {MAX_FILE_BYTES / 2**20:.0f} MiB)")
    name = printable(name)
    stem = Path(name).stem or name
    doc = load_bytes(data, suffix, stem, name)
    reader = reader_for(suffix)

    def raw_text() -> str:
        assert reader is not None and reader.text is not None
        return reader.text(data, name).text

    return question_set_from_document(
        doc, raw_text if reader is not None and reader.text is not None else None)


def question_set_from_document(doc: Document, raw_text: Callable[[], str] | None = None
                               ) -> QuestionSet:
    """The question set of a parsed question document; ``raw_text`` gives the file's text
    for documents whose numbering was lost (see the module docstring)."""
    if doc.kind is DocKind.ANSWERS:
        where = f" ({_citation_of(doc.meta)})" if doc.meta.ah_nr is not None else ""
        raise DossierError(
            f"{doc.source}: this is an answer document{where}: its vragen have been answered "
            "already. A dossier is made for a new set of questions: give the question "
            "document (kv-…), or search its vragen with rag ask.")
    if doc.kind is DocKind.NOTICE:
        raise DossierError(f"{doc.source}: this is a postponement notice (Mededeling); it "
                           "holds no vragen. Give the question document itself.")
    texts = [(b.vraag, vraag_text(b.question)) for b in doc.blocks]
    vragen = [Vraag(numbers, text, is_formal(text)) for numbers, text in texts
              if text.strip()]
    if raw_text is not None and len(vragen) <= 1:
        text = raw_text()
        if not _VRAAG_MARKER.search(text):
            paragraphs = paragraph_vragen(text)
            if len(paragraphs) > len(vragen):
                vragen = [Vraag((i,), p, is_formal(p))
                          for i, p in enumerate(paragraphs, start=1)]
    if not vragen:
        raise DossierError(
            f"{doc.source}: no vragen found. Expected numbered questions (Vraag 1, 1. …) or "
            "question paragraphs after 'Vragen van …'; an oral question (Mondelinge vragen) "
            "announces only its subject.")
    subject = _before_vragen(subject_of(doc.meta, doc.doc_id), vragen)
    return QuestionSet(doc.doc_id, doc.source, doc.meta, subject,
                       context_of(subject, [v.text for v in vragen]), tuple(vragen))


def question_set_from_hit(hit: Hit) -> QuestionSet:
    """A one-vraag set made of an earlier answer's question: its standing line is what was
    said about that subject ("Meer over dit onderwerp" in the chat; make it with the hit as
    `DossierMaker.make`'s ``start``). Staff asked for it, so it is searched even when the
    question itself is a formality."""
    meta = hit.doc.meta
    subject = subject_of(meta, hit.doc.doc_id)
    vraag = Vraag(hit.chunk.vraag, hit.chunk.question, False)
    return QuestionSet(hit.doc.doc_id, hit.doc.source, meta, subject,
                       context_of(subject, [vraag.text]), (vraag,))


def vraag_text(question: str) -> str:
    """A parsed question without the footnotes a set's last vraag can carry."""
    return _TRAILING_NOTES.sub("", question)


def paragraph_vragen(text: str) -> list[str]:
    """Question paragraphs of an unnumbered question document, in order: after the
    "Vragen van …" introduction (or from the start without one), up to a Toelichting or
    the list of signatories; footnotes and the reference marks to them left out."""
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", text.replace("\r", ""))]
    paragraphs = [p for p in paragraphs if p]
    start = next((i + 1 for i, p in enumerate(paragraphs) if _INTRO.match(p)), 0)
    vragen = []
    for paragraph in paragraphs[start:]:
        if _TRAILER.match(paragraph):
            break
        if "?" in paragraph and not _FOOTNOTE.match(paragraph):
            vragen.append(_REF_MARK.sub("", paragraph).strip())
    return vragen


def subject_of(meta: DocumentMeta, fallback: str) -> str:
    """The onderwerp of a set: its subject, else what the title or the addressee line says
    it is "over", else ``fallback`` (the document id)."""
    if meta.subject and meta.subject.strip():
        return " ".join(meta.subject.split())
    if meta.title and meta.title.strip():
        return " ".join(_TITLE_PREFIX.sub("", meta.title).split())
    m = _OVER.search(meta.asked_to or "")
    return " ".join(m.group(1).split()) if m else fallback


def context_of(subject: str, vragen: Sequence[str]) -> str:
    """What each vraag is searched with besides its own text: the subject, and the title of
    the news item or report the first vraag refers to when the subject does not name it."""
    parts = [subject]
    if vragen:
        m = _QUOTED.search(vragen[0])
        # a footnote mark the extraction left inside the quotes goes ("… verdwijnt 1»")
        quoted = _TITLE_NOTE.sub("", m.group(1)) if m else ""
        title = shingles(quoted)
        # left out when the subject names it already (in other spacing, as PDFs glue words)
        if title and len(title & shingles(subject)) < 0.6 * len(title):
            parts.append(quoted)
    return " ".join(" ".join(parts).split())


def _before_vragen(subject: str, vragen: Sequence[Vraag]) -> str:
    """The subject without the first vraag, which a text without numbering can run into."""
    flat = subject.casefold()
    for vraag in vragen:
        start = " ".join(vraag.text.split()[:6]).casefold()
        at = flat.find(start) if len(start) >= 20 else -1
        if at > 0:
            return subject[:at].strip()
    return subject


def _citation_of(meta: DocumentMeta) -> str:
    return f"Aanhangsel Handelingen {meta.vergaderjaar or '?'}, nr. {meta.ah_nr}"

