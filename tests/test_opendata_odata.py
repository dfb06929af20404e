"""The OData listing: the query, paging by value, typed entities.

Entities are the recorded rows of ``tests/data/opendata/real-*.json`` (real responses, see
the README there) and the fixture documents of ``documents.json`` (composed in the same
shape). The stand-in service applies ``$filter`` and ``$orderby`` itself, so these tests
check what a query means, not how it is spelled.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest

from rag.errors import FetchError
from rag.opendata.entity import BadEntity, parse_entity
from rag.opendata.http import Client, HttpSettings
from rag.opendata.moments import day_start, earlier, parse_datetime, stamp
from rag.opendata.odata import (
    EXPAND,
    Query,
    document_filter,
    documents_by_id,
    list_documents,
    list_xml_publications,
)
from tests.opendata_server import (
    DOCX_ID,
    PDF_ID,
    XML_ID,
    FakeServices,
    load_json,
    real_rows,
)

ANSWERS = ("(Soort eq 'Antwoord schriftelijke vragen' or "
           "Soort eq 'Antwoord schriftelijke vragen (nader)')")


@pytest.fixture
def services() -> Iterator[FakeServices]:
    with FakeServices() as fake:
        yield fake


@pytest.fixture
def client() -> Iterator[Client]:
    with Client(HttpSettings(rate=0, backoff=0.01)) as c:
        yield c


def listed(client: Client, services: FakeServices, query: Query | None = None) -> list[str]:
    """The Ids of a whole listing, in the order listed."""
    return [d.id for page in list_documents(client, query or Query(), services.api_url)
            for d in page.documents]


def test_first_listing_filter() -> None:
    query = Query(("answers",), since=date(2023, 1, 1), until=date(2023, 12, 31))
    assert document_filter(query) == (
        f"Verwijderd eq false and {ANSWERS} and Datum ge 2022-12-31T23:00:00Z "
        "and Datum lt 2023-12-31T23:00:00Z")


def test_delta_filter_includes_deleted_entities_of_any_kind() -> None:
    query = Query(("answers", "notices"), changed_since="2024-09-03T07:15:02.1234567Z")
    assert document_filter(query) == (
        "ApiGewijzigdOp ge 2024-09-03T07:15:02.1234567Z and (Verwijderd eq true or "
        "(Verwijderd eq false and (Soort eq 'Antwoord schriftelijke vragen' or Soort eq "
        "'Antwoord schriftelijke vragen (nader)' or Soort eq 'Mededeling (uitstel antwoord)')))")


def test_unknown_kinds_are_refused() -> None:
    with pytest.raises(FetchError, match="unknown kind questions"):
        document_filter(Query(("questions",)))


def test_timestamps_in_the_forms_the_api_writes() -> None:
    assert parse_datetime("2024-06-04T10:02:11+02:00") == datetime(2024, 6, 4, 8, 2, 11,
                                                                   tzinfo=UTC)
    assert parse_datetime("2023-12-01T15:00:24.6710401Z").microsecond == 671040
    assert parse_datetime("2024-01-01T00:00:00") == datetime(2024, 1, 1, tzinfo=UTC)
    with pytest.raises(FetchError):
        parse_datetime("yesterday")


def test_stamps_keep_every_tick_and_sort_as_text() -> None:
    # the two forms of the recorded rows: GewijzigdOp local, ApiGewijzigdOp UTC
    assert stamp("2025-09-29T10:13:06.62+02:00") == "2025-09-29T08:13:06.6200000Z"
    assert stamp("2025-09-29T08:13:18.7889514Z") == "2025-09-29T08:13:18.7889514Z"
    assert stamp("2025-01-03T10:45:43.616011Z") == "2025-01-03T10:45:43.6160110Z"
    assert stamp("2024-12-31T23:59:59.9999999+01:00") < stamp("2024-12-31T23:00:00Z")
    assert earlier("2024-09-10T12:31:12.4513378Z", datetime(2024, 1, 3) - datetime(2024, 1, 1)) \
        == "2024-09-08T12:31:12.4513370Z"


@pytest.mark.parametrize(("day", "begins"), [
    (date(2024, 3, 30), "2024-03-29T23:00:00Z"),  # winter time
    (date(2024, 3, 31), "2024-03-30T23:00:00Z"),  # the clocks go forward at 02:00
    (date(2024, 4, 1), "2024-03-31T22:00:00Z"),  # summer time
    (date(2024, 10, 27), "2024-10-26T22:00:00Z"),  # the clocks go back at 03:00
    (date(2024, 10, 28), "2024-10-27T23:00:00Z"),
])
def test_a_day_begins_at_dutch_midnight(day: date, begins: str) -> None:
    assert day_start(day) == begins


def test_since_and_until_are_days_in_dutch_time(services: FakeServices,
                                                client: Client) -> None:
    """Documents dated as the service dates them (local midnight with its offset) on both
    sides of both changes of the clocks in 2024: the bounds keep exactly the days asked."""
    for n, datum in enumerate(["2024-03-30T00:00:00+01:00", "2024-03-31T00:00:00+01:00",
                               "2024-10-27T00:00:00+02:00", "2024-10-28T00:00:00+01:00"]):
        services.clone(PDF_ID, f"00000000-0000-4000-8000-00000000000{n}", Datum=datum)
    got = listed(client, services, Query(since=date(2024, 3, 31), until=date(2024, 10, 27)))
    assert {services.documents[i]["Datum"][:10] for i in got} == {
        "2024-03-31", "2024-06-03", "2024-09-02", "2024-09-10", "2024-10-27"}


def test_the_listing_is_paged_by_value_in_api_order(services: FakeServices,
                                                    client: Client) -> None:
    services.page_size = 2
    pages = list(list_documents(client, Query(("answers",), since=date(2023, 1, 1)),
                                services.api_url))
    assert [d.id for p in pages for d in p.documents] == [PDF_ID, XML_ID, DOCX_ID]
    assert pages[0].total == 3
    first, second = services.listing_requests()
    assert first.query["$expand"] == [EXPAND]
    assert first.query["$orderby"] == ["ApiGewijzigdOp,Id"]
    assert "$skip" not in second.query  # a new query from the last value, not a position
    assert second.query["$filter"][0].startswith(
        f"ApiGewijzigdOp ge {services.documents[XML_ID]['ApiGewijzigdOp']} and ")
    assert not any("$top" in r.query for r in services.requests)


def test_an_edit_between_two_pages_loses_nothing(services: FakeServices,
                                                 client: Client) -> None:
    """The first document is edited after the first page: it moves to the end of the
    ordering. Paging by position ($skip=1) would now pass over the second document for good;
    paging by value lists every document, and the edited one again with its new version."""
    services.page_size = 1
    services.after(1, lambda: services.touch(PDF_ID))
    got = listed(client, services)
    assert got == [PDF_ID, XML_ID, DOCX_ID, PDF_ID]


def test_edits_during_a_long_listing_lose_nothing(services: FakeServices,
                                                  client: Client) -> None:
    ids = [f"00000000-0000-4000-8000-0000000001{n:02d}" for n in range(12)]
    for tk_id in ids:
        services.clone(DOCX_ID, tk_id)
    services.page_size = 3
    for n, edited in zip(range(1, 5), [PDF_ID, ids[0], ids[4], ids[2]], strict=True):
        services.after(n, lambda tk_id=edited: services.touch(tk_id))
    got = listed(client, services)
    assert set(got) == set(services.documents)  # every document, none passed over
    # an edited document read before its edit is read again; one edited before it was
    # reached is read once, at its new place
    assert len(set(got)) < len(got) <= len(set(got)) + 4


def test_a_page_of_one_moment_is_read_to_its_end(services: FakeServices,
                                                 client: Client) -> None:
    """Seven documents became visible at the very same tick, more than a page holds: they
    are read by themselves (by Id) and the listing goes on past that moment, also when one
    of them is edited meanwhile."""
    same = "2024-09-05T10:00:00.0000001Z"
    ids = [f"00000000-0000-4000-8000-0000000002{n:02d}" for n in range(7)]
    for tk_id in ids:
        services.clone(DOCX_ID, tk_id)["ApiGewijzigdOp"] = same
    services.page_size = 2
    services.after(3, lambda: services.touch(ids[1]))
    got = listed(client, services)
    assert set(got) == set(services.documents)
    assert got[:2] == [PDF_ID, XML_ID] and got[-1] == ids[1]
    assert len(got) == len(services.documents) + 1
    moment = [r for r in services.listing_requests()
              if r.query.get("$filter", [""])[0].startswith(f"ApiGewijzigdOp eq {same}")]
    assert moment and all(r.query["$orderby"] == ["Id"] for r in moment)


def test_a_listing_page_error_is_retried(services: FakeServices) -> None:
    services.fault("/OData/v4/2.0/Document", "500", "503", "truncate")
    with Client(HttpSettings(rate=0, backoff=0.01)) as c:
        pages = list(list_documents(c, Query(), services.api_url))
    assert sum(len(p.documents) for p in pages) == 3


def test_a_bad_entity_is_reported_not_fatal(services: FakeServices, client: Client) -> None:
    services.clone(PDF_ID, "00000000-0000-4000-8000-000000000301", Onderwerp={"x": 1})
    pages = list(list_documents(client, Query(), services.api_url))
    (bad,) = [b for p in pages for b in p.bad]
    assert sum(len(p.documents) for p in pages) == 3 and "Onderwerp is dict" in str(bad)
    assert bad.tk_id == "00000000-0000-4000-8000-000000000301"
    assert bad.api_stamp == services.documents[bad.tk_id]["ApiGewijzigdOp"]


def test_a_page_that_is_not_a_collection_stops_the_listing(services: FakeServices,
                                                           client: Client) -> None:
    services.put("/mirror/Document", "application/json", b'{"error": {"message": "x"}}')
    with pytest.raises(FetchError, match="not an OData collection"):
        list(list_documents(client, Query(), services.base + "/mirror"))


def test_documents_by_id_and_xml_publications(services: FakeServices,
                                              client: Client) -> None:
    (page,) = documents_by_id(client, [DOCX_ID, PDF_ID], services.api_url)
    assert sorted(d.id for d in page.documents) == sorted([DOCX_ID, PDF_ID])
    version = services.documents[PDF_ID]["HuidigeDocumentVersie"]["Id"]
    before = services.clock
    services.publish(PDF_ID, "Xml", b"<x/>")
    since = f"{before:%Y-%m-%dT%H:%M:%S}.0000000Z"
    assert [p.version_id for p in list_xml_publications(client, since, services.api_url)] \
        == [version]


# -- entities: the recorded rows -----------------------------------------------------------

def test_recorded_rows_become_typed_records() -> None:
    rows = real_rows()
    answer = parse_entity(rows["2025D42561"])
    assert answer.doc_id == "ah-tk-20252026-167" and answer.datum == "2025-09-30"
    assert answer.api_gewijzigd_op == "2025-10-02T11:29:48.1738879Z"
    assert answer.content_type == "application/pdf" and answer.content_length is not None
    assert answer.publications is None  # the recorded listing did not expand them
    notice = parse_entity(rows["2025D37867"])
    assert notice.soort == "Mededeling (uitstel antwoord)" and notice.doc_id is not None
    assert parse_entity(rows["2025D10797"]).soort == "Antwoord schriftelijke vragen (nader)"
    for nummer in ("2024D47139", "2008D22702", "2025D43150"):
        assert parse_entity(rows[nummer]).doc_id is None  # no Aanhangselnummer (yet)


def test_a_recorded_deleted_row() -> None:
    doc = parse_entity(real_rows()["deleted"])
    assert doc.verwijderd and doc.soort is None and doc.doc_id is None
    assert doc.indieners == () and doc.publications is None


def test_a_recorded_question_set_with_its_actors() -> None:
    zaak = load_json("real-zaak.json")["zaak"]
    row = {**real_rows()["2025D42561"], "Zaak": [zaak]}
    doc = parse_entity(row)
    assert doc.zaak_nummer == "2025Z18622" and doc.zaak_gestart_op == "2025-10-02"
    (asker,) = doc.indieners  # the committee row ("TK", Voortouwcommissie) is no asker
    assert (asker.naam, asker.fractie, asker.functie) == ("A.P.C. (Tony) van Dijck", "PVV",
                                                          "Tweede Kamerlid")


def test_a_recorded_version_with_its_publications() -> None:
    document = load_json("real-document-version.json")["document"]
    doc = parse_entity(document)
    assert doc.version_id == "700ed387-dcab-42d2-b234-16cbed7bec04"
    assert [p.kind for p in doc.publications or ()] == ["xml", "html", "pdf", "odt"]
    xml = doc.publication("xml")
    assert xml is not None and xml.id == "000997f1-f677-4f1a-9be2-7f0faf8479a7"
    assert (xml.identifier, xml.content_length) == ("kst-34104-439", 4216)
    emptied = copy.deepcopy(document)
    emptied["HuidigeDocumentVersie"]["DocumentPublicatie"] = []
    assert parse_entity(emptied).publications == ()  # listed, and none (yet)


def test_the_fixture_documents_have_the_recorded_shape() -> None:
    """``documents.json`` is composed, but field for field in the shape of the recorded
    rows: the same keys at every level (DocumentActor: the properties of ``$metadata``)."""
    document = load_json("real-document-version.json")["document"]
    zaak = load_json("real-zaak.json")["zaak"]
    version = document["HuidigeDocumentVersie"]
    navigation = {"Zaak", "DocumentActor", "HuidigeDocumentVersie"}
    for row in load_json("documents.json"):
        assert list(row) == [k for k in document if k != "HuidigeDocumentVersie"] + [
            "Zaak", "DocumentActor", "HuidigeDocumentVersie"]
        assert set(row) - navigation == set(real_rows()["2025D42561"]) | {
            "HuidigeDocumentVersie_Id"}
        (own_zaak,) = row["Zaak"]
        assert list(own_zaak) == list(zaak)
        assert all(list(a) == list(zaak["ZaakActor"][0]) for a in own_zaak["ZaakActor"])
        assert all(set(a) == {"Id", "Document_Id", "ActorNaam", "ActorFractie", "Functie",
                              "Relatie", "SidActor", "GewijzigdOp", "ApiGewijzigdOp",
                              "Verwijderd", "Persoon_Id", "Fractie_Id", "Commissie_Id"}
                   for a in row["DocumentActor"])
        own = row["HuidigeDocumentVersie"]
        assert isinstance(own, dict)  # a single entity, not a list
        assert list(own) == [k for k in version if k != "DocumentPublicatieMetadata"]
        assert all(list(p) == list(version["DocumentPublicatie"][0])
                   for p in own["DocumentPublicatie"])


def test_fixture_entities_become_typed_records() -> None:
    (row,) = [r for r in load_json("documents.json") if r["Id"] == PDF_ID]
    doc = parse_entity(row)
    assert doc.doc_id == "ah-tk-20232024-1893" and doc.publication_id == "ah-tk-20232024-1893"
    assert doc.title is not None and doc.title.startswith("Antwoord op vragen van het lid Klaver")
    assert doc.titel is None and doc.datum == "2024-06-03"
    assert doc.zaak_nummer == "2024Z06771" and doc.zaak_gestart_op == "2024-04-18"
    assert [a.naam for a in doc.indieners] == ["Klaver"]
    assert [a.functie for a in doc.gericht_aan] == ["minister van Buitenlandse Zaken"]
    assert [a.naam for a in doc.ondertekenaars] == ["Bruins Slot"]
    assert doc.publications == ()  # not published officially yet


def test_deleted_expanded_rows_are_left_out() -> None:
    (row,) = [r for r in load_json("documents.json") if r["Id"] == XML_ID]
    row["Zaak"][0]["ZaakActor"][1]["Verwijderd"] = True
    assert [a.naam for a in parse_entity(row).indieners] == ["Aartsen"]


def test_newer_publications_keep_their_own_id_for_downloads() -> None:
    (row,) = [r for r in load_json("documents.json") if r["Id"] == PDF_ID]
    row["HuidigeDocumentVersie"]["ExterneIdentifier"] = "ah-1271549"
    doc = parse_entity(row)
    assert doc.doc_id == "ah-tk-20232024-1893"  # the file name stays citable
    assert doc.publication_id == "ah-1271549"  # downloads use the id it is published under


def test_wrongly_typed_values_are_refused() -> None:
    stamp_ok = {"Id": "x", "GewijzigdOp": "2024-01-01T00:00:00Z",
                "ApiGewijzigdOp": "2024-01-01T00:00:05.1Z"}
    with pytest.raises(BadEntity, match="Onderwerp is dict") as caught:
        parse_entity({**stamp_ok, "Onderwerp": {}})
    assert (caught.value.tk_id, caught.value.api_stamp) == ("x", "2024-01-01T00:00:05.1000000Z")
    with pytest.raises(BadEntity, match="unreadable timestamp"):
        parse_entity({**stamp_ok, "GewijzigdOp": "gisteren"})
    with pytest.raises(BadEntity, match="without Id, GewijzigdOp or ApiGewijzigdOp"):
        parse_entity({"Id": "x", "GewijzigdOp": "2024-01-01T00:00:00Z"})
