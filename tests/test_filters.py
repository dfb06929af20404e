"""Filters on the structured metadata: year, ministry (with abbreviations), party (with short
forms), inclusive date range; old index records without the new fields still filter."""

from __future__ import annotations

import pytest

from rag.errors import QueryError
from rag.search.filters import Filter
from rag.store.index import DocRecord
from rag.types import DocumentMeta

SAMPLE = DocRecord("ah-tk-20232024-2096", "x.txt", DocumentMeta(
    vergaderjaar="2023–2024", ah_nr=2096, date_submitted="2024-06-12",
    date_received="2024-09-02", asked_by="de leden Aartsen en Rajkowski (VVD)",
    parties=("VVD",), ministries=("Sociale Zaken en Werkgelegenheid", "Economische Zaken")))
MIXED = DocRecord("b", "b.txt", DocumentMeta(
    vergaderjaar="2024–2025", date_submitted="2024-11-01", parties=("GroenLinks-PvdA", "NSC"),
    ministries=("Binnenlandse Zaken en Koninkrijksrelaties",)))
OLD = DocRecord("c", "c.txt", DocumentMeta(  # an index written before the structured fields
    asked_by="het lid Jansen (CDA)", answered_by="Minister Heinen (Financiën)"))


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        (Filter(vergaderjaar="2023-2024"), {"ah-tk-20232024-2096"}),
        (Filter(vergaderjaar="2024–2025"), {"b"}),
        (Filter(ministry="economische zaken"), {"ah-tk-20232024-2096"}),
        (Filter(ministry="SZW"), {"ah-tk-20232024-2096"}),
        (Filter(ministry="BZK"), {"b"}),
        (Filter(ministry="Financiën"), {"c"}),
        (Filter(party="vvd"), {"ah-tk-20232024-2096"}),
        (Filter(party="GL-PvdA"), {"b"}),
        (Filter(party="Nieuw Sociaal Contract"), {"b"}),
        (Filter(party="CDA"), {"c"}),
        (Filter(party="D66"), set()),
        (Filter(date_from="2024-09-02"), {"ah-tk-20232024-2096", "b"}),
        (Filter(date_to="2024-09-02"), {"ah-tk-20232024-2096"}),
        (Filter(date_from="2024-09-03", date_to="2024-12-31"), {"b"}),
        (Filter(party="VVD", ministry="BZK"), set()),
        (Filter(), {"ah-tk-20232024-2096", "b", "c"}),
    ],
)
def test_filter_matches(where: Filter, expected: set[str]) -> None:
    assert {d.doc_id for d in (SAMPLE, MIXED, OLD) if where.matches(d)} == expected


@pytest.mark.parametrize(
    "kwargs",
    [{"date_from": "2024-13-01"}, {"date_to": "gisteren"}, {"vergaderjaar": "2024"},
     {"date_from": "2024-05-01", "date_to": "2024-04-01"}],
)
def test_bad_filters_raise_query_error(kwargs: dict[str, str]) -> None:
    with pytest.raises(QueryError):
        Filter(**kwargs)


def test_active() -> None:
    assert not Filter().active and Filter(party="VVD").active
