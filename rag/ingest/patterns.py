"""Patterns more than one reader needs, defined once: vraag numbers, zaak and document ids,
vergaderjaren and written dates."""

from __future__ import annotations

import re

from rag.dutch import MONTHS

# A list of vraag numbers as the documents write them: "3", "4 en 5", "1,2,3,4 en 5", "4-7",
# "2 t/m 4"; `rag.ingest.parse.parse_numbers` expands it.
NUMBERS = r"\d{1,3}(?:\s*(?:,|en|t/m|tot en met|[-–])\s*\d{1,3})*"
# A zaak (question set) number: "2024Z18435" (sometimes written with a space: "2024Z 18435").
ZAAK = re.compile(r"\b(\d{4})Z\s?(\d{5})\b")
# The publication ids of officielebekendmakingen.nl, each defined here once (`rag.opendata.ids`
# derives and checks them). An Aanhangsel id: "ah-tk-20232024-2096" (Tweede Kamer) or
# "ah-ek-…" (Eerste Kamer); groups: the two years of the vergaderjaar, the number (no
# leading zero, as published).
OFFICIAL_ID = re.compile(r"^ah-(?:tk|ek)-(\d{4})(\d{4})-([1-9]\d{0,4})$")
# A newer serial Aanhangsel id, published as PDF only: "ah-1271549".
SERIAL_ID = re.compile(r"^ah-([1-9]\d{5,8})$")
# A question set as published: "kv-tk-2024Z18435" (house, year, number).
QUESTION_SET_ID = re.compile(r"^kv-(tk|ek)-(\d{4})Z(\d{5})$", re.I)
# Any official publication id on a line of its own (page footers): "ah-tk-…", "kv-tk-2024Z…".
PUBLICATION_ID = re.compile(r"^[a-z]{2}-[te]k-\S+$")
YEARS = re.compile(r"(\d{4})\s*[–-]\s*(\d{4})")
VERGADERJAAR = re.compile(r"[Vv]ergaderjaar\s+" + YEARS.pattern)
# A written date: "2 september 2024" (PDF text sometimes glues it: "2september2024").
DATE = r"(\d{1,2})\s*(" + "|".join(MONTHS) + r")\s*(\d{4})"
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def zaak_number(text: str) -> str | None:
    """The first zaak number in ``text``, in its canonical form (``2024Z18435``)."""
    m = ZAAK.search(text)
    return f"{m.group(1)}Z{m.group(2)}" if m else None
