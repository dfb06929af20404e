"""The chat's controller: one question in, one reply out, shared by every session of a process.

It holds no search logic of its own: every question goes to `Searcher.ask`, exactly as
`rag ask` does, and `rag.render` turns the answer into the reply (one message per hit).
Every failure becomes a readable message in the chat, never a trace (the trace goes to the
server log). The judgements staff give (👍/👎 per hit, "geen van deze" per reply) go to the
`rag.feedback` store with the question, filters and hit they were about.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from rag.cite import compact_id, long_citation
from rag.errors import QueryError, RagError
from rag.feedback import REASONS, FeedbackError, FeedbackStore, Judgement, Verdict
from rag.render import esc, notice_html, plain_reference, reply_messages
from rag.search.filters import Filter
from rag.search.live import LiveSearcher
from rag.search.searcher import Searcher
from rag.types import Hit

log = logging.getLogger("vraagbaak.chat")

ALL_YEARS = "Alle vergaderjaren"
ALL_MINISTRIES = "Alle ministeries"
DEFAULT_K = 5
MAX_K = 20
ECHO_CHARS = 500  # a pasted essay is echoed cut, so the chat stays readable
# Gradio sends a reason picked from the feedback menu twice; the same judgement of the same
# hit by the same session within this many seconds is one click.
REPEAT_SECONDS = 2.0
MAX_WAITING = 36  # questions in progress at once before a new one is asked to wait
# (below the app's handler threads, `app.HANDLER_THREADS`, so the notice can fire at all)
BUSY_TEXT = ("Er worden nu veel vragen tegelijk gesteld. Probeer het over een ogenblik "
             "opnieuw; uw vraag staat nog in het invoervak.")
ERROR_TEXT = ("Er ging iets mis bij het zoeken. Probeer het nog eens; blijft het misgaan, "
              "meld het dan aan de beheerder (details staan in het serverlogboek).")


@dataclass(frozen=True)
class Reply:
    """What one question produces: the chat messages (one per hit shown, or one notice), the
    hits shown, the question as searched and the filters that were set.

    ``refused`` is true when the question itself could not be searched (empty, too long):
    the chat then leaves it in the input box to be mended.
    """

    messages: tuple[str, ...]
    hits: tuple[Hit, ...] = ()
    question: str = ""
    filters: dict[str, str] = field(default_factory=dict)
    refused: bool = False

    @property
    def html(self) -> str:
        """All messages as one piece of HTML."""
        return "".join(self.messages)


@dataclass(frozen=True)
class Turn:
    """A reply with hits as it stands in one session's conversation: which chat messages show
    which hit, so a judgement of a message finds its hit."""

    question: str
    filters: dict[str, str]
    hits: tuple[Hit, ...]
    first_message: int  # index in the conversation of the message showing hit 1

    def hit_at(self, message: int) -> Hit | None:
        """The hit shown by conversation message ``message``, if this turn shows it."""
        offset = message - self.first_message
        return self.hits[offset] if 0 <= offset < len(self.hits) else None


def turn_of(turns: list[Turn], message: int) -> tuple[Turn, Hit] | None:
    """The turn and hit that conversation message ``message`` shows (None: not a hit)."""
    for turn in turns:
        hit = turn.hit_at(message)
        if hit is not None:
            return turn, hit
    return None


def verdict_of(liked: object) -> tuple[Verdict, str | None]:
    """Gradio's like value as a judgement: True 👍, False 👎, a reason (one of `REASONS`,
    any case) is 👎 with that reason, and "" (a click that undid the choice) a withdrawal."""
    if liked is True:
        return Verdict.UP, None
    if liked is False:
        return Verdict.DOWN, None
    text = str(liked or "").strip()
    if not text:
        return Verdict.WITHDRAWN, None
    reason = text.casefold()
    return Verdict.DOWN, reason if reason in REASONS else text


class Chat:
    """The searcher behind the chat, shared by every session of this process; ``feedback``
    stores judgements (None: the chat takes none).

    Questions of many sessions are answered at once (no lock around the search: the
    searcher is safe to share, and an embedder wrapped in `rag.models.batching` embeds the
    questions that arrive together in one call). With a `LiveSearcher` the chat follows its
    index folder and answers from a new generation as soon as a build swaps it in. Beyond
    `max_waiting` questions in progress, a new one gets a polite "busy" notice at once
    (and stays in the input box) instead of waiting in an ever longer line.
    """

    def __init__(self, searcher: Searcher | LiveSearcher, feedback: FeedbackStore | None = None,
                 max_waiting: int = MAX_WAITING) -> None:
        self._source = searcher
        self.feedback = feedback
        self.max_waiting = max_waiting
        self._in_progress = 0
        self._counter = threading.Lock()
        self._recent: dict[tuple, tuple[Verdict, str | None, float]] = {}
        self._recent_lock = threading.Lock()

    @property
    def searcher(self) -> Searcher:
        """The searcher to answer from now (the newest generation, when following one)."""
        source = self._source
        return source.current() if isinstance(source, LiveSearcher) else source

    def warm_up(self) -> None:
        """Load the model now, so the first person to ask does not wait for it."""
        self.searcher.embedder.embed_queries(["opwarmen"])

    def years(self) -> list[str]:
        """Vergaderjaren present in the index, newest first."""
        docs = self.searcher.index.documents.values()
        return sorted({d.meta.vergaderjaar for d in docs if d.meta.vergaderjaar}, reverse=True)

    def ministries(self) -> list[str]:
        """The ministries in the index's metadata, alphabetically: the very values the
        ministry filter matches on."""
        docs = self.searcher.index.documents.values()
        return sorted({m for d in docs for m in d.meta.ministries}, key=str.casefold)

    def reply(self, message: Any, k: int = DEFAULT_K, year: str | None = None,
              ministry: str | None = None) -> Reply:
        """Answer one chat message; every failure becomes a readable message, never a trace."""
        filters = {name: value for name, value, everything in (
            ("vergaderjaar", year, ALL_YEARS), ("ministry", ministry, ALL_MINISTRIES))
            if value not in (None, "", everything)}
        with self._counter:
            busy = self._in_progress >= self.max_waiting
            if not busy:
                self._in_progress += 1
        if busy:
            log.warning("busy: %d questions in progress, one more asked to wait",
                        self._in_progress)
            return Reply((notice_html("Het is nu erg druk", BUSY_TEXT),), filters=filters,
                         refused=True)
        try:
            where = Filter(vergaderjaar=filters.get("vergaderjaar"),
                           ministry=filters.get("ministry"))
            answer = self.searcher.ask(message, k=int(k), where=where)
            messages = tuple(reply_messages(answer))  # rendering can fail on odd data too
        except QueryError as exc:
            return Reply((notice_html("Deze vraag kan ik niet zoeken", exc.dutch),),
                         filters=filters, refused=True)
        except RagError as exc:
            log.error("search failed: %s", exc)
            return Reply((notice_html("Zoeken lukte niet", str(exc)),), filters=filters)
        except Exception:
            log.exception("unexpected error while answering %r", str(message)[:200])
            return Reply((notice_html("Er ging iets mis", ERROR_TEXT),), filters=filters)
        finally:
            if not busy:
                with self._counter:
                    self._in_progress -= 1
        return Reply(messages, () if answer.abstained else answer.hits,
                     answer.question, filters)

    def judge(self, turn: Turn, hit: Hit | None, verdict: Verdict, reason: str | None = None,
              user: str | None = None, session: str | None = None) -> bool:
        """Store one judgement of ``hit`` (None: of the whole reply, "geen van deze").

        Returns False when it repeats the judgement just stored (within `REPEAT_SECONDS`),
        which is then not stored again. Raises `FeedbackError` when the chat takes no
        feedback or the store fails.
        """
        if self.feedback is None:
            raise FeedbackError("this chat stores no feedback")
        key = (user, session, turn.question, turn.first_message, hit.rank if hit else None)
        now = time.monotonic()
        with self._recent_lock:
            last = self._recent.get(key)
            if last is not None and last[:2] == (verdict, reason) and now - last[2] < \
                    REPEAT_SECONDS:
                return False
            self._recent[key] = (verdict, reason, now)
            if len(self._recent) > 10_000:  # forget old clicks; repeats come within seconds
                self._recent = {k: v for k, v in self._recent.items()
                                if now - v[2] < REPEAT_SECONDS}
        index = self.searcher.index
        self.feedback.record(Judgement(
            verdict=verdict, question=turn.question, filters=turn.filters,
            doc_id=hit.doc.doc_id if hit else None, vraag=hit.chunk.vraag if hit else (),
            rank=hit.rank if hit else None, score=hit.score if hit else None,
            relevance=hit.relevance if hit else None, reason=reason,
            model=index.manifest.model_id,
            generation=index.generation.name if index.generation else "",
            user=user or None, session=session or None))
        return True


def echo(message: Any) -> str:
    """The user's message as shown in the chat: escaped, and cut when very long."""
    text = message if isinstance(message, str) else ""
    if len(text) > ECHO_CHARS:
        text = f"{text[:ECHO_CHARS]} … ({len(text)} tekens)"
    return esc(text) if text.strip() else "<em>(lege vraag)</em>"


def pick_label(hit: Hit) -> str:
    """The result picker's label: ``1. nr. 2096 · vraag 8``, short enough to show whole."""
    return f"{hit.rank}. {compact_id(hit.doc.doc_id, hit.doc.meta, hit.chunk.vraag)}"


def detail(hits: tuple[Hit, ...], choice: int | None) -> tuple[str, str]:
    """The long citation and the whole vraag and antwoord of the chosen hit (plain text)."""
    if not hits or choice is None or not 0 <= choice < len(hits):
        return "", ""
    hit = hits[choice]
    return long_citation(hit.doc.doc_id, hit.doc.meta, hit.chunk.vraag), plain_reference(hit)
