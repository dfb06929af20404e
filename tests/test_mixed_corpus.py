"""One folder with every format and a set of broken files builds into one index: every good
document is found at rank 1 by a question of its own, every bad file is listed with its reason."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from rag.build import BuildReport, build_index
from rag.config import Settings
from rag.ingest.readers import MAX_FILE_BYTES
from rag.models.embed import HashingEmbedder
from rag.search.searcher import Searcher
from rag.store.index import load_index
from tests.builders import html_page, write_docx, write_pdf
from tests.conftest import SAMPLE_FILE, shared_dir

MARKDOWN = """#### Vergaderjaar 2023–2024 Aanhangsel van de Handelingen

Vragen van het lid Bosma (PVV) aan de Minister van Justitie en Veiligheid over vuurwerk
(ingezonden 2 januari 2024).

Antwoord van Minister Yeşilgöz-Zegerius (Justitie en Veiligheid) (ontvangen 30 januari 2024).

**Vraag 1**
Komt er een landelijk verbod op knalvuurwerk rond de jaarwisseling?

**Antwoord 1**
Een landelijk knalvuurwerkverbod wordt voorbereid met de gemeenten en de politie.
"""
WORD = """AH 650
2024Z19999
Antwoord van minister Brekelmans (Defensie) (ontvangen 9 december 2024)

1. Hoeveel pontonbruggen heeft de landmacht beschikbaar voor oefeningen?

Antwoord vraag 1:
De landmacht beschikt over twaalf pontonbruggen voor oefeningen en inzet."""
HTML_TEXT = """Antwoord schriftelijke vragen : Antwoord op vragen van het lid De Hoop over starters
Vragen van het lid De Hoop (GroenLinks-PvdA) aan de Minister van Volkshuisvesting en
Ruimtelijke Ordening over starters (ingezonden 1 oktober 2024).
Antwoord van Minister Keijzer (Volkshuisvesting en Ruimtelijke Ordening) (ontvangen
5 november 2024).
Vraag 1
Hoeveel starterswoningen worden er dit jaar opgeleverd?
Antwoord 1
Dit jaar worden naar verwachting 24.000 starterswoningen opgeleverd."""
XML = """<?xml version="1.0" encoding="UTF-8"?>
<officiele-publicatie><kamervragen>
  <kamervraagkop><tekstregel>Vergaderjaar 2023–2024</tekstregel></kamervraagkop>
  <kamervraagnummer>1500</kamervraagnummer>
  <kamervraagomschrijving type="vraag">Vragen van het lid <naam><achternaam>Vestering
    </achternaam></naam> (<politiek>PvdD</politiek>) aan de Minister van Landbouw, Natuur en
    Voedselkwaliteit over <kamervraagonderwerp>zeehonden</kamervraagonderwerp> (ingezonden
    <datum isodatum="2024-02-01">1 februari 2024</datum>).</kamervraagomschrijving>
  <kamervraagomschrijving type="antwoord">Antwoord van Minister Adema (Landbouw, Natuur en
    Voedselkwaliteit) (ontvangen <datum isodatum="2024-03-01">1 maart 2024</datum>).
  </kamervraagomschrijving>
  <vraag><nr>Vraag 1</nr><al>Hoeveel zeehonden leven er in de Waddenzee?</al></vraag>
  <antwoord><nr>Antwoord 1</nr><al>In de Waddenzee leven ruim tienduizend gewone zeehonden.</al>
  </antwoord>
