"""What the chat's "Nieuwe Kamervragen" tab asks for: a dossier from an upload, pasted text
or a chat hit, shown per vraag as HTML, and the Word file of the passages staff ticked.

Like `rag.chat` it holds no search logic of its own (`rag.dossier.standing` makes the
dossier) and turns every failure into a readable message, never a trace. Uploads are read
with the corpus reader and its limits, and removed as soon as they are read; exports are
written into a folder of the process's own.
"""

from __future__ import annotations

import contextlib
import logging
import re
import tempfile
import threading
import time
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.cite import long_citation, official_url, short_date
from rag.dossier.export import (
    NEAR_DUPLICATE_TEXT,
    NEWER_TEXT,
    NOTHING_NOTE,
    OWN_ANSWER_TEXT,
    SUBJECT_HEADING,
    SUBJECT_NOTE,
    answer_count,
    flags,
    formal_note,
    meta_line,
    newer_available,
    quoted,
    select,
    title_of,
    vraag_heading,
)
from rag.dossier.questions import question_set_from_hit, question_set_from_text, read_question_set
from rag.dossier.standing import DEFAULT_K, DossierMaker
from rag.dossier.word import to_docx
from rag.errors import RagError
from rag.ingest.readers import MAX_FILE_BYTES, SUPPORTED_SUFFIXES
from rag.render import esc, notice_html
from rag.search.searcher import Searcher
from rag.types import Dossier, EarlierAnswer, Hit, QuestionSet, UnitKey, VraagDossier

log = logging.getLogger("vraagbaak.dossier")

# Uploads: a question set is some tens of kilobytes (a PDF a few hundred); 10 MiB leaves room
# for scanned attachments and stays under the reader's own limit of 25 MiB.
MAX_UPLOAD_BYTES = min(10 * 2**20, MAX_FILE_BYTES)
UPLOAD_TYPES = list(SUPPORTED_SUFFIXES)
ERROR_TEXT = ("Er ging iets mis bij het maken van het dossier. Probeer het nog eens; blijft "
              "het misgaan, meld het dan aan de beheerder (details staan in het serverlogboek).")
EXPORT_SECONDS = 60.0  # an export older than this has been handed to Gradio long since
_KEY = re.compile(r"^(?P<doc>.+)#(?P<vraag>\d+(?:\+\d+)*)$")


@dataclass(frozen=True)
class View:
    """What the tab shows after a request: a dossier, or a message saying why there is none."""

    dossier: Dossier | None
    message: str  # HTML: a summary above the dossier, or the reason there is none


def unit_key(unit: UnitKey) -> str:
    """A checkbox value for a numbered answer: ``ah-tk-20232024-2096#4+5``."""
    return f"{unit[0]}#{'+'.join(str(n) for n in unit[1])}"


def parse_key(key: str) -> UnitKey | None:
    """The numbered answer a checkbox value names (None for anything else)."""
    m = _KEY.match(key)
    return (m["doc"], tuple(int(n) for n in m["vraag"].split("+"))) if m else None


