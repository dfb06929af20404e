"""Dense scores from candidates: exact cosines for the passages a coarse index and BM25 name,
the lowest cosine found for every other passage.

The hybrid ranking (`rag.search.rank.combine`) wants a dense score for every row, scaled
between the lowest and the highest cosine. With a coarse index (`rag.store.coarse`, large
indexes only) the searcher scores exactly: the IVF top-N nearest the question, the BM25
top-N (a longer list: equal texts tie), the few passages farthest from the question (so
the lowest cosine, and with it the scaling, stays that of exact search) and the fixed
sample of rows the relevance features take their statistics from
(`rag.search.relevance.statistic_rows`, so "nothing found" is decided as in exact search).
Every other row gets that lowest cosine: it can still rank on its BM25 score, never on a
dense score it was not given.

The coarse index comes in through `CoarseSearch`, so ranking imports no storage.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from rag.search.relevance import statistic_rows

CANDIDATES = 400  # IVF top-N scored exactly per question
# BM25 top-N scored exactly: many more, as they cost only a gather of their rows, and
# passages of equal text tie in BM25, so a short list cuts ties arbitrarily (at a million
# passages, hybrid recall@10 against exact search: 0.887 with 400, 0.970 with 10,000).
LEXICAL_CANDIDATES = 10_000


class CoarseSearch(Protocol):
    """What candidate scoring needs of a coarse index (`rag.store.coarse.CoarseIndex`)."""

    def nearest(self, query: np.ndarray, n: int, keep: np.ndarray | None) -> np.ndarray:
        """Rows of (about) the ``n`` passages nearest ``query`` among the rows ``keep`` allows."""
        ...

    def farthest(self, query: np.ndarray, keep: np.ndarray | None) -> np.ndarray:
        """Rows of a few passages least like ``query`` among the rows ``keep`` allows."""
        ...


def candidate_dense(vectors: np.ndarray, coarse: CoarseSearch, query: np.ndarray,
                    lexical: np.ndarray | None, keep: np.ndarray | None) -> np.ndarray:
    """One dense score per row of ``vectors``: exact for the candidates (see module)."""
    query = np.asarray(query, dtype=np.float32)
    parts = [coarse.nearest(query, CANDIDATES, keep), coarse.farthest(query, keep),
             statistic_rows(len(vectors), keep)]
    if lexical is not None:
        parts.append(_best_lexical(lexical, keep, LEXICAL_CANDIDATES))
    rows = np.unique(np.concatenate(parts).astype(np.int64))
    if not len(rows):  # the filter keeps no passage
        return np.full(len(vectors), -1.0, dtype=np.float32)
    exact = np.asarray(vectors[rows] @ query, dtype=np.float32)
    dense = np.full(len(vectors), exact.min(), dtype=np.float32)
    dense[rows] = exact
    return dense


def _best_lexical(lexical: np.ndarray, keep: np.ndarray | None, n: int) -> np.ndarray:
    """Rows of the ``n`` best BM25 scores among the kept rows with any word in common."""
    scores = lexical if keep is None else np.where(keep, lexical, 0.0)
    matched = np.flatnonzero(scores > 0)
    if len(matched) > n:
        matched = matched[np.argpartition(-scores[matched], n - 1)[:n]]
    return matched
