"""Metadata: members and parties, ministers and ministries, and the JSON round trip."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import pytest

from rag.cite import document_citation
from rag.government import party_key
from rag.ingest.meta import extract_meta, vergaderjaar_of
from rag.ingest.people import (
    answerers_and_ministries,
    askers_and_parties,
    expand_ministry,
    ministries_addressed,
)
from rag.ingest.readers import load_document
from rag.types import Answerer as A
from rag.types import DocumentMeta
from tests.conftest import SAMPLE_FILE


@pytest.mark.parametrize(
    ("asked_by", "askers", "parties"),
    [
        ("de leden Aartsen en Rajkowski (VVD)", ("Aartsen", "Rajkowski"), ("VVD",)),
        ("het lid Van Nispen (SP)", ("Van Nispen",), ("SP",)),
        ("de leden Grinwis (ChristenUnie), Koerhuis (VVD), Van der Plas (BBB) en Westerveld "
         "(GroenLinks-PvdA)", ("Grinwis", "Koerhuis", "Van der Plas", "Westerveld"),
         ("ChristenUnie", "VVD", "BBB", "GroenLinks-PvdA")),
        ("de leden Kröger , Thijssen (beiden GroenLinks-PvdA), Teunissen (PvdD) en Rooderkerk "
         "(D66)", ("Kröger", "Thijssen", "Teunissen", "Rooderkerk"),
         ("GroenLinks-PvdA", "PvdD", "D66")),
        ("het lid Olger van Dijk (Nieuw Sociaal Contract)", ("Olger van Dijk",),
         ("Nieuw Sociaal Contract",)),
        ("de leden lid Inge van Dijk (CDA) en Vijlbrief (D66)", ("Inge van Dijk", "Vijlbrief"),
         ("CDA", "D66")),
        (None, (), ()),
        ("x" * 1000, (), ()),
    ],
)
def test_askers_and_parties(asked_by: str | None, askers: tuple, parties: tuple) -> None:
    assert askers_and_parties(asked_by) == (askers, parties)


@pytest.mark.parametrize(
    ("answered_by", "answerers", "ministries"),
    [
        ("Minister van Hijum (Sociale Zaken en Werkgelegenheid) en van Minister Beljaarts "
         "(Economische Zaken)", (A("minister", "van Hijum", "Sociale Zaken en Werkgelegenheid"),
                                  A("minister", "Beljaarts", "Economische Zaken")),
         ("Sociale Zaken en Werkgelegenheid", "Economische Zaken")),
        ("minister Klever (Buitenlandse Handel en Ontwikkelingshulp), mede namens de minister "
         "van Financiën", (A("minister", "Klever", "Buitenlandse Handel en Ontwikkelingshulp"),),
         ("Buitenlandse Handel en Ontwikkelingshulp", "Financiën")),
        ("minister Beljaarts (Economische Zaken), mede namens de staatssecretaris van "
         "Infrastructuur en Waterstaat", (A("minister", "Beljaarts", "Economische Zaken"),),
         ("Economische Zaken", "Infrastructuur en Waterstaat")),
        ("Minister Bruins Slot (BZ) van Minister Schreinemacher (Buitenlandse Handel en "
         "Ontwikkelingssamenwerking)",
         (A("minister", "Bruins Slot", "Buitenlandse Zaken"),
          A("minister", "Schreinemacher", "Buitenlandse Handel en Ontwikkelingssamenwerking")),
         ("Buitenlandse Zaken", "Buitenlandse Handel en Ontwikkelingssamenwerking")),
        ("staatssecretaris Karremans (Volksgezondheid, Welzijn en Sport",
         (A("staatssecretaris", "Karremans", "Volksgezondheid, Welzijn en Sport"),),
         ("Volksgezondheid, Welzijn en Sport",)),
        (None, (), ()),
    ],
)
def test_answerers_and_ministries(answered_by: str | None, answerers: tuple,
                                  ministries: tuple) -> None:
    assert answerers_and_ministries(answered_by) == (answerers, ministries)


@pytest.mark.parametrize(
    ("asked_to", "ministries"),
    [
        ("de Ministers voor Sociale Zaken en Werkgelegenheid en van Economische Zaken en Klimaat",
         ("Sociale Zaken en Werkgelegenheid", "Economische Zaken en Klimaat")),
        ("de Minister van Landbouw, Natuur en Voedselkwaliteit",
         ("Landbouw, Natuur en Voedselkwaliteit",)),
        ("de minister van Justitie en Veiligheid en de staatssecretaris van Financiën",
         ("Justitie en Veiligheid", "Financiën")),
        ("de Ministers van Buitenlandse Zaken en voor Buitenlandse Handel en "
         "Ontwikkelingssamenwerking",
         ("Buitenlandse Zaken", "Buitenlandse Handel en Ontwikkelingssamenwerking")),
        ("de Minister-President", ("Algemene Zaken",)),
        ("de Minister en de Staatssecretaris van Volksgezondheid, Welzijn en Sport",
         ("Volksgezondheid, Welzijn en Sport",)),
        ("de Minister van Economische Zaken, bij afwezigheid van de Staatssecretaris van "
         "Financiën", ("Economische Zaken", "Financiën")),
        ("de Kamer", ()),
    ],
)
def test_ministries_addressed(asked_to: str, ministries: tuple) -> None:
    assert ministries_addressed(asked_to) == ministries


def test_party_and_ministry_short_forms() -> None:
    assert party_key("GL-PvdA") == party_key("GroenLinks-PvdA") == party_key("GL/PvdA")
    assert party_key("nsc") == party_key("Nieuw Sociaal Contract")
    assert party_key("VVD") != party_key("D66")
    assert expand_ministry("BZK") == "Binnenlandse Zaken en Koninkrijksrelaties"
    assert expand_ministry("IenW") == "Infrastructuur en Waterstaat"
    assert expand_ministry("Defensie") == "Defensie"


def test_sample_people() -> None:
    meta = load_document(SAMPLE_FILE).meta
    assert meta.askers == ("Aartsen", "Rajkowski") and meta.parties == ("VVD",)
    assert meta.answerers == (A("minister", "van Hijum", "Sociale Zaken en Werkgelegenheid"),
                              A("minister", "Beljaarts", "Economische Zaken"))
    assert meta.ministries == ("Sociale Zaken en Werkgelegenheid", "Economische Zaken",
                               "Economische Zaken en Klimaat")
    assert document_citation("x", meta) == "Aanhangsel Handelingen 2023–2024, nr. 2096"


def test_word_intro_metadata() -> None:
    meta = extract_meta(
        "AH 605\n2024Z18792\nAntwoord van minister Klever (Buitenlandse Handel en "
        "Ontwikkelingshulp), mede namens de minister van Financiën (ontvangen 20 november 2024)",
        "ah-tk-20242025-605")
    assert (meta.ah_nr, meta.zaak_nr, meta.vergaderjaar, meta.date_received) == (
        605, "2024Z18792", "2024–2025", "2024-11-20")
    assert meta.ministries == ("Buitenlandse Handel en Ontwikkelingshulp", "Financiën")


@pytest.mark.parametrize(
    ("day", "year"),
    [("2024-09-17", "2024–2025"), ("2024-09-16", "2023–2024"), ("2023-09-19", "2023–2024"),
     ("2023-09-18", "2022–2023"), ("2025-01-10", "2024–2025"), ("nonsense", None)],
)
def test_vergaderjaar_opens_on_prinsjesdag(day: str, year: str | None) -> None:
    assert vergaderjaar_of(day) == year


def test_pdf_spacing_marks_and_glued_words_in_names() -> None:
    meta = extract_meta(
        "Vragen van de leden Mutluer (GroenLinks-PvdA) en Kostic´ (PvdD) aan de Minister van "
        "Justitie en Veiligheid overhet bericht «X» (ingezonden 1 mei 2024).\nAntwoord van "
        "Minister Yes¸ilgöz-Zegerius (Justitie en Veiligheid) (ontvangen 2 juni 2024).", "x")
    assert meta.askers == ("Mutluer", "Kostić")
    assert meta.answerers == (A("minister", "Yeşilgöz-Zegerius", "Justitie en Veiligheid"),)
    assert meta.subject == "het bericht «X»"
    assert meta.vergaderjaar == "2023–2024"  # from the date: the text names no year


def test_meta_survives_a_json_round_trip() -> None:
    meta = load_document(SAMPLE_FILE).meta
    row = json.loads(json.dumps(asdict(meta), ensure_ascii=False))
    assert isinstance(row["parties"], list)
    again = DocumentMeta(**row)
    assert again == meta and hash(again) == hash(meta)
    assert isinstance(again.ministries, tuple)


def test_old_index_rows_without_new_fields_still_load() -> None:
    old = {"title": None, "vergaderjaar": "2023–2024", "ah_nr": 1, "zaak_nr": None,
           "asked_by": None, "asked_to": None, "answered_by": None, "date_submitted": None,
           "date_received": None}
    assert DocumentMeta(**old).parties == ()


def test_shared_corpus_people_fill(shared: Path) -> None:
    """Every answer document with an intro line names its party and its ministry."""
    folder = shared / "corpus" / "antwoorden"
    docs = [load_document(p) for p in sorted(folder.glob("*.txt"))]
    with_intro = [d for d in docs if d.meta.asked_by]
    assert len(with_intro) >= 40
    assert all(d.meta.parties for d in with_intro)
    with_answer_line = [d for d in docs if d.meta.answered_by]
    assert all(d.meta.ministries for d in with_answer_line)