class Desk:
    """The searcher behind the tab, shared by every session of the process.

    ``searcher`` is a Searcher, or a callable giving the one in use (the chat's, which a
    rebuild of the index replaces): the dossier's lookups are made again for a new one.
    """

    def __init__(self, searcher: Searcher | Callable[[], Searcher],
                 export_dir: Path | None = None, keep_seconds: float = EXPORT_SECONDS) -> None:
        self._current = searcher if callable(searcher) else (lambda: searcher)
        self._maker: DossierMaker | None = None
        self._lock = threading.Lock()
        self._export_dir = export_dir
        self._exports: list[tuple[float, Path]] = []  # (made at, file) of this desk's exports
        self._keep_seconds = keep_seconds

    @property
    def maker(self) -> DossierMaker:
        """The dossier maker over the searcher in use."""
        searcher = self._current()
        with self._lock:
            if self._maker is None or self._maker.searcher is not searcher:
                self._maker = DossierMaker(searcher)
            return self._maker

    # -- making a dossier ---------------------------------------------------------------

    def from_upload(self, path: str | Path | None, k: int = DEFAULT_K) -> View:
        """The dossier of an uploaded file; the upload is removed once read."""
        if not path:
            return View(None, notice_html("Geen bestand", "Kies een bestand met Kamervragen."))
        upload = Path(path)
        try:
            return self._make(lambda: read_question_set(upload), k)
        finally:
            _remove_upload(upload)

    def from_text(self, text: Any, k: int = DEFAULT_K) -> View:
        """The dossier of pasted text."""
        if not isinstance(text, str) or not text.strip():
            return View(None, notice_html("Geen tekst", "Plak de tekst van de Kamervragen, "
                                          "of kies een bestand."))
        return self._make(lambda: question_set_from_text(text, "geplakte tekst"), k)

    def from_hit(self, hit: Hit | None, k: int = DEFAULT_K) -> View:
        """The standing line of a chat hit's subject ("Meer over dit onderwerp")."""
        if hit is None:
            return View(None, notice_html("Geen resultaat gekozen",
                                          "Kies eerst een resultaat uit het laatste antwoord."))
        return self._make(lambda: question_set_from_hit(hit), k, start=hit)

    def _make(self, read: Callable[[], QuestionSet], k: int, start: Hit | None = None) -> View:
        try:
            qset = read()
            dossier = self.maker.make(qset, k, start=start)
        except RagError as exc:
            return View(None, notice_html("Geen dossier gemaakt", str(exc)))
        except Exception:
            log.exception("dossier failed")
            return View(None, notice_html("Er ging iets mis", ERROR_TEXT))
        return View(dossier, summary_html(dossier))

    # -- the Word file ------------------------------------------------------------------

    def export(self, dossier: Dossier | None, ticked: Mapping[int, Sequence[str]]) -> Path | None:
        """The Word file of the dossier with only the ticked passages (per vraag position,
        checkbox values), written into the tab's own folder; None without a dossier.

        Gradio copies a file it serves into its own cache at once, so the files this desk
        wrote before (and recorded) are deleted once ``keep_seconds`` old: the folder holds
        the last minute's exports, not every one since the chat started.
        """
        if dossier is None:
            return None
        chosen = {i: {u for u in map(parse_key, keys) if u is not None}
                  for i, keys in ticked.items()}
        data = to_docx(select(dossier, chosen))
        self._forget_old_exports()
        folder = Path(tempfile.mkdtemp(prefix="dossier-", dir=self._export_dir))
        path = folder / export_name(dossier.questions)
        path.write_bytes(data)
        with self._lock:
            self._exports.append((time.monotonic(), path))
        return path

    def _forget_old_exports(self) -> None:
        """Delete the exports this desk wrote (and only those) once they are old enough."""
        now = time.monotonic()
        with self._lock:
            old = [p for made, p in self._exports if now - made >= self._keep_seconds]
            self._exports = [(made, p) for made, p in self._exports
                             if now - made < self._keep_seconds]
        for path in old:
            path.unlink(missing_ok=True)
            with contextlib.suppress(OSError):
                path.parent.rmdir()


def export_name(qset: QuestionSet) -> str:
    """``concept-beantwoording-2024Z18439-het-verdwijnen-van-de-restitutiepolis.docx``: the
    zaak number when known and the start of the subject, in plain letters."""
    subject = "-".join(_slug(qset.subject).lower().split("-")[:6])[:50].strip("-")
    zaak = _slug(qset.meta.zaak_nr or "")
    name = "-".join(p for p in (zaak, subject) if p) or _slug(qset.doc_id) or "dossier"
    return f"concept-beantwoording-{name}.docx"


def _slug(text: str) -> str:
    flat = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^A-Za-z0-9]+", "-", flat).strip("-")


def _remove_upload(path: Path) -> None:
    """Delete an upload and the folder Gradio made for it, when that is empty."""
    try:
        path.unlink(missing_ok=True)
        path.parent.rmdir()
    except OSError:
        pass  # the folder holds other files, or is gone already


# -- HTML ---------------------------------------------------------------------------------


def summary_html(dossier: Dossier) -> str:
    """The line above the dossier: title, number of vragen, own answer, flags."""
    qset = dossier.questions
    own = {s.own_answer.doc.doc_id for s in dossier.vragen if s.own_answer}
    found, subject = answer_count(dossier)
    parts = [f"{len(dossier.vragen)} vragen", f"{found} eerdere antwoorden"]
    if subject:
        parts.append(f"{subject} {SUBJECT_HEADING.lower()}")
    if own:
        parts.append("eigen antwoord in de index: " + ", ".join(sorted(own)))
    newer = sum(1 for s in dossier.vragen if newer_available(s))
    if newer:
        parts.append(f"{newer}× {NEWER_TEXT}")
    return (f'<div class="vb-dossier-head"><p><strong>{esc(title_of(dossier))}</strong></p>'
            f"<p><small>Bron: {esc(qset.source)} · {esc(' · '.join(parts))}</small></p></div>")


