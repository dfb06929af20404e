"""The chat's controller: one question in, one reply out, shared by every session of a process.

It holds no search logic of its own: every question goes to `Searcher.ask`, exactly as
`rag ask` does, and `rag.render` turns the answer into the reply. Every failure becomes a
readable message in the chat, never a trace (the trace goes to the server log).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from rag.cite import long_citation
from rag.errors import QueryError, RagError
from rag.render import esc, notice_html, plain_reference, to_html
from rag.search.filters import Filter
from rag.search.searcher import Searcher
from rag.types import Hit

log = logging.getLogger("vraagbaak.chat")
T = TypeVar("T")

ALL_YEARS = "Alle vergaderjaren"
ALL_MINISTRIES = "Alle ministeries"
DEFAULT_K = 5
MAX_K = 20
ECHO_CHARS = 500  # a pasted essay is echoed cut, so the chat stays readable
ERROR_TEXT = ("Er ging iets mis bij het zoeken. Probeer het nog eens; blijft het misgaan, "
              "meld het dan aan de beheerder (details staan in het serverlogboek).")


@dataclass(frozen=True)
class Reply:
    """What one question produces: the chat message and, for the side panel, the hits shown."""

    html: str
    hits: tuple[Hit, ...] = ()


class Chat:
    """The searcher behind the chat, shared by every session of this process."""

    def __init__(self, searcher: Searcher) -> None:
        self.searcher = searcher
        # One question at a time per process: the embedder loads its model lazily, and two
        # first questions at once must not load it twice.
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        """Load the model now, so the first person to ask does not wait for it."""
        with self._lock:
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
        try:
            where = Filter(vergaderjaar=None if year in (None, "", ALL_YEARS) else year,
                           ministry=None if ministry in (None, "", ALL_MINISTRIES) else ministry)
            with self._lock:
                answer = self.searcher.ask(message, k=int(k), where=where)
        except QueryError as exc:
            return Reply(notice_html("Deze vraag kan ik niet zoeken", str(exc)))
        except RagError as exc:
            log.error("search failed: %s", exc)
            return Reply(notice_html("Zoeken lukte niet", str(exc)))
        except Exception:
            log.exception("unexpected error while answering %r", str(message)[:200])
            return Reply(notice_html("Er ging iets mis", ERROR_TEXT))
        return Reply(to_html(answer), () if answer.abstained else answer.hits)

    # -- shared with the "Nieuwe Kamervragen" tab (rag.dossier.desk) --------------------

    def run_exclusive(self, work: Callable[[], T]) -> T:
        """Run ``work`` while no question is being answered: one searcher, one model."""
        with self._lock:
            return work()


def echo(message: Any) -> str:
    """The user's message as shown in the chat: escaped, and cut when very long."""
    text = message if isinstance(message, str) else ""
    if len(text) > ECHO_CHARS:
        text = f"{text[:ECHO_CHARS]} … ({len(text)} tekens)"
    return esc(text) if text.strip() else "<em>(lege vraag)</em>"


def detail(hits: tuple[Hit, ...], choice: int | None) -> tuple[str, str]:
    """The long citation and the whole vraag and antwoord of the chosen hit (plain text)."""
    if not hits or choice is None or not 0 <= choice < len(hits):
        return "", ""
    hit = hits[choice]
    return long_citation(hit.doc.doc_id, hit.doc.meta, hit.chunk.vraag), plain_reference(hit)
