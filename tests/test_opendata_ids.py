"""Publication ids and official URLs, for every id form (pure functions, no fixtures).

The forms follow the public record: ``Aanhangselnummer`` ``232401178`` is published as
``ah-tk-20232024-1178`` (the derivation of ``openkamer/tkapi``, ``tkapi/util/document.py``, and
a test of ``fabeerens/markdown-converter``: ``242501244`` -> ``ah-tk-20242025-1244``); question
sets as ``kv-tk-<zaak>``; newer publications as ``ah-<serial>``, PDF only.
"""

from __future__ import annotations

import pytest

from rag.opendata.ids import (
    OfficialUrls,
    aanhangselnummer,
    ah_id,
    canonical_id,
    official_urls,
    vergaderjaar,
)

BASE = "https://zoek.officielebekendmakingen.nl"


@pytest.mark.parametrize(("number", "house", "expected"), [
    ("232401178", "tk", "ah-tk-20232024-1178"),
    ("242501244", "tk", "ah-tk-20242025-1244"),
    ("080900001", "tk", "ah-tk-20082009-1"),
    ("999900012", "tk", None),  # 1999-1999: not a vergaderjaar
    ("990000012", "tk", "ah-tk-19992000-12"),
    ("959600300", "ek", "ah-ek-19951996-300"),
    (" 232401178 ", "tk", "ah-tk-20232024-1178"),
    ("232400000", "tk", None),
    ("2324011", "tk", None),
    ("23240117a", "tk", None),
    ("", "tk", None),
    (None, "tk", None),
    ("232401178", "xx", None),
])
def test_aanhangselnummer_to_id(number: str | None, house: str, expected: str | None) -> None:
    assert ah_id(number, house) == expected


@pytest.mark.parametrize("doc_id", ["ah-tk-20232024-1178", "ah-ek-20232024-12",
                                    "ah-tk-20082009-1", "ah-tk-20232024-10000"])
def test_id_to_aanhangselnummer_round_trips(doc_id: str) -> None:
    number = aanhangselnummer(doc_id)
    assert number is not None and len(number) == 9
    assert ah_id(number, doc_id[3:5]) == doc_id


def test_vergaderjaar_of_an_id() -> None:
    assert vergaderjaar("ah-tk-20232024-1178") == "2023-2024"
    assert vergaderjaar("ah-1234567") is None
    assert vergaderjaar("kv-tk-2024Z18435") is None


@pytest.mark.parametrize(("doc_id", "canonical"), [
    ("ah-tk-20232024-1178", "ah-tk-20232024-1178"),
    ("AH-TK-20232024-1178", "ah-tk-20232024-1178"),
    ("ah-ek-20232024-5", "ah-ek-20232024-5"),
    ("kv-tk-2024Z18435", "kv-tk-2024Z18435"),
    ("KV-TK-2024z18435", "kv-tk-2024Z18435"),
    ("ah-1234567", "ah-1234567"),
    ("ah-tk-20232025-1178", None),  # years not consecutive
    ("ah-tk-20232024-01178", None),  # leading zero: not how ids are written
    ("ah-tk-20232024-", None),
    ("kst-36600-VII-1", None),
    ("ah-12", None),
    ("my-notes", None),
    ("", None),
])
def test_canonical_ids(doc_id: str, canonical: str | None) -> None:
    assert canonical_id(doc_id) == canonical


def test_official_urls_of_an_answer_document() -> None:
    assert official_urls("ah-tk-20232024-1178") == OfficialUrls(
        html=f"{BASE}/ah-tk-20232024-1178.html", pdf=f"{BASE}/ah-tk-20232024-1178.pdf",
        xml=f"{BASE}/ah-tk-20232024-1178.xml")


def test_official_urls_of_the_eerste_kamer_and_of_a_question_set() -> None:
    assert official_urls("ah-ek-20232024-7").html == f"{BASE}/ah-ek-20232024-7.html"
    kv = official_urls("kv-tk-2024Z18435")
    assert kv is not None and kv.xml == f"{BASE}/kv-tk-2024Z18435.xml"


def test_newer_serial_ids_are_pdf_only() -> None:
    urls = official_urls("ah-1234567")
    assert urls == OfficialUrls(html=f"{BASE}/ah-1234567.html", pdf=f"{BASE}/ah-1234567.pdf",
                                xml=None)


def test_ids_that_are_not_official_have_no_urls() -> None:
    for doc_id in ("my-notes", "ah-tk-20232024-2096-copy", "2024D12345", ""):
        assert official_urls(doc_id) is None


def test_the_base_url_can_be_a_mirror() -> None:
    urls = official_urls("ah-tk-20232024-1178", "http://mirror.local/koop/")
    assert urls is not None and urls.pdf == "http://mirror.local/koop/ah-tk-20232024-1178.pdf"


def test_ids_module_is_dependency_free() -> None:
    import subprocess
    import sys

    code = ("import sys, rag.opendata.ids; "
            "print(sorted(m for m in ('httpx', 'click', 'numpy', 'lxml') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