def accordion_label(section: VraagDossier) -> str:
    """The collapsed line of a vraag: number, start of the text, how many answers."""
    text = " ".join(section.vraag.text.split())
    short = text if len(text) <= 90 else text[:87].rsplit(" ", 1)[0] + " …"
    n = len(section.earlier)
    count = ("geen zoekvraag" if section.vraag.procedural
             else f"{n} eerder{'e' if n != 1 else ''} antwoord{'en' if n != 1 else ''}")
    if section.on_subject:
        count += f", {len(section.on_subject)} {SUBJECT_HEADING.lower()}"
    mark = " · recenter antwoord" if newer_available(section) else ""
    own = " · beantwoord" if section.own_answer else ""
    return f"{vraag_heading(section)}: {short} ({count}{own}{mark})"


def choices(section: VraagDossier) -> list[tuple[str, str]]:
    """One checkbox per earlier answer, newest first, then one per passage on the subject
    (marked so): (label, value)."""
    return ([(choice_label(e), unit_key(e.hit.chunk.unit)) for e in section.earlier]
            + [(f"{choice_label(e)} ({SUBJECT_HEADING.lower()})", unit_key(e.hit.chunk.unit))
               for e in section.on_subject])


def choice_label(earlier: EarlierAnswer) -> str:
    """``2 sep 2024 · Schoof · nr. 2096, vraag 11``, with the flags."""
    meta, hit = earlier.hit.doc.meta, earlier.hit
    number = f"nr. {meta.ah_nr}" if meta.ah_nr is not None else hit.doc.doc_id
    vraag = "+".join(str(n) for n in hit.chunk.vraag)
    parts = [short_date(meta.date_received) or "datum onbekend", earlier.cabinet,
             f"{number}, vraag {vraag}"]
    marks = flags(earlier)
    return " · ".join(p for p in parts if p) + (f" ({'; '.join(marks)})" if marks else "")


def section_html(section: VraagDossier) -> str:
    """A vraag's text, own answer and standing line (newest first, flags visible)."""
    out = [f'<div class="vb-vraag"><p class="vb-vraag-text">{_lines(section.vraag.text)}</p>']
    own = section.own_answer
    if own is not None:
        cite = long_citation(own.doc.doc_id, own.doc.meta, own.vraag)
        out.append(f'<p class="vb-own"><strong>Reeds beantwoord</strong> '
                   f"({esc(OWN_ANSWER_TEXT)}): {_link(cite, own.doc.doc_id, own.doc.meta)}</p>")
    if section.vraag.procedural:
        out.append(f'<p class="vb-none">{esc(formal_note(section))}</p>')
    elif not section.earlier:
        out.append(f'<p class="vb-none">{esc(NOTHING_NOTE)}</p>')
    if newer_available(section):
        out.append(f'<p class="vb-flag-newer"><strong>{esc(NEWER_TEXT.capitalize())}</strong>:'
                   " er is een recenter relevant antwoord dan de beste treffer.</p>")
    out += _answers_html(section, section.earlier)
    if section.on_subject:
        out.append(f'<div class="vb-subject"><p class="vb-subject-head"><strong>'
                   f"{esc(SUBJECT_HEADING)}</strong> <small>({esc(SUBJECT_NOTE)})</small></p>")
        out += _answers_html(section, section.on_subject)
        out.append("</div>")
    for dup in section.near_duplicates:
        cite = long_citation(dup.doc.doc_id, dup.doc.meta, dup.vraag)
        out.append(f'<p class="vb-dup"><small>{esc(NEAR_DUPLICATE_TEXT.capitalize())}: '
                   f"{_link(cite, dup.doc.doc_id, dup.doc.meta)}</small></p>")
    out.append("</div>")
    return "".join(out)


def _answers_html(section: VraagDossier, group: Sequence[EarlierAnswer]) -> list[str]:
    out = []
    for earlier, view in zip(group, quoted(section, group), strict=True):
        marks = "".join(f' <span class="vb-flag">{esc(m)}</span>' for m in flags(earlier))
        doc = earlier.hit.doc
        out.append(
            f'<div class="vb-earlier"><p class="vb-meta-line"><strong>{esc(meta_line(earlier))}'
            f"</strong>{marks}</p>"
            f'<blockquote class="vb-quote">{_lines(view.quote.text)}</blockquote>'
            f'<p class="vb-cite"><small>{_link(view.long_citation, doc.doc_id, doc.meta)}'
            f"</small></p></div>")
    return out


def _lines(text: str) -> str:
    return "<br>".join(esc(line) for line in text.split("\n"))


def _link(text: str, doc_id: str, meta: Any) -> str:
    url = official_url(doc_id, meta)
    if url is None or not url.startswith(("https://", "http://")):
        return esc(text)
    return f'<a href="{esc(url)}" target="_blank" rel="noopener noreferrer">{esc(text)}</a>'
