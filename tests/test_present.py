"""Reply formatting: exact citations, verbatim quotes, and source text that stays text."""

from __future__ import annotations

import html
from html.parser import HTMLParser

import pytest

from rag.chunk import Chunk
from rag.types import DocumentMeta
from rag.store.index import DocRecord
from rag.ingest.parse import parse_document
from rag.present import (
    NO_ANSWER_TITLE,
    Quote,
    answerer_phrase,
    block_parts,
    dutch_date,
    esc,
    long_citation,
    plain_reference,
    relevance,
    render_answer,
    render_hit,
    select_quote,
    sentence_spans,
    whole_answer,
)
from rag.ingest.readers import read_text
from rag.search.rank import Hit
from tests.conftest import SAMPLE_FILE

SAMPLE_META = DocumentMeta(
    vergaderjaar="2023–2024", ah_nr=2096, date_received="2024-09-02",
    answered_by="Minister van Hijum (Sociale Zaken en Werkgelegenheid)")
HOSTILE = ("<script>alert('x')</script> <img src=x onerror=\"alert(1)\"> "
           "[klik](javascript:alert(2)) ![beeld](http://example.invalid/a.png) **vet** $$x^2$$ "
           "`code` & <iframe src=javascript:alert(3)></iframe>")
ALLOWED_TAGS = {"div", "p", "strong", "blockquote", "br", "details", "summary", "small", "code"}


@pytest.fixture(scope="module")
def sample():
    return parse_document(read_text(SAMPLE_FILE), doc_id=SAMPLE_FILE.stem,
                          source=SAMPLE_FILE.name)


def _hit(answer: str, question: str = "Vraag?", meta: DocumentMeta = SAMPLE_META,
         vraag: tuple[int, ...] = (3,), score: float = 0.9, rank: int = 1) -> Hit:
    chunk = Chunk("ah-tk-20232024-2096#v3", "ah-tk-20232024-2096", vraag, 1, 1, question, answer)
    return Hit(rank, score, chunk,
               DocRecord("ah-tk-20232024-2096", "ah-tk-20232024-2096.txt", meta))


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


# --- citations --------------------------------------------------------------------------

def test_dutch_date() -> None:
    assert dutch_date("2024-09-02") == "2 september 2024"
    assert dutch_date("2023-03-31") == "31 maart 2023"
    assert dutch_date("2024-13-01") is None
    assert dutch_date("2 september 2024") is None
    assert dutch_date(None) is None


def test_long_citation_exact() -> None:
    assert long_citation("ah-tk-20232024-2096", SAMPLE_META, (3,)) == (
        "Aanhangsel Handelingen 2023–2024, nr. 2096, vraag 3 — antwoord van de minister van "
        "Sociale Zaken en Werkgelegenheid, ontvangen 2 september 2024")


def test_long_citation_of_the_parsed_sample_names_both_ministers(sample) -> None:
    assert long_citation(sample.doc_id, sample.meta, (11,)) == (
        "Aanhangsel Handelingen 2023–2024, nr. 2096, vraag 11 — antwoord van de minister van "
        "Sociale Zaken en Werkgelegenheid en de minister van Economische Zaken, "
        "ontvangen 2 september 2024")


def test_long_citation_gives_what_the_document_gives() -> None:
    assert long_citation("x", DocumentMeta(vergaderjaar="2023–2024", ah_nr=5), (4, 5)) == (
        "Aanhangsel Handelingen 2023–2024, nr. 5, vragen 4 en 5")
    assert long_citation("x", DocumentMeta(vergaderjaar="2023–2024", ah_nr=5,
                                           date_received="2024-01-09"), (1,)) == (
        "Aanhangsel Handelingen 2023–2024, nr. 5, vraag 1 — ontvangen 9 januari 2024")
    assert long_citation("kv-tk-2024Z01234", DocumentMeta(), (2,)) == "kv-tk-2024Z01234, vraag 2"


