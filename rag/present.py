"""Replies for people: quote selection, the long citation, and HTML in which source text is text.

Everything here is a pure function of an `Answer` and its hits, so the chat and its tests see
exactly the same output. Two rules hold throughout:

- a quote is never rewritten: it is one or more verbatim pieces of the stored answer, joined
  by " … " where sentences were left out;
- every piece of document or user text passes through `esc` before it enters the HTML, so
  markup in a source (``<script>``, ``<img onerror>``, Markdown links) is shown, not run.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rag.chunk import Chunk
from rag.cite import citation, vraag_label
from rag.types import DocumentMeta
from rag.ingest.meta import MONTHS
from rag.names import printable
from rag.search.rank import Hit

ELLIPSIS = " … "
DEFAULT_QUOTE_WORDS = 80  # long enough for a complete thought, short enough to scan five of
NO_ANSWER_TITLE = "Geen eerder antwoord gevonden"

MONTHS_NL = tuple(MONTHS)  # month names in calendar order
# Programme ministers are "minister voor …", everyone else "minister van …".
_VOOR = frozenset(s.casefold() for s in (
    "Rechtsbescherming", "Natuur en Stikstof", "Langdurige Zorg en Sport", "Klimaat en Energie",
    "Buitenlandse Handel en Ontwikkelingssamenwerking", "Primair en Voortgezet Onderwijs",
    "Buitenlandse Handel en Ontwikkelingshulp", "Armoedebeleid, Participatie en Pensioenen",
    "Medische Zorg", "Medische Zorg en Sport", "Basis- en Voortgezet Onderwijs en Media",
))
_ANSWERER = re.compile(
    r"\b(?P<role>minister-president|minister|staatssecretaris)\b[^()]*?\((?P<portfolio>[^()]+)\)?",
    re.I)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-ZÀ-Ý«“\"‘(])|\n\s*")
_WORD = re.compile(r"\w+")
_WORD_RUN = re.compile(r"\S+")
_SPECIAL = re.compile(r"[&<>\"'\[\]()!*_`#~|$\\{}]")
# Function words carry no topic: a sentence sharing only these with the question is no match.
_STOPWORD_TEXT = """
aan al alle als bij dan dat de deze die dit door een en er ge had heb heeft hem het hier hij hoe
hun ik in is je kan kunnen kunt maar me meer men met mij mijn naar niet nog nu of om ook op over
te tot u uit uw van veel voor waar wat we wel werd wie wij wil worden wordt zal ze zich zij zijn
zo zou welke welk wanneer waarom bent heeft hebben the and for what did does how why which who
about with that this are was were has have into from
"""
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())


@dataclass(frozen=True)
class Quote:
    """Verbatim pieces of an answer, in order; ``cut_*`` say whether text was left out there."""

    pieces: tuple[str, ...]
    cut_start: bool = False
    cut_end: bool = False

    @property
    def text(self) -> str:
        """The quote as shown: pieces joined by " … ", with a leading/trailing "…" when cut."""
        body = ELLIPSIS.join(self.pieces)
        return f"{'… ' if self.cut_start else ''}{body}{' …' if self.cut_end else ''}"


def dutch_date(iso: str | None) -> str | None:
    """``2024-09-02`` -> ``2 september 2024``; None for a missing or malformed date."""
    m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", iso or "")
    if not m or not 1 <= int(m.group(2)) <= 12 or not 1 <= int(m.group(3)) <= 31:
        return None
    return f"{int(m.group(3))} {MONTHS_NL[int(m.group(2)) - 1]} {m.group(1)}"


def answerers(answered_by: str | None) -> tuple[tuple[str, str], ...]:
    """(role, portfolio) pairs named in ``answered_by``, ignoring "mede namens …" co-signers.

    ``Minister van Hijum (Sociale Zaken en Werkgelegenheid)`` gives
    ``(("minister", "Sociale Zaken en Werkgelegenheid"),)``. A sub-portfolio after a dash
    (``Volksgezondheid, Welzijn en Sport – Jeugd, Preventie en Sport``) is dropped.
    """
    if not answered_by:
        return ()
    main = re.split(r",?\s*mede namens\b", answered_by, maxsplit=1, flags=re.I)[0]
    found: list[tuple[str, str]] = []
    for m in _ANSWERER.finditer(main):
        portfolio = re.split(r"\s+[–-]\s+", m.group("portfolio"))[0]
        portfolio = " ".join(portfolio.split()).strip(" ,.")
        pair = (m.group("role").lower(), portfolio)
        if portfolio and pair not in found:
            found.append(pair)
    return tuple(found)


def answerer_phrase(answered_by: str | None) -> str | None:
    """``de minister van Sociale Zaken en Werkgelegenheid`` (joined with "en" for several).

    Falls back to the text as given when it names no role with a portfolio in brackets.
    """
    pairs = answerers(answered_by)
    if not pairs:
        return " ".join(answered_by.split()) if answered_by and answered_by.strip() else None
    phrases = [f"de {role} {_preposition(role, portfolio)} {portfolio}"
               for role, portfolio in pairs]
    return phrases[0] if len(phrases) == 1 else f"{', '.join(phrases[:-1])} en {phrases[-1]}"


def _preposition(role: str, portfolio: str) -> str:
    return "voor" if role == "minister" and portfolio.casefold() in _VOOR else "van"


def long_citation(doc_id: str, meta: DocumentMeta, vraag: tuple[int, ...]) -> str:
    """The full citation, with as much as the document gives.

    ``Aanhangsel Handelingen 2023–2024, nr. 2096, vraag 3 — antwoord van de minister van
    Sociale Zaken en Werkgelegenheid, ontvangen 2 september 2024``
    """
    short = citation(doc_id, meta, vraag)
    who = answerer_phrase(meta.answered_by)
    when = dutch_date(meta.date_received)
    tail = ", ".join(part for part in (f"antwoord van {who}" if who else None,
                                       f"ontvangen {when}" if when else None) if part)
    return f"{short} — {tail}" if tail else short


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence or paragraph of ``text``, without surrounding space."""
    spans = []
    start = 0
    for m in [*_SENTENCE_END.finditer(text), None]:
        end = m.start() if m else len(text)
        piece = text[start:end]
        if piece.strip():
            lead = len(piece) - len(piece.lstrip())
            spans.append((start + lead, start + len(piece.rstrip())))
        if m:
            start = m.end()
    return spans


