"""The output stage: one answer as text, JSON and HTML, with source text that stays text."""

from __future__ import annotations

import html
from dataclasses import replace
from html.parser import HTMLParser

import pytest

from rag.ingest.meta import with_people
from rag.render import (
    NO_ANSWER_TITLE,
    esc,
    hit_html,
    plain_reference,
    relevance_label,
    reply_messages,
    to_html,
    to_json,
    to_text,
    view,
)
from rag.types import Answer, Chunk, DocRecord, DocumentMeta, Hit, Language

SAMPLE_META = with_people(DocumentMeta(
    vergaderjaar="2023–2024", ah_nr=2096, date_received="2024-09-02",
    answered_by="Minister van Hijum (Sociale Zaken en Werkgelegenheid)"))
HOSTILE = ("<script>alert('x')</script> <img src=x onerror=\"alert(1)\"> "
           "[klik](javascript:alert(2)) ![beeld](http://example.invalid/a.png) **vet** $$x^2$$ "
           "`code` & <iframe src=javascript:alert(3)></iframe>")
ALLOWED_TAGS = {"div", "p", "strong", "blockquote", "br", "details", "summary", "small", "code",
                "span", "a"}
OFFICIAL = "https://zoek.officielebekendmakingen.nl/ah-tk-20232024-2096.html"


def _hit(answer: str, question: str = "Vraag?", meta: DocumentMeta = SAMPLE_META,
         vraag: tuple[int, ...] = (3,), score: float = 0.9, rank: int = 1,
         parts: tuple[Chunk, ...] = (), relevance: float | None = None,
         doc_id: str = "ah-tk-20232024-2096") -> Hit:
    chunk = Chunk(f"{doc_id}#v3", doc_id, vraag, 1, 1, question, answer)
    return Hit(rank, score, chunk, DocRecord(doc_id, f"{doc_id}.txt", meta), parts, relevance)


def _answer(*hits: Hit, question: str = "vraag", abstained: bool = False,
            filtered: bool = False) -> Answer:
    return Answer(question, hits, abstained, 0.9, filtered)


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.attrs: set[str] = set()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.add(tag)
        self.attrs.update(name for name, _ in attrs)
        if tag == "a":
            found = dict(attrs)
            assert found["target"] == "_blank" and found["rel"] == "noopener noreferrer"
            self.hrefs.append(found["href"])


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
    markup = hit_html(view(_hit(HOSTILE, question=HOSTILE, meta=meta), "klik"))
    found = _tags(markup)
    assert found.tags <= ALLOWED_TAGS
    assert found.attrs <= {"class", "href", "target", "rel"}
    assert found.hrefs == [OFFICIAL]  # the one link is the reply's own
    assert HOSTILE in html.unescape(markup)  # shown, character for character
    for needle in ("<script", "<img", "<iframe", "](", "$$"):
        assert needle not in markup


def test_a_sidecar_url_that_is_not_a_web_address_is_never_a_link() -> None:
    meta = DocumentMeta(vergaderjaar="2023–2024", ah_nr=9999,
                        official_url="javascript:alert('x')")
    markup = hit_html(view(_hit("Ja.", meta=meta, doc_id="eigen-notitie"), "ja"))
    assert "<a " not in markup and "javascript" not in markup
    spaced = DocumentMeta(official_url="https://example.org/a b")
    assert "<a " not in hit_html(view(_hit("Ja.", meta=spaced, doc_id="eigen-notitie"), "ja"))
    quoted = DocumentMeta(official_url='https://example.org/"onmouseover="alert(1)')
    found = _tags(hit_html(view(_hit("Ja.", meta=quoted, doc_id="eigen-notitie"), "ja")))
    assert found.attrs <= {"class", "href", "target", "rel"}
    assert found.hrefs == ['https://example.org/"onmouseover="alert(1)']  # one attribute


def test_render_hit_shows_header_quote_link_question_source_and_relevance() -> None:
    markup = hit_html(view(_hit("Ja, dat doen wij.", question="Doet u dat?", score=0.912,
                                relevance=0.7), "doen"))
    text = html.unescape(markup)
    assert text.startswith('<div class="vb-hit"><p class="vb-cite"><strong>1.</strong> '
                           '<span class="vb-header">nr. 2096 · vraag 3 · 2 sep 2024 · SZW'
                           '</span></p><blockquote class="vb-quote">Ja, dat doen wij.'
                           '</blockquote>')
    assert ('<span class="vb-rel vb-rel-hoog">relevantie: hoog</span> · <a class="vb-link" '
            f'href="{OFFICIAL}" target="_blank" rel="noopener noreferrer">officiële tekst ↗</a>'
            " · bron: <code>ah-tk-20232024-2096.txt</code>") in text
    assert "<summary><small>Vraag 3</small></summary><small>Doet u dat?</small>" in text
    # the long citation, one click away
    assert ("<summary><small>Volledig citaat</small></summary><small>Aanhangsel Handelingen "
            "2023–2024, nr. 2096, vraag 3 — antwoord van de minister van Sociale Zaken en "
            "Werkgelegenheid, ontvangen 2 september 2024</small></details>") in text


def test_a_document_without_an_official_id_has_no_link() -> None:
    markup = hit_html(view(_hit("Ja.", doc_id="notitie-van-anna"), "ja"))
    assert "<a " not in markup and "officiële tekst" not in markup
    assert "relevantie: " in markup and "bron: <code>notitie-van-anna.txt</code>" in markup


