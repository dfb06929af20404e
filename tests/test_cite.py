"""Citations: exact wording from the stored, structured metadata."""

from __future__ import annotations

import pytest

from rag.cite import answerer_phrase, compact_header, dutch_date, long_citation, short_date
from rag.ingest.meta import with_people
from rag.ingest.parse import parse_document
from rag.ingest.readers import read_text
from rag.types import Answerer, Document, DocumentMeta
from tests.conftest import SAMPLE_FILE

SAMPLE_META = DocumentMeta(
    vergaderjaar="2023–2024", ah_nr=2096, date_received="2024-09-02",
    answered_by="Minister van Hijum (Sociale Zaken en Werkgelegenheid)")


@pytest.fixture(scope="module")
def sample() -> Document:
    return parse_document(read_text(SAMPLE_FILE), doc_id=SAMPLE_FILE.stem,
                          source=SAMPLE_FILE.name)


def test_dutch_date() -> None:
    assert dutch_date("2024-09-02") == "2 september 2024"
    assert dutch_date("2023-03-31") == "31 maart 2023"
    assert dutch_date("2024-13-01") is None
    assert dutch_date("2 september 2024") is None
    assert dutch_date(None) is None


def test_long_citation_exact() -> None:
    assert long_citation("ah-tk-20232024-2096", with_people(SAMPLE_META), (3,)) == (
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
    # The wording comes from the answerers ingest reads from the text, never from the text.
    assert answerer_phrase(with_people(DocumentMeta(answered_by=answered_by))) == expected


def test_short_date() -> None:
    assert short_date("2024-09-02") == "2 sep 2024"
    assert short_date("2024-03-31") == "31 mrt 2024"
    assert short_date("2024-02-30x") is None


def test_the_sample_is_read_into_structured_answerers(sample: Document) -> None:
    assert sample.meta.answerers == (
        Answerer("minister", "van Hijum", "Sociale Zaken en Werkgelegenheid"),
        Answerer("minister", "Beljaarts", "Economische Zaken"))


def test_compact_header_tells_hits_apart(sample: Document) -> None:
    assert compact_header(sample.doc_id, sample.meta, (8,)) == (
        "nr. 2096 · vraag 8 · 2 sep 2024 · SZW, EZ")
    assert compact_header("x-1", DocumentMeta(), (4, 5)) == "x-1 · vragen 4 en 5"
    meta = with_people(DocumentMeta(ah_nr=12, answered_by="Minister De Jonge "
                                    "(Infrastructuur en Waterstaat)"))
    assert compact_header("x", meta, (1,)) == "nr. 12 · vraag 1 · IenW"
