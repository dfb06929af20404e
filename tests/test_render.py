"""The output stage: one answer as text, JSON and HTML, with source text that stays text."""

from __future__ import annotations

import html
from html.parser import HTMLParser

from rag.ingest.meta import with_people
from rag.render import (
    NO_ANSWER_TITLE,
    esc,
    hit_html,
    plain_reference,
    relevance_label,
    to_html,
    view,
)
from rag.types import Answer, Chunk, DocRecord, DocumentMeta, Hit

SAMPLE_META = with_people(DocumentMeta(
    vergaderjaar="2023–2024", ah_nr=2096, date_received="2024-09-02",
    answered_by="Minister van Hijum (Sociale Zaken en Werkgelegenheid)"))
HOSTILE = ("<script>alert('x')</script> <img src=x onerror=\"alert(1)\"> "
           "[klik](javascript:alert(2)) ![beeld](http://example.invalid/a.png) **vet** $$x^2$$ "
           "`code` & <iframe src=javascript:alert(3)></iframe>")
ALLOWED_TAGS = {"div", "p", "strong", "blockquote", "br", "details", "summary", "small", "code"}


def _hit(answer: str, question: str = "Vraag?", meta: DocumentMeta = SAMPLE_META,
         vraag: tuple[int, ...] = (3,), score: float = 0.9, rank: int = 1,
         parts: tuple[Chunk, ...] = ()) -> Hit:
    chunk = Chunk("ah-tk-20232024-2096#v3", "ah-tk-20232024-2096", vraag, 1, 1, question, answer)
    return Hit(rank, score, chunk,
               DocRecord("ah-tk-20232024-2096", "ah-tk-20232024-2096.txt", meta), parts)


def _answer(*hits: Hit, question: str = "vraag", abstained: bool = False) -> Answer:
    return Answer(question, hits, abstained, 0.9)


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.attrs: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.add(tag)
        self.attrs.update(name for name, _ in attrs)


def _tags(markup: str) -> _Tags:
    parser = _Tags()
    parser.feed(markup)
    return parser


def test_whole_answer_joins_the_parts_in_order() -> None:
    parts = tuple(Chunk(f"d#v2/p{i}", "d", (2,), i, 2, "V?", f"Deel {i}.") for i in (1, 2))
    assert _hit("Deel 2.", parts=parts).whole_answer == "Deel 1.\n\nDeel 2."
    assert _hit("Anders.").whole_answer == "Anders."


def test_esc_round_trips_and_leaves_nothing_to_interpret() -> None:
    escaped = esc(HOSTILE)
    assert html.unescape(escaped) == HOSTILE
    for char in "<>[]()!*`$\"'":
        assert char not in escaped


def test_hostile_text_renders_as_text_only() -> None:
    meta = DocumentMeta(vergaderjaar="2023–2024", ah_nr=9999,
                        answered_by=f"Minister X {HOSTILE}")
    markup = hit_html(view(_hit(HOSTILE, question=HOSTILE, meta=meta), "klik", 0.9))
    found = _tags(markup)
    assert found.tags <= ALLOWED_TAGS
    assert found.attrs <= {"class"}
    assert HOSTILE in html.unescape(markup)  # shown, character for character
    for needle in ("<script", "<img", "<iframe", "](", "$$"):
        assert needle not in markup


def test_render_hit_shows_citation_quote_question_source_and_relevance() -> None:
    markup = hit_html(view(_hit("Ja, dat doen wij.", question="Doet u dat?", score=0.912),
                           "doen", 0.95))
    text = html.unescape(markup)
    assert ("<strong>1.</strong> Aanhangsel Handelingen 2023–2024, nr. 2096, vraag 3 — antwoord "
            "van de minister van Sociale Zaken en Werkgelegenheid, ontvangen 2 september 2024"
            ) in text
    assert '<blockquote class="vb-quote">Ja, dat doen wij.</blockquote>' in text
    assert "<summary><small>Vraag 3</small></summary><small>Doet u dat?</small>" in text
    assert "Bron: <code>ah-tk-20232024-2096.txt</code>" in text
    assert "relevantie: hoog (score 0,91)" in text


def test_paragraph_breaks_survive_as_line_breaks() -> None:
    markup = hit_html(view(_hit("Eerste alinea.\n\nTweede alinea."), "alinea", 0.9))
    assert ('<blockquote class="vb-quote">Eerste alinea.<br><br>Tweede alinea.</blockquote>'
            in markup)


def test_abstained_answer_is_one_clear_notice() -> None:
    markup = to_html(_answer(_hit("Iets anders.", score=0.78), abstained=True))
    assert NO_ANSWER_TITLE in markup
    assert "relevantiedrempel" in markup
    assert "vb-hit" not in markup and "Iets anders" not in markup
    assert NO_ANSWER_TITLE in to_html(_answer())


def test_answer_lists_every_hit_in_rank_order() -> None:
    markup = to_html(_answer(_hit("Eerste.", rank=1), _hit("Tweede.", rank=2, vraag=(4, 5))))
    assert markup.startswith('<p class="vb-head">2 eerdere antwoorden gevonden')
    assert markup.index("Eerste.") < markup.index("Tweede.")
    assert "nr. 2096, vragen 4 en 5 — " in markup


def test_relevance_is_relative_to_the_best_hit() -> None:
    assert relevance_label(1.0, 1.0) == "hoog"
    assert relevance_label(0.85, 1.0) == "hoog"
    assert relevance_label(0.6, 1.0) == "redelijk"
    assert relevance_label(0.2, 1.0) == "laag"
    assert relevance_label(0.3, 0.0) == "laag"
    markup = to_html(_answer(_hit("A.", score=0.9), _hit("B.", score=0.3, rank=2)))
    assert "relevantie: hoog (score 0,90)" in markup
    assert "relevantie: laag (score 0,30)" in markup


def test_plain_reference_is_plain_text() -> None:
    ref = plain_reference(_hit("Ja <b>echt</b>.", question="Echt?"))
    assert ref == ("Aanhangsel Handelingen 2023–2024, nr. 2096, vraag 3 — antwoord van de "
                   "minister van Sociale Zaken en Werkgelegenheid, ontvangen 2 september 2024\n"
                   "Bron: ah-tk-20232024-2096.txt\n\nVraag\nEcht?\n\nAntwoord\nJa <b>echt</b>.")
