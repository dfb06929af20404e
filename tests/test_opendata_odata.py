"""The OData listing: the query, paging by ``@odata.nextLink``, typed entities.

Pages are ``tests/data/opendata/odata-*.json``, which follow the published information model
rather than a recorded response (see the README there).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest

from rag.errors import FetchError
from rag.opendata.entity import parse_datetime, parse_entity
from rag.opendata.http import Client, HttpSettings
from rag.opendata.odata import (
    EXPAND,
    Query,
    document_filter,
    list_documents,
)
from tests.opendata_server import DOCX_ID, PDF_ID, XML_ID, FakeServices, load_page

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


def test_first_listing_filter() -> None:
    query = Query(("answers",), since=date(2023, 1, 1), until=date(2023, 12, 31))
    assert document_filter(query) == (
        f"Verwijderd eq false and {ANSWERS} and Datum ge 2023-01-01T00:00:00Z "
        "and Datum lt 2024-01-01T00:00:00Z")


def test_delta_filter_includes_deleted_entities_of_any_kind() -> None:
    moment = datetime(2024, 9, 3, 7, 15, 2, tzinfo=UTC)
    query = Query(("answers", "notices"), changed_since=moment)
    assert document_filter(query) == (
        "GewijzigdOp ge 2024-09-03T07:15:02Z and (Verwijderd eq true or (Verwijderd eq false "
        "and (Soort eq 'Antwoord schriftelijke vragen' or Soort eq 'Antwoord schriftelijke "
        "vragen (nader)' or Soort eq 'Mededeling (uitstel antwoord)')))")


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


def test_paging_follows_next_links_and_never_sends_top(services: FakeServices,
                                                       client: Client) -> None:
    pages = list(list_documents(client, Query(("answers",), since=date(2023, 1, 1)),
                                services.api_url))
    assert [[d.id for d in p.documents] for p in pages] == [[PDF_ID, XML_ID], [DOCX_ID]]
    assert pages[0].total == 3
    first, second = services.listing_requests()
    assert first.query["$expand"] == [EXPAND]
    assert first.query["$orderby"] == ["GewijzigdOp,Id"]
    assert "Datum ge 2023-01-01T00:00:00Z" in first.query["$filter"][0]
    assert second.query["$skip"] == ["2"]  # the nextLink, followed as given
    assert not any("$top" in r.query for r in services.requests)


def test_a_listing_page_error_is_retried(services: FakeServices) -> None:
    services.fault("/OData/v4/2.0/Document", "500", "503", "truncate")
    with Client(HttpSettings(rate=0, backoff=0.01)) as c:
        pages = list(list_documents(c, Query(), services.api_url))
    assert sum(len(p.documents) for p in pages) == 3


def test_a_bad_entity_is_reported_not_fatal(services: FakeServices, client: Client) -> None:
    services.listing[None]["value"].insert(0, {"Id": "x", "Soort": "Antwoord schriftelijke "
                                               "vragen"})
    page = next(iter(list_documents(client, Query(), services.api_url)))
    assert len(page.documents) == 2 and "without Id or GewijzigdOp" in page.bad[0]


def test_a_page_that_is_not_a_collection_stops_the_listing(services: FakeServices,
                                                           client: Client) -> None:
    services.put("/mirror/Document", "application/json", b'{"error": {"message": "x"}}')
    with pytest.raises(FetchError, match="not an OData collection"):
        list(list_documents(client, Query(), services.base + "/mirror"))


def test_entities_become_typed_records() -> None:
    (row,) = [r for r in load_page("odata-page-1.json")["value"] if r["Id"] == PDF_ID]
    doc = parse_entity(row)
    assert doc.doc_id == "ah-tk-20232024-1893" and doc.publication_id == "ah-tk-20232024-1893"
    assert doc.title is not None and doc.title.startswith("Antwoord op vragen van het lid Klaver")
    assert doc.titel is None and doc.datum == "2024-06-03" and doc.content_length == 20207
    assert doc.zaak_nummer == "2024Z06771" and doc.zaak_gestart_op == "2024-04-18"
    assert [a.naam for a in doc.indieners] == ["Klaver"]
    assert [a.functie for a in doc.gericht_aan] == ["minister van Buitenlandse Zaken"]
    assert [a.naam for a in doc.ondertekenaars] == ["Bruins Slot"]


def test_deleted_entities_and_deleted_expanded_rows() -> None:
    (deleted,) = [r for r in load_page("odata-delta.json")["value"] if r["Verwijderd"]]
    doc = parse_entity(deleted)
    assert doc.verwijderd and doc.doc_id is None and doc.indieners == ()
    (row,) = [r for r in load_page("odata-page-1.json")["value"] if r["Id"] == XML_ID]
    row["Zaak"][0]["ZaakActor"][1]["Verwijderd"] = True
    assert [a.naam for a in parse_entity(row).indieners] == ["Aartsen"]


def test_newer_publications_keep_their_own_id_for_downloads() -> None:
    (row,) = [r for r in load_page("odata-page-1.json")["value"] if r["Id"] == PDF_ID]
    row["HuidigeDocumentVersie"]["ExterneIdentifier"] = "ah-1271549"
    doc = parse_entity(row)
    assert doc.doc_id == "ah-tk-20232024-1893"  # the file name stays citable
    assert doc.publication_id == "ah-1271549"  # downloads use the id it is published under


def test_wrongly_typed_values_are_refused() -> None:
    with pytest.raises(FetchError, match="Onderwerp is dict"):
        parse_entity({"Id": "x", "GewijzigdOp": "2024-01-01T00:00:00Z", "Onderwerp": {}})
    with pytest.raises(FetchError, match="unreadable timestamp"):
        parse_entity({"Id": "x", "GewijzigdOp": "gisteren"})