@pytest.mark.parametrize(("answered_by", "expected"), [
    ("Minister Ollongren (Defensie), mede namens de Staatssecretaris van Defensie",
     "de minister van Defensie"),
    ("Minister Weerwind (Rechtsbescherming)", "de minister voor Rechtsbescherming"),
    ("Staatssecretaris Karremans (Volksgezondheid, Welzijn en Sport – Jeugd, Preventie en Sport)",
     "de staatssecretaris van Volksgezondheid, Welzijn en Sport"),
    ("staatssecretaris Karremans (Volksgezondheid, Welzijn en Sport",
     "de staatssecretaris van Volksgezondheid, Welzijn en Sport"),
    ("Minister Van Weel (Justitie en Veiligheid) en antwoord van Staatssecretaris Coenradie "
     "(Justitie en Veiligheid)",
     "de minister van Justitie en Veiligheid en de staatssecretaris van Justitie en Veiligheid"),
    ("de heer  Jansen", "de heer Jansen"),
    (None, None),
])
def test_answerer_phrase(answered_by: str | None, expected: str | None) -> None:
    assert answerer_phrase(answered_by) == expected


# --- quotes -----------------------------------------------------------------------------

def test_short_answer_is_quoted_whole() -> None:
    quote = select_quote("Ja, ik ben bekend met dit artikel.", "Kent u het artikel?")
    assert quote == Quote(("Ja, ik ben bekend met dit artikel.",))
    assert quote.text == "Ja, ik ben bekend met dit artikel."


def test_quote_text_marks_every_cut() -> None:
    assert Quote(("Een.", "Drie."), cut_start=True, cut_end=True).text == "… Een. … Drie. …"


def test_long_answer_is_cut_to_the_relevant_sentences_verbatim(sample) -> None:
    answer = sample.blocks[10].answer  # vraag 11: the AI-adviesraad
    quote = select_quote(answer, "Wat heeft de minister gezegd over een AI-adviesraad?", 80)
    assert all(piece in answer for piece in quote.pieces)
    assert quote.pieces[0].startswith("Zoals in de Kamerbrief «Verzamelbrief Digitalisering")
    assert "het inrichten van een AI-adviesraad." in quote.pieces[0]
    assert quote.cut_start and quote.cut_end
    assert quote.text.startswith("… Zoals in de Kamerbrief")
    assert sum(len(p.split()) for p in quote.pieces) <= 80


def test_every_quote_of_the_sample_is_verbatim(sample) -> None:
    for block in sample.blocks:
        for question in ("AI in het mkb", "arbeidsmarktkrapte en productiviteit", "appeltaart",
                         "What about the SER advice?"):
            quote = select_quote(block.answer, question, 40)
            assert all(piece and piece in block.answer for piece in quote.pieces)
            assert sum(len(p.split()) for p in quote.pieces) <= 40


def test_no_shared_word_quotes_the_opening(sample) -> None:
    answer = sample.blocks[4].answer
    quote = select_quote(answer, "recept voor appeltaart", 60)
    assert answer.startswith(quote.pieces[0])
    assert not quote.cut_start and quote.cut_end


def test_a_lone_match_is_quoted_with_its_context() -> None:
    answer = "Een twee drie vier. " * 10 + "De adviesraad komt er. " + "Vijf zes zeven acht. " * 10
    quote = select_quote(answer.strip(), "Komt de adviesraad?", 40)
    assert len(quote.pieces) == 1 and quote.pieces[0] in answer
    assert quote.pieces[0].startswith("De adviesraad komt er. Vijf zes zeven acht.")
    assert 20 <= len(quote.pieces[0].split()) <= 40
    assert quote.cut_start and quote.cut_end


def test_one_overlong_sentence_is_cut_at_a_word() -> None:
    answer = " ".join(f"woord{i}" for i in range(50)) + "."
    quote = select_quote(answer, "woord3", 10)
    assert quote.pieces == (" ".join(f"woord{i}" for i in range(10)),)
    assert quote.text.endswith("woord9 …")


def test_sentence_spans_keep_paragraphs_and_footnote_numbers() -> None:
    text = "Eerste zin bij de SER.3 In die aanvraag. Tweede zin!\n\nNieuwe alinea."
    assert [text[s:e] for s, e in sentence_spans(text)] == [
        "Eerste zin bij de SER.3 In die aanvraag.", "Tweede zin!", "Nieuwe alinea."]


