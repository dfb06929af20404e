"""A dossier as JSON (tools), Markdown and text (people), and the file `--out` writes.

Every form is made from the same facts: the quote of each earlier answer is chosen once by
`rag.render.view` for the vraag's text, and the JSON hits are `rag ask --json`'s hit fields
(`rag.render.to_json`) with the dossier's own fields added. Quotes are verbatim pieces of
the stored answers, joined by " … " where sentences were left out; nothing is rewritten.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from rag.cite import answerers_named, dutch_date, long_citation, official_url
from rag.dossier.questions import DossierError
from rag.dossier.text import is_procedural
from rag.render import HitView, to_json, views
from rag.types import Answer, DocRecord, Dossier, EarlierAnswer, UnitKey, VraagDossier

TITLE_PREFIX = "Concept-beantwoording — "
OWN_ANSWER_TEXT = "dit is het antwoord op deze vraag"
NEWER_TEXT = "recenter antwoord beschikbaar"
NEAR_DUPLICATE_TEXT = "bijna dezelfde vraag eerder gesteld"
SUBJECT_HEADING = "Over hetzelfde onderwerp"
SUBJECT_NOTE = ("uit documenten over het onderwerp van deze set; niet beoordeeld als antwoord "
                "op deze vraag")
PROCEDURAL_NOTE = "Procedurele vraag: geen eerdere antwoorden gezocht."
ACKNOWLEDGEMENT_NOTE = ("Vraag of het bericht bekend is of wat de reactie erop is: geen "
                        "eerdere antwoorden gezocht.")
NOTHING_NOTE = "Geen eerder antwoord gevonden dat relevant genoeg is."
FORMATS = (".docx", ".md", ".json")


def title_of(dossier: Dossier) -> str:
    """``Concept-beantwoording — <onderwerp>``."""
    return f"{TITLE_PREFIX}{dossier.questions.subject}"


def select(dossier: Dossier, chosen: Mapping[int, Collection[UnitKey]]) -> Dossier:
    """The dossier with, per vraag (by position), only the earlier answers in ``chosen``
    (a vraag left out of ``chosen`` keeps none), on the standing line and on the subject
    alike: what staff ticked.

    An answer is called more recent than the best-ranked one only when that one is chosen
    too: the file speaks of what it holds.
    """
    sections = []
    for i, section in enumerate(dossier.vragen):
        ticked = chosen.get(i, ())
        kept = tuple(e for e in section.earlier if e.hit.chunk.unit in ticked)
        if not any(e.top for e in kept):
            kept = tuple(replace(e, newer_than_top=False) for e in kept)
        subject = tuple(e for e in section.on_subject if e.hit.chunk.unit in ticked)
        sections.append(replace(section, earlier=kept, on_subject=subject))
    return replace(dossier, vragen=tuple(sections))


def quoted(section: VraagDossier, group: Sequence[EarlierAnswer] | None = None
           ) -> list[HitView]:
    """The earlier answers of a vraag as shown (newest first), each with its quote: the
    standing line, or ``group`` (`VraagDossier.on_subject`)."""
    shown = section.earlier if group is None else group
    return views(Answer(section.vraag.text, tuple(e.hit for e in shown)))


def formal_note(section: VraagDossier) -> str:
    """Why a formal vraag has no earlier answers (procedural, or an acknowledgement)."""
    return PROCEDURAL_NOTE if is_procedural(section.vraag.text) else ACKNOWLEDGEMENT_NOTE


def answer_count(dossier: Dossier) -> tuple[int, int]:
    """Earlier answers on the standing lines, and passages on the subject, in all."""
    return (sum(len(s.earlier) for s in dossier.vragen),
            sum(len(s.on_subject) for s in dossier.vragen))


def meta_line(earlier: EarlierAnswer) -> str:
    """``2 september 2024 · kabinet-Schoof · staatssecretaris Karremans van …``: what dates
    an answer and who gave it (by name where the document gives one)."""
    meta = earlier.hit.doc.meta
    parts = [dutch_date(meta.date_received) or "datum onbekend",
             f"kabinet-{earlier.cabinet}" if earlier.cabinet else None, answerers_named(meta)]
    return " · ".join(p for p in parts if p)


# The marks of an earlier answer: best-ranked, received after the best-ranked one,
# near-identical question (the page and the files speak Dutch, the terminal English).
DUTCH_FLAGS = ("beste treffer", "recenter dan de beste treffer", NEAR_DUPLICATE_TEXT)
ENGLISH_FLAGS = ("best hit", "newer than the best hit", "near-identical question asked before")


def flags(earlier: EarlierAnswer, words: tuple[str, str, str] = DUTCH_FLAGS) -> list[str]:
    """The marks an earlier answer carries, in ``words``."""
    marks = (earlier.top, earlier.newer_than_top, earlier.near_duplicate is not None)
    return [word for word, mark in zip(words, marks, strict=True) if mark]


def newer_available(section: VraagDossier) -> bool:
    """Whether an answer more recent than the best-ranked one is on the standing line."""
    return any(e.newer_than_top for e in section.earlier)


# -- JSON ---------------------------------------------------------------------------------


def dossier_json(dossier: Dossier) -> dict[str, Any]:
    """The documented machine-readable form of a dossier (field names are a contract)."""
    qset = dossier.questions
    return {
        "title": title_of(dossier),
        "source": qset.source,
        "subject": qset.subject,
        "context": qset.context,
        "zaak_nr": qset.meta.zaak_nr,
        "vragen": [_vraag_json(section) for section in dossier.vragen],
    }


def _hits_json(vraag: str, group: Sequence[EarlierAnswer]) -> list[dict[str, Any]]:
    hits: list[dict[str, Any]] = to_json(Answer(vraag, tuple(e.hit for e in group)))["hits"]
    for hit, earlier in zip(hits, group, strict=True):
        hit.update(cabinet=earlier.cabinet, url=official_url(earlier.hit.doc.doc_id,
                                                           earlier.hit.doc.meta),
                   newer_than_top=earlier.newer_than_top, top=earlier.top,
                   near_duplicate=earlier.near_duplicate is not None)
    return hits


def _vraag_json(section: VraagDossier) -> dict[str, Any]:
    own = section.own_answer
    return {
        "vraag": list(section.vraag.numbers),
        "question": section.vraag.text,
        "procedural": section.vraag.procedural,
        "acknowledgement": section.vraag.procedural and not is_procedural(section.vraag.text),
        "own_answer": None if own is None else {
            "doc_id": own.doc.doc_id, "vraag": list(own.vraag),
            "citation": long_citation(own.doc.doc_id, own.doc.meta, own.vraag),
            "url": official_url(own.doc.doc_id, own.doc.meta), "matched": own.matched,
            "similarity": own.similarity},
        "newer_answer_available": newer_available(section),
        "hits": _hits_json(section.vraag.text, section.earlier),
        "on_subject": _hits_json(section.vraag.text, section.on_subject),
        "near_duplicates": [{
            "doc_id": d.doc.doc_id, "vraag": list(d.vraag),
            "citation": long_citation(d.doc.doc_id, d.doc.meta, d.vraag),
            "date": d.doc.meta.date_received, "question": d.question,
            "similarity": d.similarity, "url": official_url(d.doc.doc_id, d.doc.meta)}
            for d in section.near_duplicates],
    }


# -- Markdown and text --------------------------------------------------------------------


def vraag_heading(section: VraagDossier) -> str:
    """``Vraag 3`` or ``Vragen 4 en 5``."""
    numbers = [str(n) for n in section.vraag.numbers]
    if len(numbers) == 1:
        return f"Vraag {numbers[0]}"
    return f"Vragen {', '.join(numbers[:-1])} en {numbers[-1]}"


def to_markdown(dossier: Dossier) -> str:
    """The concept answer document in Markdown: per vraag its text, its own answer if any,
    the earlier answers newest first (quote, citation, link) and an empty Antwoord."""
    qset = dossier.questions
    out = [f"# {title_of(dossier)}", "",
           f"Bron: {qset.source}" + (f" · zaak {qset.meta.zaak_nr}" if qset.meta.zaak_nr
                                     else ""), ""]
    for section in dossier.vragen:
        out += [f"## {vraag_heading(section)}", "", *_block(section.vraag.text), ""]
        if section.own_answer is not None:
            own = section.own_answer
            cite = long_citation(own.doc.doc_id, own.doc.meta, own.vraag)
            out += [f"*Reeds beantwoord ({OWN_ANSWER_TEXT}):* {_link(cite, own.doc)}", ""]
        out += ["### Eerdere antwoorden", ""]
        if section.vraag.procedural:
            out += [f"*{formal_note(section)}*", ""]
        elif not section.earlier:
            out += [f"*{NOTHING_NOTE}*", ""]
        if newer_available(section):
            out += [f"**Let op: {NEWER_TEXT}** (recenter dan de beste treffer).", ""]
        out += _markdown_answers(section, section.earlier)
        if section.on_subject:
            out += [f"#### {SUBJECT_HEADING}", "", f"*{SUBJECT_NOTE.capitalize()}.*", "",
                    *_markdown_answers(section, section.on_subject)]
        for dup in section.near_duplicates:
            out += [f"*{NEAR_DUPLICATE_TEXT.capitalize()}:* "
                    f"{long_citation(dup.doc.doc_id, dup.doc.meta, dup.vraag)}", ""]
        out += ["### Antwoord", "", ""]
    return "\n".join(out).rstrip("\n") + "\n"


def _markdown_answers(section: VraagDossier, group: Sequence[EarlierAnswer]) -> list[str]:
    out = []
    for earlier, v in zip(group, quoted(section, group), strict=True):
        marks = flags(earlier)
        out += [f"**{meta_line(earlier)}**" + (f" *({'; '.join(marks)})*" if marks else ""),
                "", *_block(v.quote.text), "", _link(v.long_citation, earlier.hit.doc), ""]
    return out


def _block(text: str) -> list[str]:
    return [f"> {line}" if line else ">" for line in text.split("\n")]


def _link(citation: str, doc: DocRecord) -> str:
    url = official_url(doc.doc_id, doc.meta)
    return f"[{citation}]({url})" if url else citation


def to_text(dossier: Dossier) -> str:
    """The dossier for a terminal, in English like the rest of the command line (citations,
    quotes and names of offices keep their official Dutch): per vraag its own answer and its
    standing line."""
    out = [f"Dossier: {dossier.questions.subject}", ""]
    for section in dossier.vragen:
        out.append(f"{vraag_heading(section)}: {' '.join(section.vraag.text.split())}")
        own = section.own_answer
        if own is not None:
            out.append("  Already answered (this is the answer to this vraag): "
                       f"{long_citation(own.doc.doc_id, own.doc.meta, own.vraag)}")
        if section.vraag.procedural:
            out.append("  (procedural vraag: no earlier answers searched)"
                       if is_procedural(section.vraag.text) else
                       "  (acknowledgement of the news item: no earlier answers searched)")
        elif not section.earlier:
            out.append("  No earlier answer found that is relevant enough.")
        elif newer_available(section):
            out.append("  Note: a more recent answer than the best hit is available.")
        out += _text_answers(section, section.earlier, "-")
        if section.on_subject:
            out.append("  On the set's subject (not judged an answer to this vraag):")
            out += _text_answers(section, section.on_subject, "~")
        for dup in section.near_duplicates:
            out.append("  * near-identical question asked before: "
                       f"{long_citation(dup.doc.doc_id, dup.doc.meta, dup.vraag)}")
        out.append("")
    return "\n".join(out).rstrip("\n")


def _text_answers(section: VraagDossier, group: Sequence[EarlierAnswer], bullet: str
                  ) -> list[str]:
    out = []
    for earlier, v in zip(group, quoted(section, group), strict=True):
        marks = flags(earlier, ENGLISH_FLAGS)
        out.append(f"  {bullet} {_english_meta_line(earlier)}"
                   + (f"  [{'; '.join(marks)}]" if marks else ""))
        out.append(f"    {v.long_citation}")
        out.append(f"    > {' '.join(v.quote.text.split())}")
    return out


def _english_meta_line(earlier: EarlierAnswer) -> str:
    """``2024-08-27 · cabinet Schoof · staatssecretaris Karremans van …``."""
    meta = earlier.hit.doc.meta
    parts = [meta.date_received or "date unknown",
             f"cabinet {earlier.cabinet}" if earlier.cabinet else None, answerers_named(meta)]
    return " · ".join(p for p in parts if p)


# -- files --------------------------------------------------------------------------------


def check_out(path: Path) -> None:
    """Refuse an output path before any work: an unknown format or a missing folder."""
    if path.suffix.lower() not in FORMATS:
        raise DossierError(f"{path.name}: unknown output format; use one of "
                           f"{', '.join(FORMATS)}")
    if not path.parent.is_dir():
        raise DossierError(f"{path.parent}: folder does not exist")


def write(dossier: Dossier, path: Path) -> Path:
    """Write the dossier as ``path``'s suffix says (.docx, .md, .json), all or nothing: the
    file appears complete or not at all."""
    import json

    from rag.dossier.word import to_docx

    check_out(path)
    suffix = path.suffix.lower()
    if suffix == ".docx":
        data = to_docx(dossier)
    elif suffix == ".md":
        data = to_markdown(dossier).encode("utf-8")
    else:
        data = (json.dumps(dossier_json(dossier), ensure_ascii=False, indent=1)
                + "\n").encode("utf-8")
    # Created with mode 0666 so that the umask decides, as for any file a command writes
    # (mkstemp would make it 0600 whatever the umask); O_EXCL: never someone else's file.
    tmp = path.parent / f".{path.name}.{secrets.token_hex(6)}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path
