"""The sidecar: written from an entity, merged over the text's metadata at build time.

The entity is document 1bd47dc8 of ``tests/data/opendata/documents.json`` (see the README
there: its Id and Onderwerp are those of the real record, the rows have the shape of recorded
responses, the PDF is made by the test server).
"""

from __future__ import annotations

import json
from pathlib import Path

from rag.ingest.corpus import load_corpus
from rag.ingest.sidecar import merge_sidecar, meta_fields, sidecar_for, surname
from rag.opendata.entity import parse_entity
from rag.opendata.sidecar import sidecar_bytes, sidecar_json
from rag.types import Answerer, DocumentMeta
from tests.opendata_server import PDF_ID, load_json, pdf_bytes

URLS = {"html": "https://zoek.officielebekendmakingen.nl/ah-tk-20232024-1893.html",
        "pdf": "https://zoek.officielebekendmakingen.nl/ah-tk-20232024-1893.pdf",
        "xml": "https://zoek.officielebekendmakingen.nl/ah-tk-20232024-1893.xml"}


def _entity(tk_id: str = PDF_ID) -> dict:
    (row,) = [r for r in load_json("documents.json") if r["Id"] == tk_id]
    return row


def _sidecar(tk_id: str = PDF_ID) -> dict:
    doc = parse_entity(_entity(tk_id))
    assert doc.doc_id is not None
    return sidecar_json(doc, doc.doc_id, f"{doc.doc_id}.pdf",
                        {"kind": "tk-resource", "url": "u", "content_type": "application/pdf"},
                        dict(URLS))


def test_a_sidecar_carries_the_open_data_metadata() -> None:
    data = _sidecar()
    assert data["doc_id"] == "ah-tk-20232024-1893" and data["ah_nr"] == 1893
    assert data["tk_document_id"] == PDF_ID and data["zaak_nummer"] == "2024Z06771"
    assert data["title"].startswith("Antwoord op vragen van het lid Klaver over het bericht")
    assert data["indieners"] == [{"naam": "Klaver", "fractie": "GroenLinks-PvdA",
                                  "functie": "Tweede Kamerlid", "relatie": "Indiener"}]
    assert data["ministeries"] == ["Buitenlandse Zaken"]
    assert data["official_url"] == URLS["html"]
    assert sidecar_bytes(data) == sidecar_bytes(_sidecar())  # deterministic


def test_sidecar_fields_become_document_metadata() -> None:
    fields = meta_fields(_sidecar())
    assert fields["vergaderjaar"] == "2023–2024" and fields["ah_nr"] == 1893
    assert fields["asked_by"] == "het lid Klaver (GroenLinks-PvdA)"
    assert fields["askers"] == ("Klaver",) and fields["parties"] == ("GroenLinks-PvdA",)
    assert fields["asked_to"] == "de minister van Buitenlandse Zaken"
    assert fields["answered_by"] == "Minister Bruins Slot (Buitenlandse Zaken)"
    assert fields["answerers"] == (Answerer("minister", "Bruins Slot", "Buitenlandse Zaken"),)
    assert fields["date_received"] == "2024-06-03" and fields["date_submitted"] == "2024-04-18"
    assert fields["tk_document_id"] == PDF_ID


def test_several_askers_and_signatories() -> None:
    fields = meta_fields(_sidecar("7b5e4f2a-0c1d-4e8b-9a63-2f1d8c4b5a01"))
    assert fields["asked_by"] == "de leden Aartsen (VVD) en Rajkowski (VVD)"
    assert fields["askers"] == ("Aartsen", "Rajkowski") and fields["parties"] == ("VVD",)
    assert fields["answered_by"] == ("Minister Van Hijum (Sociale Zaken en Werkgelegenheid) "
                                     "en van Minister Beljaarts (Economische Zaken)")
    assert fields["ministries"] == ("Sociale Zaken en Werkgelegenheid", "Economische Zaken")


def test_surnames_lose_initials_and_keep_prefixes() -> None:
    assert surname("J.Z.C.M. Klaver") == "Klaver"
    assert surname("H. de Vries") == "De Vries"
    assert surname("Th.C. de Graaf") == "De Graaf"
    assert surname("Bruins Slot") == "Bruins Slot"


def test_surnames_lose_the_name_in_use_in_brackets() -> None:
    # ActorNaam values as the open data writes them (ZaakActor rows of
    # tommyvanderwal/motiematcher, see tests/data/opendata/README.md)
    assert surname("A.P.C. (Tony) van Dijck") == "Van Dijck"
    assert surname("D.J.H. (Diederik) van Dijk") == "Van Dijk"
    fields = meta_fields({"indieners": [
        {"naam": "A.P.C. (Tony) van Dijck", "fractie": "PVV", "relatie": "Indiener"},
        {"naam": "D.J.H. (Diederik) van Dijk", "fractie": "SGP", "relatie": "Medeindiener"}]})
    assert fields["asked_by"] == "de leden Van Dijck (PVV) en Van Dijk (SGP)"
    assert fields["askers"] == ("Van Dijck", "Van Dijk")


