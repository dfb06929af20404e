"""Questions that arrive together are embedded together.

A chat serving a department gets questions from many sessions at once. Embedding each on
its own repeats the per-call overhead of the model for every question; `BatchingEmbedder`
puts the questions of waiting threads into one call instead: whoever arrives while
`LANES` batches are being embedded waits for the next, which takes what is queued by then
(up to `MAX_BATCH`). A lone question is embedded at once, with no added wait.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future

import numpy as np

from rag.models.embed import Embedder, WrappedEmbedder

# Small batches in two lanes: the question encoder gains little from batching (it runs
# texts of like length together only, on one thread each) and much from the second core.
# 32 clients at once (bench/README.md): one lane of 32, 28 questions/s with p95 1.57 s;
# two lanes of 8, 33/s with p95 1.19 s.
MAX_BATCH = 8
LANES = 2  # batches embedded at once, each by one of the waiting threads


class BatchingEmbedder(WrappedEmbedder):
    """An `Embedder` whose question embedding is shared by concurrent callers; passages go
    straight to the wrapped embedder."""

    def __init__(self, inner: Embedder, max_batch: int = MAX_BATCH, lanes: int = LANES) -> None:
        super().__init__(inner)
        self.max_batch = max_batch
        self.lanes = lanes
        self._pending: list[tuple[str, Future[np.ndarray]]] = []
        self._lock = threading.Lock()
        self._leads = 0  # threads embedding batches now
        self.batches: deque[int] = deque(maxlen=10_000)  # recent batch sizes (benchmark)

    def embed_documents(self, texts: Sequence[str],
                        progress: Callable[[int], None] | None = None) -> np.ndarray:
        """Passages: no batching across callers (a build embeds in batches already)."""
        return self.inner.embed_documents(texts, progress)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """The questions' vectors, embedded in one call with those of other waiting threads."""
        futures = []
        with self._lock:
            for text in texts:
                future: Future[np.ndarray] = Future()
                self._pending.append((text, future))
                futures.append(future)
            lead = self._leads < self.lanes
            if lead:
                self._leads += 1
        if lead:  # this thread embeds batches until nobody is waiting
            self._drain()
        return np.stack([f.result() for f in futures]) if futures else np.zeros(
            (0, self.dim), dtype=np.float32)

    def _drain(self) -> None:
        try:
            while True:
                with self._lock:
                    batch, self._pending = (self._pending[: self.max_batch],
                                            self._pending[self.max_batch:])
                    if not batch:
                        self._leads -= 1
                        return
                try:
                    vectors = self.inner.embed_queries([text for text, _ in batch])
                except Exception as exc:  # every waiter hears of it; the next batch runs
                    for _, future in batch:
                        future.set_exception(exc)
                    continue
                self.batches.append(len(batch))
                for (_, future), vector in zip(batch, vectors, strict=True):
                    future.set_result(vector)
        except BaseException as exc:  # interrupted: nobody is left waiting for ever
            with self._lock:
                left, self._pending = self._pending, []
                self._leads -= 1
            for _, future in left:
                future.set_exception(exc)
            raise
