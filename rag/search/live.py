"""A searcher that follows its index folder: a rebuild is picked up at the next question.

Chat processes serve one index folder, read-only, while `rag build` (or `rag sync`) writes
new generations into it. `LiveSearcher.current` looks at ``current`` before each question
(one ``readlink``); when a new generation has been swapped in, the question that notices
loads it while every other question keeps being answered from the searcher in hand, and
from then on all use the new one. A generation that cannot be loaded (it was replaced again
meanwhile, or is damaged) is logged and the old searcher kept: no question fails for it.
Generations a build deletes stay readable by a process that loaded them (everything a
searcher needs is in memory).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from rag.errors import RagError
from rag.search.searcher import Searcher
from rag.store.index import current_generation

log = logging.getLogger("vraagbaak.search")


class LiveSearcher:
    """The latest generation's searcher; ``load()`` makes one for the folder as it is now."""

    def __init__(self, index_dir: Path, load: Callable[[], Searcher],
                 searcher: Searcher | None = None) -> None:
        self.index_dir = index_dir
        self._load = load
        self._searcher = searcher if searcher is not None else load()
        self._loading = threading.Lock()
        self._failed: Path | None = None  # a generation that would not load: not retried
        self.swaps = 0  # generations picked up since start

    def current(self) -> Searcher:
        """The searcher of the generation in use, after picking up a newer one if the folder
        has one; never raises for the folder's state."""
        searcher = self._searcher
        try:
            latest = current_generation(self.index_dir)
        except OSError:
            return searcher
        if latest in (searcher.index.generation, self._failed) or not self._loading.acquire(
                blocking=False):
            return searcher  # up to date, known bad, or another question is loading it
        try:
            if latest != self._searcher.index.generation:
                fresh = self._load()
                self._searcher = fresh
                self.swaps += 1
                log.info("index %s: now serving generation %s (%d passages)", self.index_dir,
                         latest.name, len(fresh.index.chunks))
        except (RagError, OSError) as exc:
            self._failed = latest
            log.warning("index %s: generation %s not loaded, still serving %s (%s)",
                        self.index_dir, latest.name,
                        getattr(searcher.index.generation, "name", "?"), exc)
        finally:
            self._loading.release()
        return self._searcher