def test_answerers_and_ministries_come_from_the_same_rows() -> None:
    fields = meta_fields({"ondertekenaars": [
        {"naam": "D. Schoof", "functie": "minister-president"},
        {"naam": "M.C.G. Keijzer", "functie": "minister van Volkshuisvesting en Ruimtelijke "
                                              "Ordening"},
        {"naam": "V.P.G. Karremans", "functie": "staatssecretaris van Volksgezondheid, Welzijn "
                                                "en Sport – Jeugd, Preventie en Sport"},
        {"naam": "Bureau", "functie": "ministerie van Financiën"}]})
    assert fields["answerers"] == (
        Answerer("minister-president", "Schoof", "Algemene Zaken"),
        Answerer("minister", "Keijzer", "Volkshuisvesting en Ruimtelijke Ordening"),
        Answerer("staatssecretaris", "Karremans", "Volksgezondheid, Welzijn en Sport"))
    assert fields["ministries"] == (
        "Algemene Zaken", "Volkshuisvesting en Ruimtelijke Ordening",
        "Volksgezondheid, Welzijn en Sport – Jeugd, Preventie en Sport")
    assert fields["answered_by"] == (
        "Minister-president Schoof (Algemene Zaken) en van Minister Keijzer (Volkshuisvesting "
        "en Ruimtelijke Ordening) en van Staatssecretaris Karremans (Volksgezondheid, Welzijn "
        "en Sport – Jeugd, Preventie en Sport)")


def test_the_sidecar_wins_where_it_states_a_value(tmp_path: Path) -> None:
    path = tmp_path / "ah-tk-20232024-1893.meta.json"
    path.write_bytes(sidecar_bytes(_sidecar()))
    text_meta = DocumentMeta(vergaderjaar="2023–2024", ah_nr=None, subject="uit de tekst",
                             asked_by="het lid Klaver (GL-PvdA)")
    merged = merge_sidecar(text_meta, path)
    assert merged.ah_nr == 1893 and merged.asked_by == "het lid Klaver (GroenLinks-PvdA)"
    assert merged.subject == "uit de tekst"  # the sidecar is silent on it
    assert merged.official_url == URLS["html"]


def _corpus_with_the_pdf(root: Path) -> Path:
    folder = root / "2023-2024"
    folder.mkdir(parents=True)
    pdf = folder / "ah-tk-20232024-1893.pdf"
    pdf.write_bytes(pdf_bytes())
    return pdf


def test_build_merges_the_sidecar_and_does_not_list_it(tmp_path: Path) -> None:
    pdf = _corpus_with_the_pdf(tmp_path)
    before = load_corpus(tmp_path).answer_documents[0].meta
    assert before.zaak_nr is None  # the PDF does not print the zaak number
    assert before.date_submitted == "2024-04-18" and before.official_url is None
    sidecar_for(pdf).write_bytes(sidecar_bytes(_sidecar()))
    corpus = load_corpus(tmp_path)
    (doc,) = corpus.answer_documents
    assert doc.meta.ah_nr == 1893 and doc.meta.zaak_nr == "2024Z06771"
    assert doc.meta.tk_document_id == PDF_ID
    assert corpus.skipped == () and corpus.files_read == 1


def test_a_sidecar_without_its_document_is_reported(tmp_path: Path) -> None:
    (tmp_path / "ah-tk-20232024-9.meta.json").write_text("{}", encoding="utf-8")
    (tmp_path / "notes.json").write_text("{}", encoding="utf-8")
    reasons = {s.source: s.reason for s in load_corpus(tmp_path).skipped}
    assert reasons["ah-tk-20232024-9.meta.json"].startswith("metadata sidecar without its doc")
    assert reasons["notes.json"].startswith("unsupported file type .json")


def test_a_broken_sidecar_is_an_anomaly_not_a_failure(tmp_path: Path) -> None:
    pdf = _corpus_with_the_pdf(tmp_path)
    sidecar_for(pdf).write_text('{"format": "something else"}', encoding="utf-8")
    (doc,) = load_corpus(tmp_path).answer_documents
    assert doc.meta.zaak_nr is None
    assert any(a.startswith("sidecar ignored:") for a in doc.anomalies)
    sidecar_for(pdf).write_text("{not json", encoding="utf-8")
    (doc,) = load_corpus(tmp_path).answer_documents
    assert any("unreadable sidecar" in a for a in doc.anomalies)


def test_new_metadata_fields_load_from_old_index_records() -> None:
    old = json.loads(json.dumps({"title": "t", "vergaderjaar": "2023–2024", "ah_nr": 1}))
    meta = DocumentMeta(**old)
    assert meta.official_url is None and meta.tk_document_id is None
