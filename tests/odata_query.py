"""What an OData ``$filter`` and ``$orderby`` mean, for the local stand-in service.

The stand-in applies the queries fetch sends instead of serving canned pages, so that a test
fails when a query means something other than intended (a date bound a day off, a delta on
the wrong field, a page skipped). Written apart from `rag.opendata` and sharing no code with
it: the meaning is taken from the OData v4 URL conventions, not from the client under test.

Supported, as far as fetch needs it: ``and``, ``or``, ``not``, parentheses; ``eq``, ``ne``,
``gt``, ``ge``, ``lt``, ``le``; ``startswith(Field,'text')``; literals ``'text'`` (``''``
escapes a quote), ``true``, ``false``, ``null``, integers, ``DateTimeOffset`` values
(``2024-01-01T00:00:00Z``, ``…+02:00``, up to 7 decimals) and GUIDs. Comparing a GUID with
``gt``/``ge``/``lt``/``le`` is refused, like an unknown field or a malformed expression: fetch
must not rely on it (see `rag.opendata.keyset`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from functools import total_ordering
from typing import Any

Row = Mapping[str, Any]
Predicate = Callable[[Row], bool]

_TOKEN = re.compile(r"""\s*(?:
    (?P<string>'(?:[^']|'')*')
  | (?P<moment>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,7})?)?(?:Z|[+-]\d{2}:\d{2}))
  | (?P<guid>[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})
  | (?P<number>-?\d+(?![\w-]))
  | (?P<word>[A-Za-z_][\w/]*)
  | (?P<punct>[(),])
)""", re.X)
_MOMENT = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2})?)(?:\.(\d{1,7}))?"
                     r"(Z|[+-]\d{2}:\d{2})$")
_OPS = {"eq", "ne", "gt", "ge", "lt", "le"}


class BadQuery(ValueError):
    """The query is not one the stand-in understands: answered with HTTP 400."""


@total_ordering
class Moment:
    """A DateTimeOffset to the 100 ns tick, comparable whatever its offset."""

    def __init__(self, text: str) -> None:
        m = _MOMENT.match(text)
        if not m:
            raise BadQuery(f"not a DateTimeOffset: {text}")
        zone = "+00:00" if m[3] == "Z" else m[3]
        whole = datetime.fromisoformat(m[1] + zone).astimezone(UTC)
        self.value = Decimal(int(whole.timestamp())) + Decimal("0." + (m[2] or "0"))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Moment) and self.value == other.value

    def __lt__(self, other: Moment) -> bool:
        return self.value < other.value

    def __hash__(self) -> int:
        return hash(self.value)


class Guid(str):
    """A GUID literal or value: equality only."""


def _tokens(text: str) -> list[tuple[str, str]]:
    found, at = [], 0
    while at < len(text):
        m = _TOKEN.match(text, at)
        if not m or m.end() == at:
            if text[at:].strip():
                raise BadQuery(f"cannot read {text[at:at + 20]!r}")
            break
        kind = m.lastgroup
        assert kind is not None
        found.append((kind, m.group(kind)))
        at = m.end()
    return found


def typed(value: Any) -> Any:
    """A row's value as the comparisons see it."""
    if isinstance(value, str) and _MOMENT.match(value):
        return Moment(value)
    if isinstance(value, str) and re.fullmatch(r"[0-9a-fA-F-]{36}", value):
        return Guid(value.lower())
    return value


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.at = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self, expected: str | None = None) -> tuple[str, str]:
        token = self.peek()
        if token is None or (expected is not None and token[1] != expected):
            raise BadQuery(f"expected {expected or 'more'} at token {self.at}")
        self.at += 1
        return token

    def expression(self) -> Predicate:
        left = self.conjunction()
        while self.peek() == ("word", "or"):
            self.take()
            right, first = self.conjunction(), left
            left = lambda row, a=first, b=right: a(row) or b(row)  # noqa: E731
        return left

    def conjunction(self) -> Predicate:
        left = self.unary()
        while self.peek() == ("word", "and"):
            self.take()
            right, first = self.unary(), left
            left = lambda row, a=first, b=right: a(row) and b(row)  # noqa: E731
        return left

    def unary(self) -> Predicate:
        token = self.peek()
        if token == ("word", "not"):
            self.take()
            inner = self.unary()
            return lambda row: not inner(row)
        if token == ("punct", "("):
            self.take()
            inner = self.expression()
            self.take(")")
            return inner
        if token == ("word", "startswith"):
            self.take()
            self.take("(")
            field = self.take()[1]
            self.take(",")
            kind, literal = self.take()
            self.take(")")
            if kind != "string":
                raise BadQuery("startswith needs a string")
            prefix = literal[1:-1].replace("''", "'")
            return lambda row: isinstance(row.get(_known(row, field)), str) \
                and row[field].startswith(prefix)
        return self.comparison()

    def comparison(self) -> Predicate:
        kind, field = self.take()
        if kind != "word":
            raise BadQuery(f"expected a field, found {field}")
        _, op = self.take()
        if op not in _OPS:
            raise BadQuery(f"unknown operator {op}")
        value = self.literal()
        if isinstance(value, Guid) and op not in ("eq", "ne"):
            raise BadQuery(f"{op} is not defined for Edm.Guid")
        return lambda row: _compare(typed(row.get(_known(row, field))), op, value)

    def literal(self) -> Any:
        kind, text = self.take()
        if kind == "string":
            return text[1:-1].replace("''", "'")
        if kind == "moment":
            return Moment(text)
        if kind == "guid":
            return Guid(text.lower())
        if kind == "number":
            return int(text)
        if kind == "word" and text in ("true", "false", "null"):
            return {"true": True, "false": False, "null": None}[text]
        raise BadQuery(f"not a literal: {text}")


def _known(row: Row, field: str) -> str:
    if field not in row:
        raise BadQuery(f"unknown field {field}")
    return field


def _compare(left: Any, op: str, right: Any) -> bool:
    if op == "eq":
        return bool(left == right)
    if op == "ne":
        return bool(left != right)
    if left is None or right is None:
        return False  # null is neither greater nor smaller
    if type(left) is not type(right):
        raise BadQuery(f"cannot compare {type(left).__name__} with {type(right).__name__}")
    return {"gt": left > right, "ge": left >= right, "lt": left < right,
            "le": left <= right}[op]


def parse_filter(text: str | None) -> Predicate:
    """The rows a ``$filter`` keeps (every row for None)."""
    if not text:
        return lambda row: True
    parser = _Parser(text)
    predicate = parser.expression()
    if parser.peek() is not None:
        raise BadQuery(f"unexpected {parser.peek()}")
    return predicate


def sort_rows(rows: list[Row], orderby: str | None) -> list[Row]:
    """Rows in ``$orderby`` order (ascending; null first, as SQL Server sorts)."""
    keys = [k.strip() for k in (orderby or "").split(",") if k.strip()]
    for key in reversed(keys):
        field, _, direction = key.partition(" ")
        if direction not in ("", "asc", "desc"):
            raise BadQuery(f"cannot order by {key}")
        rows = sorted(rows, key=lambda row, f=field: _order_key(typed(row.get(f))),
                      reverse=direction == "desc")
    return rows


def _order_key(value: Any) -> tuple[int, Any]:
    if value is None:
        return (0, 0)
    if isinstance(value, Moment):
        return (1, value.value)
    return (1, value)
