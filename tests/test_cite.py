"""Citations: exact wording from the stored, structured metadata."""

from __future__ import annotations

import pytest

from rag.cite import (
    answerer_phrase,
    compact_header,
    compact_id,
    dutch_date,
    long_citation,
    official_url,
    short_date,
)
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


def test_compact_id_is_the_picker_label() -> None:
    assert compact_id("ah-tk-20232024-2096", SAMPLE_META, (8,)) == "nr. 2096 · vraag 8"
    assert compact_id("x-1", DocumentMeta(), (4, 5)) == "x-1 · vragen 4 en 5"


BASE = "https://zoek.officielebekendmakingen.nl"
SIDECAR_URL = f"{BASE}/ah-1234567.html"


@pytest.mark.parametrize(("doc_id", "given", "expected"), [
    # every id form in a corpus folder: the file stem is the document id
    ("ah-tk-20232024-2096", None, f"{BASE}/ah-tk-20232024-2096.html"),
    ("ah-ek-20232024-12", None, f"{BASE}/ah-ek-20232024-12.html"),
    ("AH-TK-20232024-2096", None, f"{BASE}/ah-tk-20232024-2096.html"),
    ("kv-tk-2024Z18435", None, f"{BASE}/kv-tk-2024Z18435.html"),
    ("kv-tk-2024z18435", None, f"{BASE}/kv-tk-2024Z18435.html"),
    ("ah-1234567", None, f"{BASE}/ah-1234567.html"),
    # the URL the open data gave wins: newer publications are known by it
    ("ah-1234567", SIDECAR_URL, SIDECAR_URL),
    ("ah-tk-20232024-2096", f"{BASE}/ah-tk-20232024-2096.html?x=1",
     f"{BASE}/ah-tk-20232024-2096.html?x=1"),
    # files named freely have no official page
    ("antwoorden-ai-2024", None, None),
    ("ah-tk-20232025-2096", None, None),  # not a vergaderjaar
    ("notitie", "", None),
    # a sidecar value that is no web address is ignored
    ("notitie", "javascript:alert(1)", None),
    ("ah-tk-20232024-2096", "javascript:alert(1)", f"{BASE}/ah-tk-20232024-2096.html"),
    ("notitie", "https://example.org/a\nb", None),
])
def test_official_url_for_every_id_form(doc_id: str, given: str | None,
                                        expected: str | None) -> None:
    assert official_url(doc_id, DocumentMeta(official_url=given)) == expected
