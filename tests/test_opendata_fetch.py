"""Fetch runs against the local stand-in services: first run, deltas, ownership, faults.

Fixtures (see ``tests/data/opendata/README.md``): document 1893 is a PDF (made by the test
server, with the real document's metadata) with no official publication listed yet,
document 2096 has official XML listed (``tests/data/ah-tk-20232024-2096.xml``, hand-written to
the published vocabulary), document 1178 is an invented Word file; the entities are in the
shape of recorded responses, and the stand-in applies the queries itself.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from rag.errors import FetchError
from rag.ingest.corpus import load_corpus
from rag.opendata.fetch import FetchOptions, FetchReport, run_fetch
from rag.opendata.http import Client, HttpSettings
from rag.opendata.state import open_state
from rag.opendata.store import identity_on_disk
from tests.opendata_server import (
    DOCX_ID,
    DOCX_TYPE,
    PDF_ID,
    XML_FILE,
    XML_ID,
    FakeServices,
    real_rows,
)

YEAR = "2023-2024"
PDF_FILE = f"{YEAR}/ah-tk-20232024-1893.pdf"
XML_OUT = f"{YEAR}/ah-tk-20232024-2096.xml"
DOCX_FILE = f"{YEAR}/ah-tk-20232024-1178.docx"
RESOURCE = "/OData/v4/2.0/Document({})/resource"
PUBLICATION = "/OData/v4/2.0/DocumentPublicatie({})/Resource"
LISTING = "/OData/v4/2.0/Document"
OFFICIAL = "https://zoek.officielebekendmakingen.nl"


@pytest.fixture
def services() -> Iterator[FakeServices]:
    with FakeServices() as fake:
        yield fake


def fetch(services: FakeServices, target: Path, waits: list[float] | None = None,
          **options: object) -> FetchReport:
    settings = HttpSettings(rate=0, timeout=0.5, attempts=3, backoff=0.01)
    options.setdefault("since", date(2023, 1, 1))
    opts = FetchOptions(target, api_url=services.api_url,
                        publications_url=services.publications_url,
                        **options)  # type: ignore[arg-type]
    with Client(settings, sleep=(waits.append if waits is not None else lambda s: None)) as c:
        return run_fetch(opts, c)


def state_of(target: Path) -> dict:
    return json.loads((target / ".vraagbaak-fetch" / "state.json").read_text(encoding="utf-8"))


def files_in(target: Path) -> list[str]:
    return sorted(p.relative_to(target).as_posix() for p in target.rglob("*")
                  if p.is_file() and ".vraagbaak-fetch" not in p.parts)


def test_a_first_run_writes_each_file_with_its_sidecar(services: FakeServices,
                                                       tmp_path: Path) -> None:
    report = fetch(services, tmp_path)
    assert (report.listed, report.new, report.failed) == (3, 3, ())
    assert files_in(tmp_path) == sorted([
        PDF_FILE, PDF_FILE.replace(".pdf", ".meta.json"), XML_OUT,
        XML_OUT.replace(".xml", ".meta.json"), DOCX_FILE, DOCX_FILE.replace(".docx", ".meta.json")])
    assert (tmp_path / XML_OUT).read_bytes() == XML_FILE.read_bytes()
    assert services.count(RESOURCE.format(XML_ID)) == 0  # the official XML was enough
    (xml,) = services.documents[XML_ID]["HuidigeDocumentVersie"]["DocumentPublicatie"][:1]
    assert services.count(PUBLICATION.format(xml["Id"])) == 1  # from the Tweede Kamer
    # the listing says which documents have official files: no probes for the others
    assert not [r for r in services.requests if r.path.startswith("/koop/")]
    sidecar = json.loads((tmp_path / DOCX_FILE.replace(".docx", ".meta.json")).read_text())
    assert sidecar["source"]["kind"] == "tk-resource" and sidecar["tk_document_id"] == DOCX_ID
    assert sidecar["official_url"] == f"{OFFICIAL}/ah-tk-20232024-1178.html"
    xml_sidecar = json.loads((tmp_path / XML_OUT.replace(".xml", ".meta.json")).read_text())
    assert xml_sidecar["source"]["kind"] == "tk-xml"
    # each file is asked for as what it is
    assert [r.headers["Accept"] for r in services.requests
            if r.path == RESOURCE.format(DOCX_ID)] == [DOCX_TYPE]
    state = state_of(tmp_path)
    assert state["cursor"] == "2024-09-10T12:31:12.4513378Z"  # the last ApiGewijzigdOp
    recorded = state["documents"][PDF_ID]["files"][PDF_FILE]
    identity = identity_on_disk(tmp_path / PDF_FILE)
    assert identity and (recorded["size"], recorded["sha256"]) == (identity.size,
                                                                   identity.sha256)


def test_a_second_run_downloads_nothing(services: FakeServices, tmp_path: Path) -> None:
    fetch(services, tmp_path)
    sent = len(services.requests)
    report = fetch(services, tmp_path)
    # the delta lists what became visible since the cursor less two days: document 1178
    assert (report.listed, report.new, report.changed, report.unchanged) == (1, 0, 0, 1)
    later = services.requests[sent:]
    # listings only: the documents, and the official XML files listed since
    assert {r.path for r in later} == {LISTING, "/OData/v4/2.0/DocumentPublicatie"}
    # the delta query: visible since the cursor less the overlap, deletions included
    delta = later[0].query["$filter"][0]
    assert delta.startswith("ApiGewijzigdOp ge 2024-09-08T12:31:12.4513370Z and "
                            "(Verwijderd eq true or")


def test_a_delta_run_with_one_changed_and_one_deleted_document(
        services: FakeServices, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("my own notes", encoding="utf-8")
    fetch(services, tmp_path)
    services.apply_delta()
    report = fetch(services, tmp_path)
    assert (report.listed, report.changed, report.deleted, report.failed) == (2, 1, 1, ())
    assert not (tmp_path / DOCX_FILE).exists()
    assert not (tmp_path / DOCX_FILE.replace(".docx", ".meta.json")).exists()
    sidecar = json.loads((tmp_path / PDF_FILE.replace(".pdf", ".meta.json")).read_text())
    assert sidecar["gewijzigd_op"] == "2024-10-01T08:00:00+02:00"
    assert set(state_of(tmp_path)["documents"]) == {PDF_ID, XML_ID}
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == "my own notes"
    again = fetch(services, tmp_path)  # the same delta once more: nothing to do
    assert (again.unchanged, again.changed, again.deleted) == (1, 0, 0)


def test_a_users_file_in_the_way_is_refused_and_left_alone(services: FakeServices,
                                                           tmp_path: Path) -> None:
    own = tmp_path / PDF_FILE
    own.parent.mkdir(parents=True)
    own.write_bytes(b"%PDF-1.4 my annotated copy %%EOF")
    report = fetch(services, tmp_path)
    assert report.new == 2
    (failure,) = report.failed
    assert failure.name == "ah-tk-20232024-1893"
    assert failure.reason.startswith(f"not overwriting {PDF_FILE}: rag fetch did not write it")
    assert own.read_bytes() == b"%PDF-1.4 my annotated copy %%EOF"
    assert not (tmp_path / PDF_FILE.replace(".pdf", ".meta.json")).exists()
    assert state_of(tmp_path)["cursor"] == "2024-06-04T08:02:39.6125478Z"  # held there
    own.rename(tmp_path / "mine.pdf")
    retry = fetch(services, tmp_path)
    assert (retry.new, retry.unchanged, retry.failed) == (1, 2, ())


def test_a_file_edited_since_is_not_deleted(services: FakeServices, tmp_path: Path) -> None:
    fetch(services, tmp_path)
    (tmp_path / DOCX_FILE).write_bytes(b"edited by hand")
    services.apply_delta()
    report = fetch(services, tmp_path)
    (failure,) = report.failed
    assert "was changed since rag fetch wrote it" in failure.reason
    assert (tmp_path / DOCX_FILE).read_bytes() == b"edited by hand"
    assert not (tmp_path / DOCX_FILE.replace(".docx", ".meta.json")).exists()


def test_an_html_page_served_as_pdf_is_not_stored(services: FakeServices,
                                                  tmp_path: Path) -> None:
    services.fault(RESOURCE.format(PDF_ID), "html")
    report = fetch(services, tmp_path)
    (failure,) = report.failed
    # the listing names no official files for it yet: the Tweede Kamer's file is all there is
    assert failure.reason == "tk-resource: an HTML page where a PDF was expected"
    assert not list(tmp_path.rglob("ah-tk-20232024-1893*"))
    assert not list(tmp_path.rglob("*.part"))


def test_faults_on_the_way_are_retried(services: FakeServices, tmp_path: Path) -> None:
    services.fault("/OData/v4/2.0/Document", "500", "500")  # the first page, twice
    services.fault(RESOURCE.format(PDF_ID), "truncate")
    services.fault(RESOURCE.format(DOCX_ID), "429:4", "slow:1")
    (xml,) = services.documents[XML_ID]["HuidigeDocumentVersie"]["DocumentPublicatie"][:1]
    services.fault(PUBLICATION.format(xml["Id"]), "503")
    waits: list[float] = []
    report = fetch(services, tmp_path, waits)
    assert (report.new, report.failed) == (3, ())
    assert 4.0 in waits  # Retry-After honoured
    assert services.count(RESOURCE.format(DOCX_ID)) == 3


def test_limit_stops_and_the_next_run_continues(services: FakeServices,
                                                tmp_path: Path) -> None:
    first = fetch(services, tmp_path, limit=1)
    assert (first.new, first.stopped_at_limit) == (1, True)
    assert state_of(tmp_path)["cursor"] == "2024-06-04T08:02:39.6125478Z"
    rest = fetch(services, tmp_path)
    assert (rest.new, rest.unchanged, rest.stopped_at_limit) == (2, 1, False)


def test_a_document_moving_from_pdf_to_xml_drops_its_pdf(services: FakeServices,
                                                         tmp_path: Path) -> None:
    """The official XML is published after the PDF was fetched, and the document's own
    record does not change (as in the recorded data, where a publication's ApiGewijzigdOp is
    often later than its document's): the next run notices the XML all the same."""
    fetch(services, tmp_path)
    xml = XML_FILE.read_bytes().replace(b"ah-tk-20232024-2096", b"ah-tk-20232024-1893")
    before = services.documents[PDF_ID]["ApiGewijzigdOp"]
    services.publish(PDF_ID, "Xml", xml)
    assert services.documents[PDF_ID]["ApiGewijzigdOp"] == before
    report = fetch(services, tmp_path)
    assert (report.changed, report.unchanged, report.failed) == (1, 1, ())
    assert (tmp_path / PDF_FILE.replace(".pdf", ".xml")).read_bytes() == xml
    assert not (tmp_path / PDF_FILE).exists()
    assert sorted(state_of(tmp_path)["documents"][PDF_ID]["files"]) == [
        PDF_FILE.replace(".pdf", ".meta.json"), PDF_FILE.replace(".pdf", ".xml")]


def test_other_kinds_or_dates_list_everything_again(services: FakeServices,
                                                    tmp_path: Path) -> None:
    fetch(services, tmp_path)
    report = fetch(services, tmp_path, kinds=("answers", "notices"))
    assert report.unchanged == 3
    last = services.listing_requests()[-1]  # the listing of the second run
    assert last.query["$filter"][0].startswith("Verwijderd eq false and (Soort eq")
    assert "Mededeling (uitstel antwoord)" in last.query["$filter"][0]


def test_temporary_files_of_a_killed_run_are_cleaned(services: FakeServices,
                                                     tmp_path: Path) -> None:
    (tmp_path / YEAR).mkdir()
    (tmp_path / YEAR / ".vraagbaak-x1y2.part").write_bytes(b"half a pdf")
    (tmp_path / ".vraagbaak-notes.txt").write_text("not ours", encoding="utf-8")
    report = fetch(services, tmp_path)
    assert report.leftovers_removed == 1
    assert not (tmp_path / YEAR / ".vraagbaak-x1y2.part").exists()
    assert (tmp_path / ".vraagbaak-notes.txt").exists()


def test_a_crash_between_rename_and_commit_is_recovered(services: FakeServices,
                                                        tmp_path: Path) -> None:
    fetch(services, tmp_path)
    # replay what a kill right after renaming would leave: a journalled begin, no commit
    path = tmp_path / DOCX_FILE
    path.write_bytes(b"PK\x03\x04 the newer file that landed")
    landed = identity_on_disk(path)
    assert landed is not None
    journal = tmp_path / ".vraagbaak-fetch" / "journal.jsonl"
    journal.write_text(json.dumps({"op": "begin", "tk_id": DOCX_ID,
                                   "doc_id": "ah-tk-20232024-1178",
                                   "files": {DOCX_FILE: {"size": landed.size,
                                                         "sha256": landed.sha256}}})
                       + '\n{"op": "comm', encoding="utf-8")  # and a torn last line
    with open_state(tmp_path) as state:
        record = state.records[DOCX_ID]
        assert record.gewijzigd_op is None  # to be fetched again
        assert state.owns(DOCX_FILE, DOCX_ID)  # the file that landed is fetch's own
    report = fetch(services, tmp_path)
    assert (report.changed, report.unchanged, report.failed) == (1, 0, ())
    assert (tmp_path / DOCX_FILE).read_bytes() == services.docx


def test_an_unreadable_state_refuses_the_folder(services: FakeServices,
                                                tmp_path: Path) -> None:
    (tmp_path / ".vraagbaak-fetch").mkdir()
    (tmp_path / ".vraagbaak-fetch" / "state.json").write_text("{oops", encoding="utf-8")
    with pytest.raises(FetchError, match=r"state\.json is unreadable"):
        fetch(services, tmp_path)


def test_one_fetch_at_a_time(services: FakeServices, tmp_path: Path) -> None:
    with open_state(tmp_path), pytest.raises(FetchError, match="another rag fetch"):
        fetch(services, tmp_path)


def test_a_target_that_is_a_file_is_refused(services: FakeServices, tmp_path: Path) -> None:
    (tmp_path / "data").write_text("x", encoding="utf-8")
    with pytest.raises(FetchError, match="is not a folder"):
        fetch(services, tmp_path / "data")


# -- the listing as it changes under a run --------------------------------------------------

def test_an_edit_during_the_run_loses_no_document(services: FakeServices,
                                                  tmp_path: Path) -> None:
    """The first document is edited while the run downloads (after the first page of one):
    every document is fetched, the edited one in its new version."""
    services.page_size = 1
    services.after(1, lambda: services.touch(PDF_ID, "2024-10-01T08:00:00+02:00"))
    report = fetch(services, tmp_path)
    assert (report.new, report.changed, report.failed) == (3, 1, ())
    assert set(state_of(tmp_path)["documents"]) == {PDF_ID, XML_ID, DOCX_ID}
    sidecar = json.loads((tmp_path / PDF_FILE.replace(".pdf", ".meta.json")).read_text())
    assert sidecar["gewijzigd_op"] == "2024-10-01T08:00:00+02:00"
    assert state_of(tmp_path)["cursor"] == services.documents[PDF_ID]["ApiGewijzigdOp"]


def test_a_document_visible_late_is_fetched_by_the_delta(services: FakeServices,
                                                         tmp_path: Path) -> None:
    """A record whose GewijzigdOp is long before the cursor becomes visible in the API only
    now (recorded rows show lags of days, up to 302): the delta on ApiGewijzigdOp lists it."""
    fetch(services, tmp_path)
    late = "00000000-0000-4000-8000-000000000401"
    services.clone(DOCX_ID, late, Aanhangselnummer="232401177")
    services.documents[late]["GewijzigdOp"] = "2024-05-02T11:20:05.33+02:00"
    services.put(RESOURCE.format(late), services.documents[late]["ContentType"], services.docx)
    report = fetch(services, tmp_path)
    assert (report.new, report.failed) == (1, ())
    assert (tmp_path / YEAR / "ah-tk-20232024-1177.docx").exists()


# -- documents that cannot be fetched as listed --------------------------------------------

def test_a_document_without_a_file_name_is_recorded_and_not_retried(
        services: FakeServices, tmp_path: Path) -> None:
    """Recorded answers with neither Aanhangselnummer nor publication id (2024D47139, a PDF;
    2008D22702, a Word 97 file): unfetchable, with the reason; they do not hold the cursor,
    and are not tried again until their record changes."""
    rows = real_rows()
    for nummer in ("2024D47139", "2008D22702"):
        row = copy.deepcopy(rows[nummer])
        services.documents[row["Id"]] = row
    report = fetch(services, tmp_path, since=None)
    assert (report.new, report.failed) == (3, ())
    assert sorted(f.name for f in report.unfetchable) == ["2008D22702", "2024D47139"]
    assert all("no Aanhangselnummer and no publication id" in f.reason
               for f in report.unfetchable)
    state = state_of(tmp_path)
    assert state["cursor"] == "2025-04-14T10:40:29.1041506Z"  # past them: the last listed
    recorded = state["unfetchable"][rows["2024D47139"]["Id"]]
    assert recorded["api_gewijzigd_op"] == "2025-01-13T15:55:46.2268097Z"
    sent = len(services.requests)
    again = fetch(services, tmp_path, since=None)  # the delta lists 2008D22702 again
    assert (again.new, again.failed, [f.name for f in again.unfetchable]) == (
        0, (), ["2008D22702"])
    assert not [r for r in services.requests[sent:] if "esource" in r.path]  # not tried
    # the Tweede Kamer gives the other its number: its record changes, and it is fetched
    services.touch(rows["2024D47139"]["Id"], Aanhangselnummer="242500401",
                   ContentLength=len(services.pdf))
    services.put(RESOURCE.format(rows["2024D47139"]["Id"]), "application/pdf", services.pdf)
    last = fetch(services, tmp_path, since=None)
    assert (last.new, last.failed) == (1, ())
    assert [f.name for f in last.unfetchable] == ["2008D22702"]  # listed again, not tried
    assert (tmp_path / "2024-2025" / "ah-tk-20242025-401.pdf").exists()
    assert set(state_of(tmp_path)["unfetchable"]) == {rows["2008D22702"]["Id"]}


def test_a_word_97_file_with_no_official_publication_is_unfetchable(
        services: FakeServices, tmp_path: Path) -> None:
    services.clone(DOCX_ID, "00000000-0000-4000-8000-000000000601",
                   ContentType="application/msword", Aanhangselnummer="232401180")
    report = fetch(services, tmp_path)
    (failure,) = report.unfetchable
    assert failure.name == "ah-tk-20232024-1180" and report.failed == ()
    assert failure.reason == ("tk-resource: application/msword is not a type the reader can "
                              "read; no official publication listed")
    assert services.count(RESOURCE.format(failure.tk_id)) == 0


def test_an_unreadable_row_is_unfetchable_not_a_failure(services: FakeServices,
                                                        tmp_path: Path) -> None:
    services.clone(PDF_ID, "00000000-0000-4000-8000-000000000501", Onderwerp={"nl": "?"})
    report = fetch(services, tmp_path)
    (bad,) = report.unfetchable
    assert "Onderwerp is dict, not text" in bad.reason and report.failed == ()
    state = state_of(tmp_path)
    assert state["cursor"] == services.documents[bad.tk_id]["ApiGewijzigdOp"]
    assert state["unfetchable"][bad.tk_id]["reason"] == bad.reason


# -- the state of an earlier version ---------------------------------------------------------

def test_a_state_of_format_1_lists_everything_once_more(services: FakeServices,
                                                        tmp_path: Path) -> None:
    """A folder fetched by the version that kept its cursor on GewijzigdOp: its records are
    kept (nothing is downloaded again) and the next run lists everything once more."""
    fetch(services, tmp_path)
    path = tmp_path / ".vraagbaak-fetch" / "state.json"
    old = json.loads(path.read_text(encoding="utf-8"))
    old["format"], old["cursor"] = "vraagbaak-fetch-state/1", "2024-09-10T12:30:45Z"
    for record in old["documents"].values():
        del record["api_gewijzigd_op"], record["version_id"]
    del old["unfetchable"]
    path.write_text(json.dumps(old), encoding="utf-8")
    sent = len(services.requests)
    report = fetch(services, tmp_path)
    assert (report.listed, report.unchanged, report.new, report.changed) == (3, 3, 0, 0)
    assert services.requests[sent].query["$filter"][0].startswith("Verwijderd eq false and")
    state = state_of(tmp_path)
    assert state["format"] == "vraagbaak-fetch-state/2"
    assert state["documents"][PDF_ID]["api_gewijzigd_op"] == \
        services.documents[PDF_ID]["ApiGewijzigdOp"]


# -- where the bytes come from, and where the citation points --------------------------------

def test_a_mirror_serves_the_bytes_and_the_citation_stays_official(
        services: FakeServices, tmp_path: Path) -> None:
    """A document whose official files the listing does not name is asked of the
    publications URL (here a mirror); its sidecar links to the official site all the same."""
    del services.documents[XML_ID]["HuidigeDocumentVersie"]["DocumentPublicatie"]
    services.put("/koop/ah-tk-20232024-2096.xml", "application/xml", XML_FILE.read_bytes())
    report = fetch(services, tmp_path)
    assert (report.new, report.failed) == (3, ())
    sidecar = json.loads((tmp_path / XML_OUT.replace(".xml", ".meta.json")).read_text())
    assert sidecar["source"] == {"kind": "koop-xml", "content_type": "application/xml",
                                 "url": f"{services.publications_url}/ah-tk-20232024-2096.xml"}
    assert sidecar["official_url"] == f"{OFFICIAL}/ah-tk-20232024-2096.html"
    assert sidecar["official_urls"]["xml"] == f"{OFFICIAL}/ah-tk-20232024-2096.xml"


def test_the_state_folder_is_not_reported_by_the_build(services: FakeServices,
                                                       tmp_path: Path) -> None:
    fetch(services, tmp_path)
    (tmp_path / ".my-notes").mkdir()
    skipped = [s.source for s in load_corpus(tmp_path).skipped]
    assert skipped == [".my-notes"]  # a user's hidden folder is still reported