def terms(text: str) -> set[str]:
    """Content words of ``text``, cut to six letters so Dutch inflections still meet."""
    return {w[:6] for w in _WORD.findall(text.casefold()) if len(w) > 2 and w not in _STOPWORDS}


def select_quote(answer: str, question: str, max_words: int = DEFAULT_QUOTE_WORDS) -> Quote:
    """The sentences of ``answer`` that share most words with ``question``, within a budget.

    A short answer is quoted whole. Otherwise sentences are taken best first until
    ``max_words`` is reached and shown in their original order; a quote still under half the
    budget gets the sentences around its pieces. Adjacent sentences form one piece (the
    exact source text between them included). When no sentence shares a word with the
    question (a purely semantic match) the answer's opening sentences are quoted.
    """
    if len(answer.split()) <= max_words:
        return Quote((answer.strip(),))
    spans = sentence_spans(answer)
    wanted = terms(question)
    overlap = [len(terms(answer[s:e]) & wanted) for s, e in spans]
    best = max(overlap)
    if best == 0:  # nothing lexical to go on (a purely semantic match): read from the start
        order, keep = list(range(len(spans))), None
    else:  # the best sentences, and others only if they match at least half as well
        order = sorted(range(len(spans)), key=lambda i: (-overlap[i], i))
        keep = max(1, (best + 1) // 2)
    chosen: list[int] = []
    budget = max_words
    for i in order:
        if keep is not None and overlap[i] < keep:
            break
        s, e = spans[i]
        n = len(answer[s:e].split())
        if n <= budget:
            chosen.append(i)
            budget -= n
        elif not chosen:  # one sentence longer than the whole budget: cut it at a word
            end = list(_WORD_RUN.finditer(answer, s, e))[max_words - 1].end()
            return Quote((answer[s:end],), cut_start=i > 0, cut_end=True)
        elif keep is None:
            break
    # A lone matching sentence reads better in context: top up to half the budget with the
    # sentences after each piece, then (at the end of an answer) those before it.
    for step in (1, -1):
        for i in sorted(chosen):
            j = i + step
            while budget > max_words // 2 and 0 <= j < len(spans) and j not in chosen:
                n = len(answer[slice(*spans[j])].split())
                if n > budget:
                    break
                chosen.append(j)
                budget -= n
                j += step
    chosen.sort()
    pieces: list[tuple[int, int]] = []
    for i in chosen:
        if pieces and i - 1 in chosen:
            pieces[-1] = (pieces[-1][0], spans[i][1])
        else:
            pieces.append(spans[i])
    return Quote(tuple(answer[s:e] for s, e in pieces), cut_start=chosen[0] > 0,
                 cut_end=chosen[-1] < len(spans) - 1)



def block_parts(chunks: Sequence[Chunk]) -> dict[tuple[str, tuple[int, ...]], list[Chunk]]:
    """The parts of every split answer, by (document, vraag), in order; built once per index
    so that showing a whole answer does not scan every chunk (300k in a large index)."""
    parts: dict[tuple[str, tuple[int, ...]], list[Chunk]] = {}
    for chunk in chunks:
        if chunk.n_parts > 1:
            parts.setdefault((chunk.doc_id, chunk.vraag), []).append(chunk)
    for group in parts.values():
        group.sort(key=lambda c: c.part)
    return parts


def whole_answer(parts: Mapping[tuple[str, tuple[int, ...]], Sequence[Chunk]],
                 chunk: Chunk) -> str:
    """The complete answer a chunk belongs to: all its parts, in order (a single part as is).

    ``parts`` comes from `block_parts`.
    """
    if chunk.n_parts == 1:
        return chunk.answer
    return "\n\n".join(c.answer for c in parts[(chunk.doc_id, chunk.vraag)])


def relevance(score: float, best: float) -> str:
    """``hoog``, ``redelijk`` or ``laag``: a hit's ranking score relative to the best hit's.

    Hybrid scores are fused per question (the best is about 1), so they rank passages
    within one answer but mean nothing across questions; whether anything is relevant at
    all is the abstention check, made before any passage is shown.
    """
    ratio = score / best if best > 0 else 0.0
    if ratio >= 0.8:
        return "hoog"
    return "redelijk" if ratio >= 0.5 else "laag"


def esc(text: str) -> str:
    """Text to HTML that renders as exactly that text, in HTML and in Markdown alike.

    Besides ``& < > " '`` the characters Markdown or LaTeX would act on are written as
    numeric character references, so no renderer turns source text into tags, links, images
    or math.
    """
    return _SPECIAL.sub(lambda m: f"&#{ord(m.group())};", text)


def _paragraphs(text: str) -> str:
    return "<br>".join(esc(line) for line in text.split("\n"))


def render_hit(hit: Hit, question: str, *, full_answer: str | None = None,
               best: float | None = None, max_words: int = DEFAULT_QUOTE_WORDS) -> str:
    """One passage as HTML: citation, quote, the question it answered, source and relevance."""
    quote = select_quote(hit.chunk.answer, question, max_words)
    label = vraag_label(hit.chunk.vraag).capitalize()
    cite = long_citation(hit.doc.doc_id, hit.doc.meta, hit.chunk.vraag)
    full = full_answer if full_answer is not None else hit.chunk.answer
    score = f"{hit.score:.2f}".replace(".", ",")
    return (
        f'<div class="vb-hit">'
        f'<p class="vb-cite"><strong>{hit.rank}.</strong> {esc(cite)}</p>'
        f'<blockquote class="vb-quote">{_paragraphs(quote.text)}</blockquote>'
        f'<details class="vb-question"><summary><small>{esc(label)}'
        f'</small></summary><small>{_paragraphs(hit.chunk.question)}</small></details>'
        f'<details class="vb-full"><summary><small>Hele vraag en antwoord</small></summary>'
        f'<p><strong>Vraag</strong><br>{_paragraphs(hit.chunk.question)}</p>'
        f'<p><strong>Antwoord</strong><br>{_paragraphs(full)}</p></details>'
        f'<p class="vb-meta"><small>Bron: <code>{esc(printable(hit.doc.source))}</code> · '
        f'relevantie: {relevance(hit.score, hit.score if best is None else best)} '
        f"(score {score})</small></p>"
        f"</div>"
    )


def render_answer(hits: Sequence[Hit], question: str, *, abstained: bool = False,
                  full_answers: Sequence[str] | None = None,
                  max_words: int = DEFAULT_QUOTE_WORDS) -> str:
    """The chat reply for a search: the passages, or the "no earlier answer" notice."""
    if abstained or not hits:
        return render_notice(
            NO_ANSWER_TITLE,
            "Er is in de index geen eerder antwoord dat duidelijk over deze vraag gaat: geen "
            "passage haalt de relevantiedrempel. Probeer andere woorden, of zet de filters op "
            "vergaderjaar en ministerie uit.")
    fulls = list(full_answers) if full_answers is not None else [None] * len(hits)
    n = len(hits)
    found = "1 eerder antwoord" if n == 1 else f"{n} eerdere antwoorden"
    head = (f'<p class="vb-head">{found} gevonden, meest relevante eerst. '
            f"Citaten zijn letterlijk.</p>")
    best = hits[0].score
    return head + "".join(render_hit(h, question, full_answer=f, best=best, max_words=max_words)
                          for h, f in zip(hits, fulls, strict=True))


def render_notice(title: str, body: str) -> str:
    """A short message in the chat (no results, a refused question, an error)."""
    return f'<div class="vb-notice"><p><strong>{esc(title)}</strong></p><p>{esc(body)}</p></div>'


def plain_reference(hit: Hit, full_answer: str | None = None) -> str:
    """The whole vraag and antwoord with the long citation, as plain text for the side panel."""
    cite = long_citation(hit.doc.doc_id, hit.doc.meta, hit.chunk.vraag)
    answer = full_answer if full_answer is not None else hit.chunk.answer
    return (f"{cite}\nBron: {printable(hit.doc.source)}\n\nVraag\n{hit.chunk.question}"
            f"\n\nAntwoord\n{answer}")
