"""The one output stage: an `Answer` as text (the CLI), JSON (tools) and HTML (the chat).

All three are made from the same facts, computed once per hit by :func:`view`: the short,
long and compact citations, the verbatim quote, the whole answer, the source, the link to the
official publication and the relevance label. Two rules hold throughout:

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

from rag.cite import citation, compact_header, long_citation, official_url, vraag_label
from rag.names import printable
from rag.quote import DEFAULT_QUOTE_WORDS, select_quote, terms
from rag.types import Answer, Hit, Language, Quote, relevance_band

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
    relevance: str  # "hoog", "redelijk" or "laag" (`relevance_label`)
    url: str | None  # the official publication, None when the document has none


def view(hit: Hit, question: str, max_words: int = DEFAULT_QUOTE_WORDS) -> HitView:
    """The facts of one hit for ``question`` (the question as searched)."""
    doc, vraag = hit.doc, hit.chunk.vraag
    return HitView(
        hit=hit,
        citation=citation(doc.doc_id, doc.meta, vraag),
        long_citation=long_citation(doc.doc_id, doc.meta, vraag),
        header=compact_header(doc.doc_id, doc.meta, vraag),
        quote=select_quote(hit.chunk.answer, question, max_words),
        source=printable(doc.source),
        relevance=relevance_label(hit, question),
        url=official_url(doc.doc_id, doc.meta),
    )


def views(answer: Answer, max_words: int = DEFAULT_QUOTE_WORDS) -> list[HitView]:
    """`view` of every hit of an answer."""
    return [view(hit, answer.question, max_words) for hit in answer.hits]


# The same bounds for the fallback signal, the share of the question's content words found
# in the hit. Measured on the gold questions over the shared documents (five hits each):
# 0.6 is reached by two thirds of the right vragen and one in eight of the others, 0.3 by
# 95 % of the right ones and under half of the others.
COVERAGE_BANDS = (0.6, 0.3)


def relevance_label(hit: Hit, question: str) -> str:
    """``hoog``, ``redelijk`` or ``laag``: how likely this hit answers ``question``, on a scale
    that means the same for every question (never relative to the other hits).

    With a calibrated probability in ``hit.relevance`` the label is its band
    (`rag.types.relevance_band`: held out, 84 % of "hoog" hits and 28 % of "redelijk" ones
    answer the question). Without one, the label comes from the share of the question's
    content words (`rag.quote.terms`: stopwords out, words cut to six letters) that occur in
    the hit's vraag and antwoord (`COVERAGE_BANDS`). That share is chosen because it is
    absolute and per hit: it depends on this question and this hit only, not on the other
    hits, the size of the index or the model. The ranking score cannot serve (hybrid scores
    are scaled per question, so the best hit always scores about 1), nor can
    ``Answer.confidence`` (one number per answer, on a scale that differs per model). Its
    known weakness: a hit that answers in other words, above all an English question over
    Dutch answers, shares few words and is labelled ``laag`` until a probability is there.
    """
    if hit.relevance is not None:
        return relevance_band(hit.relevance)
    wanted = terms(question)
    found = terms(f"{hit.chunk.question}\n{hit.whole_answer}")
    value = len(wanted & found) / len(wanted) if wanted else 0.0
    high, fair = COVERAGE_BANDS
    if value >= high:
        return "hoog"
    return "redelijk" if value >= fair else "laag"


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
        "url": v.url,
    }


# -- text ---------------------------------------------------------------------------------

NOTHING_FOUND_TEXT = ("No earlier answer found: no passage is relevant enough "
                      "(--json shows the weak hits anyway).")
NOTHING_PASSES_TEXT = "No passages match the filters."
RELEVANCE_WORDS = {"hoog": "high", "redelijk": "fair", "laag": "low"}


def to_text(answer: Answer, width: int = 96) -> str:
    """The answer for a terminal: per hit the long citation, score, relevance, source, the
    official URL, the question and the quote."""
    if not answer.hits:
        return NOTHING_PASSES_TEXT if answer.filtered else NOTHING_FOUND_TEXT
    if answer.abstained:
        return NOTHING_FOUND_TEXT
    blocks = []
    for v in views(answer):
        hit = v.hit
        judged = f" ({hit.relevance:.2f})" if hit.relevance is not None else ""
        lines = [f"{hit.rank}. {v.long_citation}",
                 f"   relevance {RELEVANCE_WORDS[v.relevance]}{judged} · score {hit.score:.3f} · "
                 f"source: {v.source}"]
        if v.url:
            lines.append(f"   {v.url}")
        lines += textwrap.wrap(f"Question: {hit.chunk.question}", width, initial_indent="   ",
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


def link_html(url: str) -> str:
    """The link to the official publication: a new tab, no access back to this page, and
    no referrer sent along."""
    return (f'<a class="vb-link" href="{esc(url)}" target="_blank" '
            f'rel="noopener noreferrer">officiële tekst ↗</a>')


def hit_html(v: HitView) -> str:
    """One hit as HTML: compact header, quote, relevance, the official link, the source, and
    collapsed the question it answered, the whole vraag and antwoord and the full citation."""
    hit = v.hit
    label = vraag_label(hit.chunk.vraag).capitalize()
    link = f" · {link_html(v.url)}" if v.url else ""
    return (
        f'<div class="vb-hit">'
        f'<p class="vb-cite"><strong>{hit.rank}.</strong> '
        f'<span class="vb-header">{esc(v.header)}</span></p>'
        f'<blockquote class="vb-quote">{_paragraphs(v.quote.text)}</blockquote>'
        f'<p class="vb-meta"><small><span class="vb-rel vb-rel-{v.relevance}">relevantie: '
        f"{v.relevance}</span>{link} · bron: <code>{esc(v.source)}</code></small></p>"
        f'<details class="vb-question"><summary><small>{esc(label)}'
        f'</small></summary><small>{_paragraphs(hit.chunk.question)}</small></details>'
        f'<details class="vb-full"><summary><small>Hele vraag en antwoord</small></summary>'
        f'<p><strong>Vraag</strong><br>{_paragraphs(hit.chunk.question)}</p>'
        f'<p><strong>Antwoord</strong><br>{_paragraphs(hit.whole_answer)}</p></details>'
        f'<details class="vb-citation"><summary><small>Volledig citaat</small></summary>'
        f"<small>{esc(v.long_citation)}</small></details>"
        f"</div>"
    )


NOTHING_FOUND_ADVICE = ("Er is in de index geen eerder antwoord dat duidelijk over deze vraag "
                        "gaat: geen passage haalt de relevantiedrempel.")
FILTER_ADVICE = "Probeer andere woorden, of zet de filters op vergaderjaar en ministerie uit."
WORDS_ADVICE = "Probeer andere of minder woorden."
# The documents are Dutch: a question read as English matches their words less well.
DUTCH_ADVICE = "Probeer andere of minder woorden, of stel de vraag in het Nederlands."
NOTHING_PASSES_HTML = ("Binnen de gekozen filters staat geen enkel antwoord in de index. "
                       "Zet de filters op vergaderjaar en ministerie uit om overal te zoeken.")


def reply_messages(answer: Answer) -> list[str]:
    """The chat reply for a search as messages: one per hit (the first opens with the count),
    so that each hit can be judged on its own, or one notice when nothing is shown.

    The advice of a notice fits the search: switching filters off is suggested only when
    filters were set, asking in Dutch only when the question was not read as Dutch.
    """
    if not answer.hits and answer.filtered:
        return [notice_html(NO_ANSWER_TITLE, NOTHING_PASSES_HTML)]
    if answer.abstained or not answer.hits:
        return [notice_html(NO_ANSWER_TITLE, f"{NOTHING_FOUND_ADVICE} {advice(answer)}")]
    n = len(answer.hits)
    found = "1 eerder antwoord" if n == 1 else f"{n} eerdere antwoorden"
    head = (f'<p class="vb-head">{found} gevonden, meest relevante eerst. '
            f"Citaten zijn letterlijk.</p>")
    messages = [hit_html(v) for v in views(answer)]
    messages[0] = head + messages[0]
    return messages


def advice(answer: Answer) -> str:
    """What to try when nothing was found: other words, the filters off when some were set,
    the question in Dutch when it was read as another language."""
    if answer.filtered:
        return FILTER_ADVICE
    return WORDS_ADVICE if answer.language is Language.NL else DUTCH_ADVICE


def to_html(answer: Answer) -> str:
    """The chat reply for a search as one piece of HTML (`reply_messages` joined)."""
    return "".join(reply_messages(answer))


def notice_html(title: str, body: str) -> str:
    """A short message in the chat (no results, a refused question, an error)."""
    return f'<div class="vb-notice"><p><strong>{esc(title)}</strong></p><p>{esc(body)}</p></div>'


def plain_reference(hit: Hit) -> str:
    """The whole vraag and antwoord with the long citation, as plain text for the side panel."""
    doc = hit.doc
    cite = long_citation(doc.doc_id, doc.meta, hit.chunk.vraag)
    url = official_url(doc.doc_id, doc.meta)
    where = f"Bron: {printable(doc.source)}" + (f"\nOfficiële tekst: {url}" if url else "")
    return (f"{cite}\n{where}\n\nVraag\n{hit.chunk.question}"
            f"\n\nAntwoord\n{hit.whole_answer}")