def test_paragraph_breaks_survive_as_line_breaks() -> None:
    markup = hit_html(view(_hit("Eerste alinea.\n\nTweede alinea."), "alinea"))
    assert ('<blockquote class="vb-quote">Eerste alinea.<br><br>Tweede alinea.</blockquote>'
            in markup)


def test_abstained_answer_is_one_clear_notice() -> None:
    markup = to_html(_answer(_hit("Iets anders.", score=0.78), abstained=True))
    assert NO_ANSWER_TITLE in markup
    assert "relevantiedrempel" in markup
    assert "vb-hit" not in markup and "Iets anders" not in markup
    assert NO_ANSWER_TITLE in to_html(_answer())


def test_nothing_found_suggests_switching_filters_off_only_when_some_were_set() -> None:
    plain = to_html(_answer(_hit("X."), abstained=True))
    assert "filters" not in plain and "andere of minder woorden" in plain
    filtered = to_html(_answer(_hit("X."), abstained=True, filtered=True))
    assert "zet de filters op vergaderjaar en ministerie uit" in filtered
    nothing_passes = to_html(_answer(filtered=True))
    assert "Binnen de gekozen filters staat geen enkel antwoord" in nothing_passes


def test_asking_in_dutch_is_suggested_only_for_a_question_that_was_not_dutch() -> None:
    dutch = to_html(_answer(_hit("X."), abstained=True))
    assert "andere of minder woorden" in dutch and "Nederlands" not in dutch
    english = to_html(replace(_answer(_hit("X."), abstained=True), language=Language.EN))
    assert "of stel de vraag in het Nederlands" in english


def test_answer_lists_every_hit_in_rank_order_one_message_each() -> None:
    messages = reply_messages(_answer(_hit("Eerste.", rank=1),
                                      _hit("Tweede.", rank=2, vraag=(4, 5))))
    assert len(messages) == 2
    assert messages[0].startswith('<p class="vb-head">2 eerdere antwoorden gevonden')
    assert "Eerste." in messages[0] and "Tweede." in messages[1]
    assert '<span class="vb-header">nr. 2096 · vragen 4 en 5 · ' in messages[1]
    assert to_html(_answer(_hit("Eerste."))).count('class="vb-head"') == 1


@pytest.mark.parametrize(("probability", "label"), [
    (0.99, "hoog"), (0.6, "hoog"), (0.59, "redelijk"), (0.2, "redelijk"), (0.19, "laag"),
    (0.0, "laag")])
def test_relevance_label_follows_the_calibrated_probability(probability: float,
                                                            label: str) -> None:
    # the probability decides, whatever the text shares with the question
    assert relevance_label(_hit("Iets heel anders.", relevance=probability),
                           "AI-adviesraad oprichten") == label


def test_without_a_probability_the_label_is_the_share_of_question_words_found() -> None:
    question = "Een AI-adviesraad voor kunstmatige intelligentie?"
    # content words: adviesraad, kunstmatige, intelligentie (cut to six letters); "ai" is short
    all_three = _hit("Er komt een adviesraad voor kunstmatige intelligentie.")
    two = _hit("De adviesraad gaat over kunstmatige zaken.")
    one = _hit("De adviesraad is er al.")
    none = _hit("Het kabinet bouwt wegen.")
    assert [relevance_label(h, question) for h in (all_three, two, one, none)] == [
        "hoog", "hoog", "redelijk", "laag"]
    # absolute: the same hit gets the same label whatever else was found, and a weak best
    # hit is not "hoog" because it is first
    alone = _answer(one, question=question)
    assert "relevantie: redelijk" in to_html(alone)
    # the vraag counts as well as the antwoord
    assert relevance_label(_hit("Ja.", question="Komt er een adviesraad voor kunstmatige "
                                "intelligentie?"), question) == "hoog"
    assert relevance_label(all_three, "!!!") == "laag"  # no content words: nothing matched


def test_json_and_text_carry_url_and_relevance() -> None:
    answer = _answer(_hit("Ja.", relevance=0.8),
                     _hit("Nee.", rank=2, doc_id="notitie-van-anna"), question="ja")
    hits = to_json(answer)["hits"]
    assert [(h["url"], h["relevance"], h["relevance_label"]) for h in hits] == [
        (OFFICIAL, 0.8, "hoog"), (None, None, "laag")]
    text = to_text(answer)
    assert f"   {OFFICIAL}\n" in text and text.count("https://") == 1
    assert "   relevance high (0.80) · score 0.900 · source: ah-tk-20232024-2096.txt" in text
    assert "Question: Vraag?" in text and "Vraag:" not in text


def test_plain_reference_is_plain_text() -> None:
    ref = plain_reference(_hit("Ja <b>echt</b>.", question="Echt?"))
    assert ref == ("Aanhangsel Handelingen 2023–2024, nr. 2096, vraag 3 — antwoord van de "
                   "minister van Sociale Zaken en Werkgelegenheid, ontvangen 2 september 2024\n"
                   f"Bron: ah-tk-20232024-2096.txt\nOfficiële tekst: {OFFICIAL}\n\nVraag\nEcht?"
                   "\n\nAntwoord\nJa <b>echt</b>.")
