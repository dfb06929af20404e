"""The concept answer document as Word (python-docx), for the drafter to write in.

Layout: the title "Concept-beantwoording — <onderwerp>"; per vraag a heading, the vraag's
text, its own answer when the index has it, then "Eerdere antwoorden" newest first (per
answer a line with date, cabinet and who answered, the quote verbatim in the Quote style,
the citation as a real hyperlink to the official page), and an empty "Antwoord" paragraph.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import TYPE_CHECKING

from rag.cite import long_citation, official_url
from rag.dossier.export import (
    NEWER_TEXT,
    OWN_ANSWER_TEXT,
    SUBJECT_HEADING,
    SUBJECT_NOTE,
    flags,
    formal_note,
    meta_line,
    newer_available,
    quoted,
    title_of,
    vraag_heading,
)
from rag.types import DocRecord, Dossier, EarlierAnswer, VraagDossier

if TYPE_CHECKING:
    from docx.document import Document as DocxDocument
    from docx.text.paragraph import Paragraph

QUOTE_STYLE = "Quote"
ANSWER_HEADING = "Antwoord"
EARLIER_HEADING = "Eerdere antwoorden"
_LINK_COLOUR = "0563C1"  # Word's own hyperlink blue


def to_docx(dossier: Dossier) -> bytes:
    """The concept answer document as the bytes of a .docx file."""
    import docx

    document = docx.Document()
    document.core_properties.title = title_of(dossier)
    document.add_heading(title_of(dossier), level=0)
    qset = dossier.questions
    source = f"Bron: {qset.source}" + (f" · zaak {qset.meta.zaak_nr}" if qset.meta.zaak_nr
                                       else "")
    document.add_paragraph(source)
    for section in dossier.vragen:
        document.add_heading(vraag_heading(section), level=1)
        _text(document.add_paragraph(), section.vraag.text)
        own = section.own_answer
        if own is not None:
            paragraph = document.add_paragraph()
            paragraph.add_run(f"Reeds beantwoord ({OWN_ANSWER_TEXT}): ").italic = True
            _citation(paragraph, long_citation(own.doc.doc_id, own.doc.meta, own.vraag),
                      own.doc)
        document.add_heading(EARLIER_HEADING, level=2)
        if section.vraag.procedural:
            document.add_paragraph(formal_note(section))
        elif not section.earlier and not section.on_subject:
            document.add_paragraph("Geen eerdere antwoorden gekozen.")
        if newer_available(section):
            document.add_paragraph().add_run(f"Let op: {NEWER_TEXT}.").bold = True
        _answers(document, section, section.earlier)
        if section.on_subject:
            document.add_heading(SUBJECT_HEADING, level=3)
            document.add_paragraph().add_run(f"{SUBJECT_NOTE.capitalize()}.").italic = True
            _answers(document, section, section.on_subject)
        document.add_heading(ANSWER_HEADING, level=2)
        document.add_paragraph()
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _answers(document: DocxDocument, section: VraagDossier,
             group: Sequence[EarlierAnswer]) -> None:
    """Per earlier answer: who and when (with its marks), the quote, the citation."""
    for earlier, view in zip(group, quoted(section, group), strict=True):
        marks = flags(earlier)
        head = document.add_paragraph()
        head.add_run(meta_line(earlier)).bold = True
        if marks:
            head.add_run(f" ({'; '.join(marks)})").italic = True
        _text(document.add_paragraph(style=QUOTE_STYLE), view.quote.text)
        _citation(document.add_paragraph(), view.long_citation, earlier.hit.doc)


def _text(paragraph: Paragraph, text: str) -> None:
    """Text as one run; its line breaks become Word line breaks (read back as "\\n")."""
    paragraph.add_run(text)


def _citation(paragraph: Paragraph, citation: str, doc: DocRecord) -> None:
    """The citation, as a hyperlink to the official page when there is one."""
    url = official_url(doc.doc_id, doc.meta)
    if url is None:
        paragraph.add_run(citation)
        return
    add_hyperlink(paragraph, citation, url)


def add_hyperlink(paragraph: Paragraph, text: str, url: str) -> None:
    """Append a real Word hyperlink (an external relationship and a ``w:hyperlink``
    element; python-docx reads it back as ``paragraph.hyperlinks``)."""
    from docx.opc.constants import RELATIONSHIP_TYPE
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    part = paragraph.part
    r_id = part.relate_to(url, RELATIONSHIP_TYPE.HYPERLINK, is_external=True)
    link = OxmlElement("w:hyperlink")
    link.set(qn("r:id"), r_id)
    run = OxmlElement("w:r")
    props = OxmlElement("w:rPr")
    colour = OxmlElement("w:color")
    colour.set(qn("w:val"), _LINK_COLOUR)
    underline = OxmlElement("w:u")
    underline.set(qn("w:val"), "single")
    props.append(colour)
    props.append(underline)
    run.append(props)
    body = OxmlElement("w:t")
    body.text = text
    body.set(qn("xml:space"), "preserve")
    run.append(body)
    link.append(run)
    paragraph._p.append(link)