def test_whole_answer_joins_the_parts_in_order() -> None:
    parts = [Chunk(f"d#v2/p{i}", "d", (2,), i, 2, "V?", f"Deel {i}.") for i in (2, 1)]
    other = Chunk("d#v3", "d", (3,), 1, 1, "W?", "Anders.")
    assert whole_answer(block_parts([parts[1], other, parts[0]]), parts[0]) == (
        "Deel 1.\n\nDeel 2.")
    assert whole_answer(block_parts([other]), other) == "Anders."


# --- escaping and rendering -------------------------------------------------------------

def test_esc_round_trips_and_leaves_nothing_to_interpret() -> None:
    escaped = esc(HOSTILE)
    assert html.unescape(escaped) == HOSTILE
    for char in "<>[]()!*`$\"'":
        assert char not in escaped


def test_hostile_text_renders_as_text_only() -> None:
    meta = DocumentMeta(vergaderjaar="2023–2024", ah_nr=9999,
                        answered_by=f"Minister X {HOSTILE}")
    markup = render_hit(_hit(HOSTILE, question=HOSTILE, meta=meta), "klik")
    found = _tags(markup)
    assert found.tags <= ALLOWED_TAGS
    assert found.attrs <= {"class"}
    assert HOSTILE in html.unescape(markup)  # shown, character for character
    for needle in ("<script", "<img", "<iframe", "](", "$$"):
        assert needle not in markup


def test_render_hit_shows_citation_quote_question_source_and_relevance() -> None:
    markup = render_hit(_hit("Ja, dat doen wij.", question="Doet u dat?", score=0.912),
                        "doen", best=0.95)
    text = html.unescape(markup)
    assert ("<strong>1.</strong> Aanhangsel Handelingen 2023–2024, nr. 2096, vraag 3 — antwoord "
            "van de minister van Sociale Zaken en Werkgelegenheid, ontvangen 2 september 2024"
            ) in text
    assert '<blockquote class="vb-quote">Ja, dat doen wij.</blockquote>' in text
    assert "<summary><small>Vraag 3</small></summary><small>Doet u dat?</small>" in text
    assert "Bron: <code>ah-tk-20232024-2096.txt</code>" in text
    assert "relevantie: hoog (score 0,91)" in text


def test_paragraph_breaks_survive_as_line_breaks() -> None:
    markup = render_hit(_hit("Eerste alinea.\n\nTweede alinea."), "alinea")
    assert ('<blockquote class="vb-quote">Eerste alinea.<br><br>Tweede alinea.</blockquote>'
            in markup)


def test_abstained_answer_is_one_clear_notice() -> None:
    hits = [_hit("Iets anders.", score=0.78)]
    markup = render_answer(hits, "recept voor appeltaart", abstained=True)
    assert NO_ANSWER_TITLE in markup
    assert "relevantiedrempel" in markup
    assert "vb-hit" not in markup and "Iets anders" not in markup
    assert NO_ANSWER_TITLE in render_answer([], "iets")


def test_answer_lists_every_hit_in_rank_order() -> None:
    hits = [_hit("Eerste.", rank=1), _hit("Tweede.", rank=2, vraag=(4, 5))]
    markup = render_answer(hits, "vraag")
    assert markup.startswith('<p class="vb-head">2 eerdere antwoorden gevonden')
    assert markup.index("Eerste.") < markup.index("Tweede.")
    assert "nr. 2096, vragen 4 en 5 — " in markup


def test_relevance_is_relative_to_the_best_hit() -> None:
    assert relevance(1.0, 1.0) == "hoog"
    assert relevance(0.85, 1.0) == "hoog"
    assert relevance(0.6, 1.0) == "redelijk"
    assert relevance(0.2, 1.0) == "laag"
    assert relevance(0.3, 0.0) == "laag"
    markup = render_answer([_hit("A.", score=0.9), _hit("B.", score=0.3, rank=2)], "a")
    assert "relevantie: hoog (score 0,90)" in markup
    assert "relevantie: laag (score 0,30)" in markup


def test_plain_reference_is_plain_text() -> None:
    ref = plain_reference(_hit("Ja <b>echt</b>.", question="Echt?"))
    assert ref == ("Aanhangsel Handelingen 2023–2024, nr. 2096, vraag 3 — antwoord van de "
                   "minister van Sociale Zaken en Werkgelegenheid, ontvangen 2 september 2024\n"
                   "Bron: ah-tk-20232024-2096.txt\n\nVraag\nEcht?\n\nAntwoord\nJa <b>echt</b>.")
