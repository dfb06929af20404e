"""Quotes: verbatim pieces of the stored answer, cut to what the question asks."""

from __future__ import annotations

import pytest

from rag.dutch import sentence_spans
from rag.ingest.parse import parse_document
from rag.ingest.readers import read_text
from rag.quote import select_quote
from rag.types import Document, Quote
from tests.conftest import SAMPLE_FILE


@pytest.fixture(scope="module")
def sample() -> Document:
    return parse_document(read_text(SAMPLE_FILE), doc_id=SAMPLE_FILE.stem,
                          source=SAMPLE_FILE.name)


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