</kamervragen></officiele-publicatie>
"""
CP1252 = ("Vraag 1\nWat kost het baggeren van de havens in Zeeland?\nAntwoord 1\n"
          "Het baggeren kost € 3 miljoen; de financiën zijn geregeld met de provincie.\n")
PDF_LINES = ["Vragen van het lid Jansen (CDA) aan de Minister van Financiën over de brug",
             "(ingezonden 3 mei 2024).", "Antwoord van Minister Heinen (Financiën) (ontvangen",
             "1 juni 2024).", "Vraag 1", "Wat kost de nieuwe tolbrug over de Westerschelde?",
             "Antwoord 1", "De nieuwe tolbrug over de Westerschelde kost veertig miljoen euro."]

# doc id -> a question only that document answers
GOOD = {
    "ah-tk-20232024-2096": "Komt er een AI-adviesraad en welke bevoegdheden krijgt die?",
    "ah-tk-20232024-800": "Komt er een landelijk verbod op knalvuurwerk?",
    "ah-tk-20242025-650": "Hoeveel pontonbruggen heeft de landmacht?",
    "ah-tk-20242025-700": "Hoeveel starterswoningen worden opgeleverd?",
    "ah-tk-20232024-1500": "Hoeveel zeehonden leven in de Waddenzee?",
    "ah-tk-20232024-900": "Wat kost het baggeren van de havens in Zeeland?",
}
BAD = {  # source -> a word the reason must contain
    "leeg.txt": "empty",
    "binair.txt": "binary",
    "half.pdf": "truncated or corrupt PDF",
    "dicht.pdf": "encrypted",
    "scan.pdf": "no text layer",
    "zomaar.txt": "no numbered question/answer structure",
    "kapot.xml": "malformed XML",
    "kapot.docx": "not a valid .docx",
    "leeg.html": "no text",
    "kopie/ah-tk-20232024-2096.txt": "duplicate document id ah-tk-20232024-2096",
    "enorm.txt": "too large",
    "lus.txt": "cannot read file",
    "lusmap": "symlinked folder, not followed",
    ".verborgen.txt": "hidden file",
    "notities.rtf": "unsupported file type .rtf",
}


def _pdf_source(tmp: Path) -> tuple[Path, str, str]:
    """A real Aanhangsel PDF from ../shared when present, else a generated text PDF."""
    base = shared_dir()
    if base is not None:
        path = base / "corpus" / "pdf" / "ah-tk-20232024-2129.pdf"
        return path, path.stem, "Welke humanitaire hulp geeft Nederland aan Jemen?"
    path = write_pdf(tmp / "ah-tk-20232024-77.pdf", PDF_LINES)
    return path, path.stem, "Wat kost de nieuwe tolbrug over de Westerschelde?"


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, BuildReport, dict[str, str]]:
    root = tmp_path_factory.mktemp("mixed")
    corpus = root / "corpus"
    (corpus / "kopie").mkdir(parents=True)
    good = dict(GOOD)
    shutil.copy(SAMPLE_FILE, corpus / SAMPLE_FILE.name)
    (corpus / "ah-tk-20232024-800.md").write_text(MARKDOWN, encoding="utf-8")
    write_docx(corpus / "ah-tk-20242025-650.docx", WORD)
    (corpus / "ah-tk-20242025-700.html").write_text(html_page(HTML_TEXT), encoding="utf-8")
    (corpus / "ah-tk-20232024-1500.xml").write_text(XML, encoding="utf-8")
    (corpus / "ah-tk-20232024-900.txt").write_bytes(CP1252.encode("cp1252"))
    pdf, pdf_id, pdf_question = _pdf_source(root)
    shutil.copy(pdf, corpus / pdf.name)
    good[pdf_id] = pdf_question

    (corpus / "leeg.txt").write_bytes(b"")
    (corpus / "binair.txt").write_bytes(bytes(range(256)) * 40)
    data = pdf.read_bytes()
    (corpus / "half.pdf").write_bytes(data[: len(data) // 3])
    write_pdf(corpus / "dicht.pdf", PDF_LINES, encrypt=True)
    write_pdf(corpus / "scan.pdf", [""])
    (corpus / "zomaar.txt").write_text("Boodschappenlijst: melk, brood, kaas.\n", encoding="utf-8")
    (corpus / "kapot.xml").write_text(XML[: len(XML) // 2], encoding="utf-8")
    (corpus / "kapot.docx").write_bytes(b"PK\x03\x04" + bytes(200))
    (corpus / "leeg.html").write_text("<html><body><script>x()</script></body></html>")
    shutil.copy(SAMPLE_FILE, corpus / "kopie" / SAMPLE_FILE.name)
    with (corpus / "enorm.txt").open("wb") as fh:
        fh.truncate(MAX_FILE_BYTES + 1)  # sparse: over the cap without using the disk
    (corpus / "lus.txt").symlink_to(corpus / "lus.txt")
    (corpus / "lusmap").symlink_to(corpus, target_is_directory=True)
    (corpus / ".verborgen.txt").write_text("Vraag 1\nGeheim?\nAntwoord 1\nJa.\n")
    (corpus / "notities.rtf").write_text("{\\rtf1 notities}")

    settings = Settings(index_dir=root / "index")
    report = build_index(corpus, settings, HashingEmbedder(256))
    return root, report, good


def test_every_good_document_is_indexed(mixed: tuple[Path, BuildReport, dict[str, str]]) -> None:
    root, report, good = mixed
    index = load_index(root / "index")
    assert set(index.documents) == set(good)
    assert report.documents == len(good)


@pytest.mark.parametrize("doc_id", [*GOOD, "pdf"])
def test_each_good_document_is_found_first(
    mixed: tuple[Path, BuildReport, dict[str, str]], doc_id: str
) -> None:
    root, _, good = mixed
    if doc_id == "pdf":
        doc_id = next(d for d in good if d not in GOOD)
    embedder = HashingEmbedder(256)
    searcher = Searcher(load_index(root / "index", expected_model_id=embedder.model_id), embedder)
    assert searcher.ask(good[doc_id], k=1).hits[0].chunk.doc_id == doc_id


def test_every_bad_file_is_listed_with_its_reason(
    mixed: tuple[Path, BuildReport, dict[str, str]]
) -> None:
    _, report, _ = mixed
    reasons = {s.source: s.reason for s in report.skipped}
    assert set(reasons) == set(BAD)
    for source, expected in BAD.items():
        assert expected in reasons[source], (source, reasons[source])


def test_legacy_encoding_is_indexed_and_flagged(
    mixed: tuple[Path, BuildReport, dict[str, str]]
) -> None:
    root, _, _ = mixed
    from rag.ingest.readers import load_document

    doc = load_document(root / "corpus" / "ah-tk-20232024-900.txt")
    assert "not UTF-8: decoded as cp1252" in doc.anomalies
    assert "€ 3 miljoen; de financiën" in doc.blocks[0].answer


def test_metadata_reaches_the_index(mixed: tuple[Path, BuildReport, dict[str, str]]) -> None:
    root, _, _ = mixed
    docs = load_index(root / "index").documents
    assert docs["ah-tk-20232024-1500"].meta.parties == ("PvdD",)
    assert docs["ah-tk-20232024-1500"].meta.date_received == "2024-03-01"
    assert docs["ah-tk-20242025-700"].meta.parties == ("GroenLinks-PvdA",)
    assert docs["ah-tk-20242025-650"].meta.ministries == ("Defensie",)
    assert [a.name for a in docs["ah-tk-20232024-800"].meta.answerers] == ["Yeşilgöz-Zegerius"]
