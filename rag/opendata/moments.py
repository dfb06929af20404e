"""Moments as the Tweede Kamer's OData service writes them, and as fetch writes them back.

The service writes ``DateTimeOffset`` values in two forms (recorded rows of
``tommyvanderwal/motiematcher``, see ``tests/data/opendata/README.md``):

- local time with an offset and up to 3 decimals: ``GewijzigdOp``
  ``"2025-09-29T10:13:06.62+02:00"``, and every ``Datum``, which is local midnight
  (``"2024-06-03T00:00:00+02:00"``): 22:00 or 23:00 UTC the day before;
- UTC with up to 7 decimals (.NET's 100 ns ticks): ``ApiGewijzigdOp``
  ``"2025-09-29T08:13:18.7889514Z"``.

A :func:`stamp` is such a value in one exact form, UTC with 7 decimals
(``"2025-09-29T08:13:18.7889514Z"``): two stamps compare as strings in time order, no tick
is lost (Python's ``datetime`` keeps only 6 decimals), and a stamp is a valid OData literal
that names the very value the service sent. Fetch keeps its cursor and pages its listing on
stamps of ``ApiGewijzigdOp``.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from rag.errors import FetchError

# The dates of the Tweede Kamer are days in Dutch time (``Datum`` is local midnight).
DUTCH_TIME = ZoneInfo("Europe/Amsterdam")
_MOMENT = re.compile(r"^(?P<head>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2})?)"
                     r"(?:\.(?P<fraction>\d{1,7})\d*)?(?P<zone>Z|[+-]\d{2}:\d{2})?$", re.I)


def _split(text: str) -> tuple[datetime, str]:
    """The moment to the second (aware, UTC), and its decimals padded to 7."""
    m = _MOMENT.match(text.strip())
    if not m:
        raise FetchError(f"unreadable timestamp {text!r}")
    zone = m["zone"] or "Z"
    try:
        moment = datetime.fromisoformat(m["head"] + ("+00:00" if zone in "Zz" else zone))
    except ValueError as exc:
        raise FetchError(f"unreadable timestamp {text!r}") from exc
    return moment.astimezone(UTC), (m["fraction"] or "").ljust(7, "0")


def parse_datetime(text: str) -> datetime:
    """A timestamp as the API writes it (offset or ``Z``, up to 7 decimals) as aware UTC,
    to the microsecond; a value without an offset is taken as UTC."""
    moment, fraction = _split(text)
    return moment.replace(microsecond=int(fraction[:6]))


def stamp(text: str) -> str:
    """The exact UTC form of a timestamp (see the module docstring)."""
    moment, fraction = _split(text)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{fraction}Z"


def stamp_of(moment: datetime) -> str:
    """The stamp of an aware ``datetime``."""
    return f"{moment.astimezone(UTC):%Y-%m-%dT%H:%M:%S}.{moment.microsecond:06d}0Z"


def earlier(stamp_text: str, by: timedelta) -> str:
    """The stamp ``by`` before ``stamp_text`` (to the microsecond)."""
    return stamp_of(parse_datetime(stamp_text) - by)


def day_start(day: date) -> str:
    """The OData literal, in UTC, of the moment ``day`` begins in Dutch time: what a
    ``Datum`` of that day equals (``2024-03-31`` -> ``2024-03-30T23:00:00Z``,
    ``2024-07-01`` -> ``2024-06-30T22:00:00Z``)."""
    local = datetime(day.year, day.month, day.day, tzinfo=DUTCH_TIME)
    return f"{local.astimezone(UTC):%Y-%m-%dT%H:%M:%S}Z"
