"""Staff judgements of the chat's hits: stored in SQLite, exported as a gold file, counted.

Every click in the chat is one row (:class:`Judgement`): 👍 or 👎 on a hit (with an optional
reason), "geen van deze" on a whole reply, or the withdrawal of an earlier 👍/👎. A row keeps
what is needed to use it later without the chat: the question and filters as searched, the
hit's document and vraag numbers, its rank, score and calibrated relevance, the model and
index generation, the user (when logged in), the browser session and the time (UTC).

The database (by default ``feedback.sqlite`` in the index folder, which a build never
deletes: it removes only what its register lists) runs in WAL mode with a busy timeout, so
many chat sessions, threads or processes can write at once; each write is one short
transaction on a connection of its own.

From judgements to gold questions (`gold_lines`), per question (compared without case and
extra spaces), taking for each person (user, else session) only their latest judgement of
each hit:

- 👍 makes that vraag relevant: the question becomes a gold line with the vraag most people
  gave a 👍 (ties: the one shown highest), of kind ``topical`` (typed as staff type);
- "geen van deze" makes the question ``unanswerable``, unless someone gave a 👍 to a hit of
  it, and only when no filter was set (with filters the answer may lie outside them);
- 👎, with or without a reason, gives no gold line: it says what is wrong, not what is right.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sqlite3
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from rag.errors import RagError

FEEDBACK_FILE = "feedback.sqlite"
REASONS = ("verkeerde vraag", "verouderd", "niet relevant")  # the reasons offered with 👎
MAX_REASON_CHARS = 500  # a free-text reason is a remark, not an essay
_SCHEMA_VERSION = 1
_BUSY_MS = 30_000  # how long a write waits for another writer before it fails
_COLUMNS = ("time", "verdict", "reason", "question", "filters", "doc_id", "vraag", "rank",
            "score", "relevance", "model", "generation", "user", "session")


class FeedbackError(RagError):
    """The feedback database cannot be opened, read or written."""


class Verdict(StrEnum):
    """What a judgement says."""

    UP = "up"  # 👍: this hit answers the question
    DOWN = "down"  # 👎: it does not (a reason may say why)
    NONE = "none"  # "geen van deze": no hit of the reply answers it
    WITHDRAWN = "withdrawn"  # an earlier 👍/👎 of this hit was taken back


@dataclass(frozen=True)
class Judgement:
    """One click in the chat, with everything needed to use it without the chat."""

    verdict: Verdict
    question: str  # as searched (cleaned)
    filters: Mapping[str, str] = field(default_factory=dict)  # only the filters that were set
    doc_id: str | None = None  # None for "geen van deze"
    vraag: tuple[int, ...] = ()
    rank: int | None = None
    score: float | None = None
    relevance: float | None = None
    reason: str | None = None
    model: str = ""
    generation: str = ""  # the index generation folder the hit came from
    user: str | None = None  # the login name, None without login
    session: str | None = None  # the browser session
    time: str = ""  # ISO 8601, UTC; filled in when recorded

    @property
    def asker(self) -> str:
        """Who judged: the user, else the session (one person, for counting votes)."""
        return f"user:{self.user}" if self.user else f"session:{self.session or ''}"


class FeedbackStore:
    """The feedback database at ``path``, created with its folder unless ``create`` is false
    (then a missing database is a `FeedbackError`: reading never leaves an empty one behind).
    """

    def __init__(self, path: Path, create: bool = True) -> None:
        self.path = path
        if not create and not path.is_file():
            raise FeedbackError(f"no feedback database at {path}: the chat writes it when "
                                "staff judge a hit (or pass --feedback FILE)")
        with self._connection() as conn:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS judgement ("
                " id INTEGER PRIMARY KEY, time TEXT NOT NULL, verdict TEXT NOT NULL,"
                " reason TEXT, question TEXT NOT NULL, filters TEXT NOT NULL, doc_id TEXT,"
                " vraag TEXT NOT NULL, rank INTEGER, score REAL, relevance REAL,"
                " model TEXT NOT NULL, generation TEXT NOT NULL, user TEXT, session TEXT)")
            conn.execute(f"PRAGMA user_version = {_SCHEMA_VERSION}")

    @contextlib.contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        """A connection of its own for one transaction; every SQLite or file error becomes a
        `FeedbackError` naming the file."""
        conn = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=_BUSY_MS / 1000)
            conn.execute(f"PRAGMA busy_timeout = {_BUSY_MS}")
            conn.execute("PRAGMA journal_mode = WAL")
            with conn:  # one transaction: committed on success, rolled back on error
                yield conn
        except (sqlite3.Error, OSError) as exc:
            raise FeedbackError(f"feedback database {self.path}: {exc}; use --feedback FILE "
                                "for a place this process may write") from None
        finally:
            if conn is not None:
                conn.close()

    def record(self, judgement: Judgement) -> int:
        """Store one judgement (its time set now when empty); returns its row id."""
        j = judgement
        reason = (j.reason or "").strip()[:MAX_REASON_CHARS] or None
        row = (j.time or now(), Verdict(j.verdict).value, reason, j.question,
               json.dumps(dict(j.filters), ensure_ascii=False, sort_keys=True), j.doc_id,
               json.dumps(list(j.vraag)), j.rank, j.score, j.relevance, j.model,
               j.generation, j.user, j.session)
        with self._connection() as conn:
            cursor = conn.execute(f"INSERT INTO judgement ({', '.join(_COLUMNS)}) "
                                  f"VALUES ({', '.join('?' * len(_COLUMNS))})", row)
            return int(cursor.lastrowid or 0)

    def judgements(self) -> list[Judgement]:
        """Every stored judgement, oldest first."""
        with self._connection() as conn:
            rows = conn.execute(f"SELECT {', '.join(_COLUMNS)} FROM judgement "
                                "ORDER BY time, id").fetchall()
        return [_judgement(dict(zip(_COLUMNS, row, strict=True))) for row in rows]


def now() -> str:
    """The current time as stored: ISO 8601 in UTC, to the microsecond."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _judgement(row: dict[str, Any]) -> Judgement:
    return Judgement(
        verdict=Verdict(row["verdict"]), question=row["question"],
        filters=json.loads(row["filters"]), doc_id=row["doc_id"],
        vraag=tuple(json.loads(row["vraag"])), rank=row["rank"], score=row["score"],
        relevance=row["relevance"], reason=row["reason"], model=row["model"],
        generation=row["generation"], user=row["user"], session=row["session"],
        time=row["time"])


