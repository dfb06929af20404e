"""Fetch runs against the local stand-in services: first run, deltas, ownership, faults.

Fixtures (see ``tests/data/opendata/README.md``): document 1893 is a PDF (made by the test
server, with the real document's metadata) whose official XML is missing (a soft 404),
document 2096 has official XML (``tests/data/ah-tk-20232024-2096.xml``, hand-written to the
published vocabulary), document 1178 is an invented Word file; the OData pages follow the
documentation.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from rag.errors import FetchError
from rag.opendata.fetch import FetchOptions, FetchReport, run_fetch
from rag.opendata.http import Client, HttpSettings
from rag.opendata.state import open_state
from rag.opendata.store import identity_on_disk
from tests.opendata_server import DOCX_ID, PDF_ID, XML_FILE, XML_ID, FakeServices

YEAR = "2023-2024"
PDF_FILE = f"{YEAR}/ah-tk-20232024-1893.pdf"
XML_OUT = f"{YEAR}/ah-tk-20232024-2096.xml"
DOCX_FILE = f"{YEAR}/ah-tk-20232024-1178.docx"
RESOURCE = "/OData/v4/2.0/Document({})/resource"


@pytest.fixture
def services() -> Iterator[FakeServices]:
    with FakeServices() as fake:
        yield fake


def fetch(services: FakeServices, target: Path, waits: list[float] | None = None,
          **options: object) -> FetchReport:
    settings = HttpSettings(rate=0, timeout=0.5, attempts=3, backoff=0.01)
    opts = FetchOptions(target, api_url=services.api_url,
                        publications_url=services.publications_url,
                        since=date(2023, 1, 1), **options)  # type: ignore[arg-type]
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
    assert services.count("/koop/ah-tk-20232024-1893.xml") == 1  # tried, soft 404
    sidecar = json.loads((tmp_path / DOCX_FILE.replace(".docx", ".meta.json")).read_text())
    assert sidecar["source"]["kind"] == "tk-resource" and sidecar["tk_document_id"] == DOCX_ID
    assert sidecar["official_url"] == f"{services.publications_url}/ah-tk-20232024-1178.html"
    state = state_of(tmp_path)
    assert state["cursor"] == "2024-09-10T12:30:45Z"  # the last GewijzigdOp, in UTC
    recorded = state["documents"][PDF_ID]["files"][PDF_FILE]
    identity = identity_on_disk(tmp_path / PDF_FILE)
    assert identity and (recorded["size"], recorded["sha256"]) == (identity.size,
                                                                   identity.sha256)


def test_a_second_run_downloads_nothing(services: FakeServices, tmp_path: Path) -> None:
    fetch(services, tmp_path)
    sent = len(services.requests)
    report = fetch(services, tmp_path)
    assert (report.new, report.changed, report.unchanged) == (0, 0, 3)
    later = services.requests[sent:]
    assert {r.path for r in later} == {"/OData/v4/2.0/Document"}  # listing only
    # the delta query: changed since the cursor less the overlap, deletions included
    delta = later[0].query["$filter"][0]
    assert delta.startswith("GewijzigdOp ge 2024-09-08T12:30:45Z and (Verwijderd eq true or")


def test_a_delta_run_with_one_changed_and_one_deleted_document(
        services: FakeServices, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("my own notes", encoding="utf-8")
    fetch(services, tmp_path)
    services.use_delta_listing()
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
    assert state_of(tmp_path)["cursor"] == "2024-06-04T08:02:11Z"  # held at the failure
    own.rename(tmp_path / "mine.pdf")
    retry = fetch(services, tmp_path)
    assert (retry.new, retry.unchanged, retry.failed) == (1, 2, ())


def test_a_file_edited_since_is_not_deleted(services: FakeServices, tmp_path: Path) -> None:
    fetch(services, tmp_path)
    (tmp_path / DOCX_FILE).write_bytes(b"edited by hand")
    services.use_delta_listing()
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
    assert failure.reason == ("koop-xml: not found; tk-resource: an HTML page where a PDF was "
                              "expected; koop-pdf: not found")
    assert not list(tmp_path.rglob("ah-tk-20232024-1893*"))
    assert not list(tmp_path.rglob("*.part"))


def test_faults_on_the_way_are_retried(services: FakeServices, tmp_path: Path) -> None:
    services.fault("/OData/v4/2.0/Document", "500", "500")  # the first page, twice
    services.fault(RESOURCE.format(PDF_ID), "truncate")
    services.fault(RESOURCE.format(DOCX_ID), "429:4", "slow:1")
    services.fault("/koop/ah-tk-20232024-2096.xml", "503")
    waits: list[float] = []
    report = fetch(services, tmp_path, waits)
    assert (report.new, report.failed) == (3, ())
    assert 4.0 in waits  # Retry-After honoured
    assert services.count(RESOURCE.format(DOCX_ID)) == 3


def test_limit_stops_and_the_next_run_continues(services: FakeServices,
                                                tmp_path: Path) -> None:
    first = fetch(services, tmp_path, limit=1)
    assert (first.new, first.stopped_at_limit) == (1, True)
    assert state_of(tmp_path)["cursor"] == "2024-06-04T08:02:11Z"
    rest = fetch(services, tmp_path)
    assert (rest.new, rest.unchanged, rest.stopped_at_limit) == (2, 1, False)


def test_a_document_moving_from_pdf_to_xml_drops_its_pdf(services: FakeServices,
                                                         tmp_path: Path) -> None:
    fetch(services, tmp_path)
    xml = XML_FILE.read_bytes().replace(b"ah-tk-20232024-2096", b"ah-tk-20232024-1893")
    services.put("/koop/ah-tk-20232024-1893.xml", "application/xml", xml)
    services.use_delta_listing()
    report = fetch(services, tmp_path)
    assert report.changed == 1
    assert (tmp_path / PDF_FILE.replace(".pdf", ".xml")).read_bytes() == xml
    assert not (tmp_path / PDF_FILE).exists()
    assert sorted(state_of(tmp_path)["documents"][PDF_ID]["files"]) == [
        PDF_FILE.replace(".pdf", ".meta.json"), PDF_FILE.replace(".pdf", ".xml")]


def test_other_kinds_or_dates_list_everything_again(services: FakeServices,
                                                    tmp_path: Path) -> None:
    fetch(services, tmp_path)
    report = fetch(services, tmp_path, kinds=("answers", "notices"))
    assert report.unchanged == 3
    last = services.listing_requests()[-2]  # the first page of the second run
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
    assert (report.changed, report.unchanged, report.failed) == (1, 2, ())
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
