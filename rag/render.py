"""The one output stage: an `Answer` as text (the CLI), JSON (tools) and HTML (the chat).

All three are made from the same facts, computed once per hit by :func:`view`: the short,
long and compact citations, the verbatim quote, the whole answer, the source. Two rules hold
throughout:

- a quote is never rewritten: it is one or more verbatim pieces of the stored answer, joined
  by " … " where sentences were left out;
- every piece of document or user text passes through `esc` before it enters the HTML, so
  markup in a source (``<script>``, ``<img onerror>``, Markdown links) is shown, not run.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from typing import Any

from rag.cite import citation, compact_header, long_citation, vraag_label
from rag.names import printable
from rag.quote import DEFAULT_QUOTE_WORDS, select_quote
from rag.types import Answer, Hit, Quote, relevance_band

NO_ANSWER_TITLE = "Geen eerder antwoord gevonden"
_SPECIAL = re.compile(r"[&<>\"'\[\]()!*_`#~|$\\{}]")


@dataclass(frozen=True)
class HitView:
    """Everything any output shows of one hit, worked out once."""

    hit: Hit
    citation: str  # short: "Aanhangsel Handelingen 2023–2024, nr. 2096, vraag 11"
    long_citation: str  # with who answered and when
    header: str  # compact: "nr. 2096 · vraag 11 · 2 sep 2024 · SZW, EZ"
    quote: Quote
    source: str  # printable
    relevance: str  # "hoog", "redelijk" or "laag"


def view(hit: Hit, question: str, best_score: float,
         max_words: int = DEFAULT_QUOTE_WORDS) -> HitView:
    """The facts of one hit for ``question``; ``best_score`` is the first hit's score (for
    the label of a hit no relevance model judged)."""
    doc, vraag = hit.doc, hit.chunk.vraag
    return HitView(
        hit=hit,
        citation=citation(doc.doc_id, doc.meta, vraag),
        long_citation=long_citation(doc.doc_id, doc.meta, vraag),
        header=compact_header(doc.doc_id, doc.meta, vraag),
        quote=select_quote(hit.chunk.answer, question, max_words),
        source=printable(doc.source),
        relevance=(relevance_band(hit.relevance) if hit.relevance is not None
                   else relevance_label(hit.score, best_score)),
    )


def views(answer: Answer, max_words: int = DEFAULT_QUOTE_WORDS) -> list[HitView]:
    """`view` of every hit of an answer."""
    best = answer.hits[0].score if answer.hits else 0.0
    return [view(hit, answer.question, best, max_words) for hit in answer.hits]


def relevance_label(score: float, best: float) -> str:
    """``hoog``, ``redelijk`` or ``laag``: a hit's ranking score relative to the best hit's.

    Hybrid scores are fused per question (the best is about 1), so they rank passages
    within one answer but mean nothing across questions; whether anything is relevant at
    all is the abstention check, made before any passage is shown.
    """
    ratio = score / best if best > 0 else 0.0
    if ratio >= 0.8:
        return "hoog"
    return "redelijk" if ratio >= 0.5 else "laag"


# -- JSON ---------------------------------------------------------------------------------


def to_json(answer: Answer) -> dict[str, Any]:
    """The documented machine-readable form of an answer (field names are a contract)."""
    return {
        "question": answer.question,
        "abstained": answer.abstained,
        "confidence": None if answer.confidence is None else round(answer.confidence, 6),
        "filtered": answer.filtered,
        "language": answer.language.value,
        "hits": [_hit_json(v) for v in views(answer)],
    }


def _hit_json(v: HitView) -> dict[str, Any]:
    hit, meta = v.hit, v.hit.doc.meta
    return {
        "rank": hit.rank,
        "score": round(hit.score, 6),
        "relevance": None if hit.relevance is None else round(hit.relevance, 6),
        "relevance_label": v.relevance,
        "doc_id": hit.doc.doc_id,
        "vraag": list(hit.chunk.vraag),
        "citation": v.citation,
        "long_citation": v.long_citation,
        "title": meta.title,
        "date": meta.date_received,
        "answered_by": [{"role": a.role, "name": a.name, "ministry": a.ministry}
                        for a in meta.answerers],
        "ministries": list(meta.ministries),
        "quote": v.quote.text,
        "quote_pieces": list(v.quote.pieces),
        "question": hit.chunk.question,
        "answer": hit.whole_answer,
        "source": v.source,
    }


# -- text ---------------------------------------------------------------------------------

NOTHING_FOUND_TEXT = ("No earlier answer found: no passage is relevant enough "
                      "(--json shows the weak hits anyway).")
NOTHING_PASSES_TEXT = "No passages match the filters."


def to_text(answer: Answer, width: int = 96) -> str:
    """The answer for a terminal: per hit the long citation, source, question and quote."""
    if not answer.hits:
        return NOTHING_PASSES_TEXT if answer.filtered else NOTHING_FOUND_TEXT
    if answer.abstained:
        return NOTHING_FOUND_TEXT
    blocks = []
    for v in views(answer):
        hit = v.hit
        judged = f" ({hit.relevance:.2f})" if hit.relevance is not None else ""
        lines = [f"{hit.rank}. {v.long_citation}",
                 f"   relevance {v.relevance}{judged} · score {hit.score:.3f} · "
                 f"source: {v.source}"]
        lines += textwrap.wrap(f"Vraag: {hit.chunk.question}", width, initial_indent="   ",
                               subsequent_indent="   ", max_lines=3, placeholder=" …")
        for paragraph in v.quote.text.split("\n"):
            lines += textwrap.wrap(paragraph, width, initial_indent="   > ",
                                   subsequent_indent="   > ") or ["   >"]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


# -- HTML ---------------------------------------------------------------------------------


def esc(text: str) -> str:
    """Text to HTML that renders as exactly that text, in HTML and in Markdown alike.

    Besides ``& < > " '`` the characters Markdown or LaTeX would act on are written as
    numeric character references, so no renderer turns source text into tags, links, images
    or math.
    """
    return _SPECIAL.sub(lambda m: f"&#{ord(m.group())};", text)


def _paragraphs(text: str) -> str:
    return "<br>".join(esc(line) for line in text.split("\n"))


def hit_html(v: HitView) -> str:
    """One hit as HTML: citation, quote, the question it answered, source and relevance."""
    hit = v.hit
    label = vraag_label(hit.chunk.vraag).capitalize()
    score = f"{hit.score:.2f}".replace(".", ",")
    return (
        f'<div class="vb-hit">'
        f'<p class="vb-cite"><strong>{hit.rank}.</strong> {esc(v.long_citation)}</p>'
        f'<blockquote class="vb-quote">{_paragraphs(v.quote.text)}</blockquote>'
        f'<details class="vb-question"><summary><small>{esc(label)}'
        f'</small></summary><small>{_paragraphs(hit.chunk.question)}</small></details>'
        f'<details class="vb-full"><summary><small>Hele vraag en antwoord</small></summary>'
        f'<p><strong>Vraag</strong><br>{_paragraphs(hit.chunk.question)}</p>'
        f'<p><strong>Antwoord</strong><br>{_paragraphs(hit.whole_answer)}</p></details>'
        f'<p class="vb-meta"><small>Bron: <code>{esc(v.source)}</code> · '
        f"relevantie: {v.relevance} (score {score})</small></p>"
        f"</div>"
    )


def to_html(answer: Answer) -> str:
    """The chat reply for a search: the hits, or the "no earlier answer" notice."""
    if answer.abstained or not answer.hits:
        return notice_html(
            NO_ANSWER_TITLE,
            "Er is in de index geen eerder antwoord dat duidelijk over deze vraag gaat: geen "
            "passage haalt de relevantiedrempel. Probeer andere woorden, of zet de filters op "
            "vergaderjaar en ministerie uit.")
    n = len(answer.hits)
    found = "1 eerder antwoord" if n == 1 else f"{n} eerdere antwoorden"
    head = (f'<p class="vb-head">{found} gevonden, meest relevante eerst. '
            f"Citaten zijn letterlijk.</p>")
    return head + "".join(hit_html(v) for v in views(answer))


def notice_html(title: str, body: str) -> str:
    """A short message in the chat (no results, a refused question, an error)."""
    return f'<div class="vb-notice"><p><strong>{esc(title)}</strong></p><p>{esc(body)}</p></div>'


def plain_reference(hit: Hit) -> str:
    """The whole vraag and antwoord with the long citation, as plain text for the side panel."""
    cite = long_citation(hit.doc.doc_id, hit.doc.meta, hit.chunk.vraag)
    return (f"{cite}\nBron: {printable(hit.doc.source)}\n\nVraag\n{hit.chunk.question}"
            f"\n\nAntwoord\n{hit.whole_answer}")

