"""What fetch refuses to keep: HTML in place of a file, cut-off files, wrong types, files that
do not parse, XML naming another publication. The PDF served for nr. 1893 is made by the
test server (`tests.opendata_server.pdf_bytes`); the real published PDFs of ../shared are
checked too when present; the Word file is generated with python-docx; the head of a real
official XML file is ``tests/data/opendata/real-publication-head.xml``."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.errors import FetchError
from rag.ingest.readers import load_bytes
from rag.opendata.verify import DOCX_TYPE, check_identity, looks_like_html, suffix_for, verified
from rag.types import DocKind
from tests.opendata_server import DATA, XML_FILE, docx_bytes, pdf_bytes

PDF = pdf_bytes()
HTML = b"<!DOCTYPE html>\n<html><body>Er is een fout opgetreden</body></html>"


def test_the_served_pdf_passes_and_parses_as_answers() -> None:
    doc = verified(PDF, ".pdf", "application/pdf", "ah-tk-20232024-1893", len(PDF))
    assert doc.kind is DocKind.ANSWERS and len(doc.blocks) == 7


def test_real_tweede_kamer_pdfs_pass(shared: Path) -> None:
    """The published answer PDFs in ../shared pass every check fetch makes but the size: they
    were saved by other tools, not as served (nr. 1893 was rewritten by the downloader of
    ``SSC-ICT-Innovatie/LearningLion``, whose PDF metadata now names the download URL as its
    ``/Producer``), so their sizes say nothing about the ``ContentLength`` the API lists; the
    size check is given their own."""
    pdfs = sorted((shared / "corpus" / "pdf").glob("ah-tk-*.pdf"))
    answers = [p for p in pdfs if load_bytes(p.read_bytes(), ".pdf", p.stem, p.name).kind
               is DocKind.ANSWERS]
    assert len(answers) >= 10
    for path in answers:
        data = path.read_bytes()
        doc = verified(data, ".pdf", "application/pdf", path.stem, len(data))
        assert doc.kind is DocKind.ANSWERS and doc.blocks, path.name


def test_a_word_file_passes_and_parses() -> None:
    doc = verified(docx_bytes(), ".docx", DOCX_TYPE, "ah-tk-20232024-1178")
    assert doc.kind is DocKind.ANSWERS and [b.vraag for b in doc.blocks] == [(1,), (2,)]


def test_the_official_xml_passes() -> None:
    doc = verified(XML_FILE.read_bytes(), ".xml", "application/xml", "ah-tk-20232024-2096")
    assert doc.kind is DocKind.ANSWERS and doc.meta.ah_nr == 2096


@pytest.mark.parametrize(("suffix", "served"), [(".pdf", "application/pdf"),
                                                (".pdf", "text/html"),
                                                (".docx", DOCX_TYPE),
                                                (".xml", "application/xml")])
def test_an_html_page_is_never_a_file(suffix: str, served: str) -> None:
    with pytest.raises(FetchError, match="an HTML page where"):
        verified(HTML, suffix, served, "ah-tk-20232024-1")


def test_html_detection_sees_through_declarations_and_comments() -> None:
    assert looks_like_html(b'<?xml version="1.0"?>\n<!-- x -->\n<HTML lang="nl">')
    assert not looks_like_html(XML_FILE.read_bytes())
    assert not looks_like_html(PDF)


def test_a_truncated_pdf_is_refused() -> None:
    with pytest.raises(FetchError, match="truncated PDF"):
        verified(PDF[: len(PDF) // 2], ".pdf", "application/pdf", "ah-tk-20232024-1893")


def test_a_size_other_than_the_api_lists_is_refused() -> None:
    with pytest.raises(FetchError, match=f"where the API lists {len(PDF) + 1}"):
        verified(PDF, ".pdf", "application/pdf", "ah-tk-20232024-1893", len(PDF) + 1)


def test_a_type_the_server_contradicts_is_refused() -> None:
    with pytest.raises(FetchError, match="served as image/png"):
        verified(PDF, ".pdf", "image/png", "ah-tk-20232024-1893")


def test_bytes_of_another_kind_are_refused() -> None:
    with pytest.raises(FetchError, match="no %PDF- header"):
        verified(docx_bytes(), ".pdf", "application/pdf", "x")
    with pytest.raises(FetchError, match="no zip header"):
        verified(PDF, ".docx", DOCX_TYPE, "x")
    with pytest.raises(FetchError, match="not XML"):
        verified(b"just text", ".xml", "application/xml", "x")


def test_a_truncated_word_file_is_refused() -> None:
    data = docx_bytes()
    with pytest.raises(FetchError, match="Word file"):
        verified(data[: len(data) - 200], ".docx", DOCX_TYPE, "x")


def test_a_file_that_does_not_parse_is_refused() -> None:
    with pytest.raises(FetchError, match="does not parse: malformed XML"):
        verified(b"<kamervragen><vraag>", ".xml", "application/xml", "x")


def test_a_real_publication_names_itself() -> None:
    """The metadata head of an official XML file as the Tweede Kamer serves it
    (``DocumentPublicatie(000997f1…)/Resource``): it names itself with DC.identifier."""
    head = (DATA / "real-publication-head.xml").read_bytes()
    check_identity(head, "kst-34104-439")
    with pytest.raises(FetchError, match="names itself 'kst-34104-439'"):
        check_identity(head, "kst-34104-43")


def test_xml_naming_another_publication_is_refused(tmp_path: Path) -> None:
    xml = XML_FILE.read_bytes()
    check_identity(xml, "ah-tk-20232024-2096")
    with pytest.raises(FetchError, match="names itself"):
        check_identity(xml, "ah-tk-20232024-209")
    pointer = (b'<officiele-publicatie><metadata><meta name="OVERHEIDop.externMetadataRecord" '
               b'scheme="" content="https://zoek.officielebekendmakingen.nl/ah-tk-20232024-1178/'
               b'metadata.xml"/></metadata></officiele-publicatie>')
    check_identity(pointer, "ah-tk-20232024-1178")
    with pytest.raises(FetchError, match="names itself"):
        check_identity(pointer, "ah-tk-20232024-117")


def test_media_types_map_to_readable_suffixes() -> None:
    assert suffix_for("application/pdf") == ".pdf"
    assert suffix_for(f"{DOCX_TYPE}; charset=binary") == ".docx"
    assert suffix_for("application/msword") is None
    assert suffix_for(None) is None
