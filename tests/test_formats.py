"""Every format staff hold: Word (.docx), saved web pages (.html), official XML, PDF.

Word and HTML files are made here from the text of real documents (the Word variants in
../shared, skipped when absent) and from small synthetic texts; the XML sample in tests/data is
written by hand to the officiële-publicaties element vocabulary (no real XML file is available).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from rag.errors import ParseError
from rag.ingest.parse import is_consecutive
from rag.ingest.readers import load_bytes, load_document, read_text
from rag.types import DocKind
from tests.builders import HTML_SAMPLE, XML_SAMPLE, html_page, write_docx, write_pdf
from tests.conftest import SAMPLE_FILE, shared_dir

SYNTHETIC_WORD = """AH 77
2024Z00077
Antwoord van minister Heinen (Financiën) (ontvangen 3 december 2024)

1. Hoeveel kost de nieuwe brug over de Waal?

Antwoord vraag 1:
De brug kost veertig miljoen euro.

2. Wanneer gaat de brug open?

Antwoord vraag 2:
In maart 2026, als de aannemer op schema blijft."""


def _word_variants() -> list[Path]:
    base = shared_dir()
    if base is None:
        return []
    folder = base / "corpus" / "antwoorden"
    return [folder / f"ah-tk-20242025-{n}.txt" for n in (602, 605, 608, 609)]


# --- Word ---------------------------------------------------------------------------------


def test_docx_auto_numbering_is_restored(tmp_path: Path) -> None:
    path = write_docx(tmp_path / "ah-tk-20242025-77.docx", SYNTHETIC_WORD)
    text = read_text(path)
    assert "1. Hoeveel kost de nieuwe brug over de Waal?" in text
    assert "2. Wanneer gaat de brug open?" in text
    doc = load_document(path)
    assert doc.kind is DocKind.ANSWERS and is_consecutive(doc)
    assert [(b.vraag, b.answer) for b in doc.blocks] == [
        ((1,), "De brug kost veertig miljoen euro."),
        ((2,), "In maart 2026, als de aannemer op schema blijft."),
    ]
    assert (doc.meta.ah_nr, doc.meta.zaak_nr, doc.meta.date_received) == (
        77, "2024Z00077", "2024-12-03")
    assert doc.meta.ministries == ("Financiën",)


def test_docx_tables_bullets_and_letters(tmp_path: Path) -> None:
    import docx

    document = docx.Document()
    document.add_paragraph("Vraag 1")
    document.add_paragraph("Welke bedragen horen bij welke jaren?")
    document.add_paragraph("Antwoord 1")
    document.add_paragraph("Zie de tabel:")
    table = document.add_table(rows=2, cols=2)
    for r, row in enumerate([("2024", "10 miljoen"), ("2025", "12 miljoen")]):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    document.add_paragraph("eerste punt", style="List Bullet")
    document.add_paragraph("tweede punt", style="List Bullet")
    path = tmp_path / "tabel.docx"
    document.save(str(path))
    text = read_text(path)
    assert "2024\n10 miljoen\n2025\n12 miljoen" in text
    assert "- eerste punt\n- tweede punt" in text
    answer = load_document(path).blocks[0].answer
    assert answer.startswith("Zie de tabel:") and "12 miljoen" in answer


@pytest.mark.parametrize("path", _word_variants(), ids=lambda p: p.name)
def test_docx_of_real_word_variant_parses_like_its_text(path: Path, tmp_path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    expected = load_document(path)
    docx_file = write_docx(tmp_path / f"{path.stem}.docx", text)
    doc = load_document(docx_file)
    assert doc.kind is DocKind.ANSWERS
    assert [b.vraag for b in doc.blocks] == [b.vraag for b in expected.blocks]
    assert [b.answer for b in doc.blocks] == [b.answer for b in expected.blocks]
    assert doc.meta == expected.meta


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"PK\x03\x04garbage", "not a valid .docx"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "encrypted or old-format"),
        (b"just text in a docx", "not a valid .docx"),
    ],
)
def test_bad_docx(data: bytes, reason: str) -> None:
    with pytest.raises(ParseError, match=reason):
        load_bytes(data, ".docx", "x", "x.docx")


def test_docx_zip_without_document_part(tmp_path: Path) -> None:
    import zipfile

    path = tmp_path / "leeg.docx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("hello.txt", "hi")
    with pytest.raises(ParseError, match=r"no word/document\.xml"):
        load_document(path)


# --- HTML ---------------------------------------------------------------------------------


def test_saved_tweedekamer_page_without_chrome() -> None:
    text = read_text(HTML_SAMPLE)
    assert text.startswith("Antwoord schriftelijke vragen : Antwoord op vragen van de leden")
    for chrome in ("cookies", "Kamerleden", "Direct naar de inhoud", "scripttekst",
                   "MENUTEKST", "Deel deze pagina", "Privacy", "Vraag 7", "trackPageView",
                   "Financieele Dagblad"):
        assert chrome not in text
    doc = load_document(HTML_SAMPLE)
    assert [b.vraag for b in doc.blocks] == [(1,), (2,), (3,)]
    assert doc.blocks[0].question.endswith("intelligentie»?")  # footnote mark dropped
    assert doc.blocks[1].answer.endswith("- energie en duurzaamheid.")
    assert "CO2 per m2" in doc.blocks[1].answer  # sub/superscript that is not a footnote stays
    assert doc.blocks[2].answer == (
        "Het kabinet verkent op dit moment het inrichten van een AI-adviesraad.")
    assert (doc.meta.vergaderjaar, doc.meta.ah_nr, doc.meta.parties) == (
        "2023–2024", 2096, ("VVD",))


def test_html_mirror_of_sample_parses_like_the_sample(tmp_path: Path) -> None:
    text = SAMPLE_FILE.read_text(encoding="utf-8")
    path = tmp_path / SAMPLE_FILE.with_suffix(".html").name
    path.write_text(html_page(text), encoding="utf-8")
    expected = load_document(SAMPLE_FILE)
    doc = load_document(path)
    assert doc.blocks == expected.blocks
    assert doc.meta == expected.meta
    assert "scripttekst" not in read_text(path) and "footertekst" not in read_text(path)


def test_html_in_cp1252_with_declared_charset(tmp_path: Path) -> None:
    page = html_page("Vraag 1\nWat kost het «project» in financiën?\nAntwoord 1\nNiets.")
    path = tmp_path / "oud.htm"
    path.write_bytes(page.replace('charset="utf-8"', 'charset="windows-1252"').encode("cp1252"))
    assert load_document(path).blocks[0].question == "Wat kost het «project» in financiën?"


@pytest.mark.parametrize("data", [b"", b"   ", b"<html></html>", b"\x00\x01<html>"])
def test_bad_html(data: bytes) -> None:
    with pytest.raises(ParseError):
        load_bytes(data, ".html", "x", "x.html")


# --- XML ----------------------------------------------------------------------------------


def test_xml_sample_structure() -> None:
    doc = load_document(XML_SAMPLE)
    assert doc.kind is DocKind.ANSWERS and doc.anomalies == ()
    assert [b.vraag for b in doc.blocks] == [(1,), (2, 3), (4,)]
    first, combined, _ = doc.blocks
    assert first.question == ("Bent u bekend met het artikel gepubliceerd in het FD «Werkgevers "
                              "nog huiverig voor inzet kunstmatige intelligentie»?")
    assert "Financieele Dagblad" not in first.question  # <noot> text is not question text
    assert combined.question.count("\n\n") == 1
    assert combined.answer == (
        "De AI-adoptiegraad van het Nederlandse bedrijfsleven behoorde in 2023 tot de top 5 van "
        "de EU.\n\nEen deel van het AiNed-programma richt zich op sectoren die belangrijk zijn "
        "voor Nederland, namelijk:\n\n- gezondheid en zorg;\n\n- energie en duurzaamheid.")


def test_xml_metadata() -> None:
    meta = load_document(XML_SAMPLE).meta
    assert (meta.vergaderjaar, meta.ah_nr, meta.zaak_nr) == ("2023–2024", 2096, "2024Z09911")
    assert (meta.date_submitted, meta.date_received) == ("2024-06-12", "2024-09-02")
    assert meta.askers == ("Aartsen", "Rajkowski") and meta.parties == ("VVD",)
    assert [(a.role, a.name) for a in meta.answerers] == [("minister", "van Hijum"),
                                                            ("minister", "Beljaarts")]
    assert meta.ministries[:2] == ("Sociale Zaken en Werkgelegenheid", "Economische Zaken")
    assert meta.subject == (
        "de huiverigheid van werkgevers om kunstmatige intelligentie in te zetten")
    assert meta.title == ("Antwoord op vragen van de leden Aartsen en Rajkowski over de "
                          "huiverigheid van werkgevers om kunstmatige intelligentie in te zetten")


def _xml(body: str, head: str = "") -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?><officiele-publicatie>{head}<kamervragen>'
            f"{body}</kamervragen></officiele-publicatie>").encode()


def test_xml_wins_over_text_heuristics() -> None:
    # the text says 1 and 2 March, the isodatum attributes say otherwise: the attributes win
    data = _xml(
        '<kamervraagomschrijving type="vraag">Vragen van het lid <naam><achternaam>Jansen'
        "</achternaam></naam> (<politiek>CDA</politiek>) aan de Minister van Financiën "
        '(ingezonden <datum isodatum="2024-03-05">1 maart 2024</datum>).</kamervraagomschrijving>'
        '<kamervraagomschrijving type="antwoord">Antwoord van Minister Heinen (Financiën) '
        '(ontvangen <datum isodatum="2024-04-09">2 maart 2024</datum>).</kamervraagomschrijving>'
        "<kamervraagnummer>1234</kamervraagnummer>"
        "<vraag><nr>Vraag 1</nr><al>Antwoord 2 is geen marker in een vraag?</al></vraag>"
        "<antwoord><nr>Antwoord 1</nr><al>Vraag 3 is geen marker in een antwoord.</al></antwoord>",
        head='<metadata><meta name="DC.identifier" content="ah-tk-20232024-1234"/></metadata>')
    doc = load_bytes(data, ".xml", "anders", "anders.xml")
    assert (doc.meta.date_submitted, doc.meta.date_received) == ("2024-03-05", "2024-04-09")
    assert (doc.meta.vergaderjaar, doc.meta.ah_nr) == ("2023–2024", 1234)
    assert doc.meta.parties == ("CDA",) and doc.meta.askers == ("Jansen",)
    assert [(b.vraag, b.question, b.answer) for b in doc.blocks] == [
        ((1,), "Antwoord 2 is geen marker in een vraag?", "Vraag 3 is geen marker in een antwoord.")
    ]


def test_xml_namespaces_and_markers_inside_al() -> None:
    data = (b'<officiele-publicatie xmlns="http://example.org/op"><kamervragen>'
            b"<vraag><al>Vraag 1</al><al>Eerste?</al></vraag>"
            b"<vraag><al>Vraag 2</al><al>Tweede?</al></vraag>"
            b"<antwoord><al>Antwoord 1 en 2</al><al>Beide ja.</al></antwoord>"
            b"</kamervragen></officiele-publicatie>")
    doc = load_bytes(data, ".xml", "x", "x.xml")
    assert [(b.vraag, b.question, b.answer) for b in doc.blocks] == [
        ((1, 2), "Eerste?\n\nTweede?", "Beide ja.")]


def test_xml_unnumbered_answers_and_unanswered_questions() -> None:
    data = _xml("<vraag><al>Een?</al></vraag><antwoord><al>Ja.</al></antwoord>"
                "<vraag><al>Twee?</al></vraag><vraag><al>Drie?</al></vraag>"
                "<antwoord><nr>Antwoord 3</nr><al>Nee.</al></antwoord>")
    doc = load_bytes(data, ".xml", "x", "x.xml")
    assert [(b.vraag, b.answer) for b in doc.blocks] == [((1,), "Ja."), ((2,), ""), ((3,), "Nee.")]
    assert "empty answer for vraag 2" in doc.anomalies


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        ("<vraag><nr>1</nr><al>Alleen een vraag?</al></vraag>", DocKind.QUESTIONS),
        ("<kamervraagopmerking><al>Mededeling: uitstel.</al></kamervraagopmerking>"
         "<vraag><nr>1</nr><al>Een?</al></vraag>", DocKind.NOTICE),
        ("<kamervraagkop>Vergaderjaar 2024–2025</kamervraagkop>", DocKind.UNKNOWN),
    ],
)
def test_xml_kinds(body: str, kind: DocKind) -> None:
    assert load_bytes(_xml(body), ".xml", "x", "x.xml").kind is kind


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"<kamervragen><vraag>", "malformed XML"),
        (b"<html><body>geen kamervragen</body></html>", "no <kamervragen> element"),
        (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;">]>'
         b"<kamervragen>&b;</kamervragen>", "declares entities"),
        (b'<!DOCTYPE x SYSTEM "http://example.org/x.dtd"><x/>', "no <kamervragen>"),
        (b"\xff\xfe\x00\x00", "XML"),
        (b"", "empty"),
    ],
)
def test_bad_xml(data: bytes, reason: str) -> None:
    with pytest.raises(ParseError, match=reason):
        load_bytes(data, ".xml", "x", "x.xml")


# --- PDF ----------------------------------------------------------------------------------

PDF_LINES = [
    "Vragen van het lid Jansen (CDA) aan de Minister van Financiën over de brug (ingezonden",
    "3 mei 2024).",
    "Antwoord van Minister Heinen (Financiën) (ontvangen 1 juni 2024).",
    "Vraag 1",
    "Hoeveel kost de brug over de Waal?",
    "Antwoord 1",
    "De brug kost veertig miljoen euro.",
]


def test_generated_text_pdf(tmp_path: Path) -> None:
    doc = load_document(write_pdf(tmp_path / "ah-tk-20232024-77.pdf", PDF_LINES))
    assert [(b.question, b.answer) for b in doc.blocks] == [
        ("Hoeveel kost de brug over de Waal?", "De brug kost veertig miljoen euro.")]
    assert (doc.meta.date_submitted, doc.meta.parties, doc.meta.ministries) == (
        "2024-05-03", ("CDA",), ("Financiën",))


def test_pdf_with_only_a_page_number_is_a_scan(tmp_path: Path) -> None:
    with pytest.raises(ParseError, match="no text layer"):
        load_document(write_pdf(tmp_path / "scan.pdf", ["12"]))


def test_encrypted_generated_pdf(tmp_path: Path) -> None:
    with pytest.raises(ParseError, match="encrypted"):
        load_document(write_pdf(tmp_path / "dicht.pdf", PDF_LINES, encrypt=True))


def test_real_pdf_through_load_document(shared: Path, tmp_path: Path) -> None:
    source = shared / "corpus" / "pdf" / "ah-tk-20232024-2129.pdf"
    doc = load_document(shutil.copy(source, tmp_path / source.name))
    assert doc.kind is DocKind.ANSWERS
    assert doc.meta.parties == ("ChristenUnie", "SP")
    assert "Buitenlandse Zaken" in doc.meta.ministries