def question_key(question: str) -> str:
    """How questions are compared: without case and extra spaces."""
    return " ".join(question.split()).casefold()


def _latest(judgements: Iterable[Judgement]) -> dict[str, list[Judgement]]:
    """Per question, each person's latest judgement of each hit and of the reply as a whole
    (a later click on the same hit replaces an earlier one)."""
    latest: dict[tuple[str, str, object], Judgement] = {}
    for j in judgements:  # oldest first: later ones overwrite
        target = (j.doc_id, j.vraag) if j.verdict is not Verdict.NONE else "reply"
        latest[(question_key(j.question), j.asker, target)] = j
    grouped: dict[str, list[Judgement]] = defaultdict(list)
    for (key, _asker, _target), j in latest.items():
        grouped[key].append(j)
    return grouped


def gold_lines(judgements: list[Judgement]) -> list[dict[str, Any]]:
    """The gold questions the judgements give, in the form `rag eval --gold` reads (the
    rules are in this module's docstring), ordered by when each question was first judged."""
    first: dict[str, Judgement] = {}
    for j in judgements:
        first.setdefault(question_key(j.question), j)
    grouped = _latest(judgements)
    lines = []
    for key, j0 in sorted(first.items(), key=lambda item: item[1].time):
        current = grouped.get(key, [])
        ups = [j for j in current if j.verdict is Verdict.UP and j.doc_id]
        ident = "fb-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:12]
        if ups:
            votes = Counter((j.doc_id, j.vraag) for j in ups)
            best_rank = {unit: min(j.rank or 10**6 for j in ups if (j.doc_id, j.vraag) == unit)
                         for unit in votes}
            doc_id, vraag = min(votes, key=lambda u: (-votes[u], best_rank[u], u))
            lines.append({"id": ident, "question": j0.question, "doc_id": doc_id,
                          "vraag": list(vraag), "kind": "topical"})
        elif any(j.verdict is Verdict.NONE and not j.filters for j in current):
            lines.append({"id": ident, "question": j0.question, "doc_id": None, "vraag": [],
                          "kind": "unanswerable"})
    return lines


def export_gold(judgements: list[Judgement], out: Path) -> list[dict[str, Any]]:
    """Write `gold_lines` to ``out`` as JSON Lines (replacing it whole); returns the lines."""
    lines = gold_lines(judgements)
    tmp = out.with_name(f".{out.name}.tmp")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines),
                       encoding="utf-8")
        tmp.replace(out)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise FeedbackError(f"cannot write {out}: {exc.strerror or exc}") from None
    return lines


@dataclass(frozen=True)
class FeedbackStats:
    """Counts over the stored judgements (every row, withdrawn ones included)."""

    judgements: int
    by_verdict: dict[str, int]
    by_reason: dict[str, int]  # the reasons given with 👎
    questions: int  # distinct questions judged
    up_at_rank_1: int  # questions whose first hit someone (still) gives a 👍

    @property
    def share_up_at_rank_1(self) -> float:
        """``up_at_rank_1`` over ``questions`` (0 without questions)."""
        return self.up_at_rank_1 / self.questions if self.questions else 0.0


def stats(judgements: list[Judgement]) -> FeedbackStats:
    """Counts of judgements and the share of questions with a 👍 on the hit shown first."""
    by_verdict = Counter(j.verdict.value for j in judgements)
    by_reason = Counter(j.reason for j in judgements if j.verdict is Verdict.DOWN and j.reason)
    grouped = _latest(judgements)
    up_first = sum(1 for current in grouped.values()
                   if any(j.verdict is Verdict.UP and j.rank == 1 for j in current))
    return FeedbackStats(len(judgements), {v.value: by_verdict.get(v.value, 0) for v in Verdict},
                         dict(by_reason.most_common()), len(grouped), up_first)
