"""Score fusion: lexical and dense scores over the same passages become one ranking.

Pure functions over score arrays (one score per passage row), so they are tested against
hand-computed values and shared by the searcher and the evaluation.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def ranks(scores: np.ndarray) -> np.ndarray:
    """1-based rank of every row by descending score; ties keep row order."""
    order = np.argsort(-scores, kind="stable")
    out = np.empty(len(scores), dtype=np.int64)
    out[order] = np.arange(1, len(scores) + 1)
    return out


def rrf(score_arrays: Sequence[np.ndarray], k: float = 60.0,
        weights: Sequence[float] | None = None) -> np.ndarray:
    """Reciprocal rank fusion: ``sum_i w_i / (k + rank_i(row))`` for every row.

    Rows whose score is zero in a lexical run (no query word in common) still get a rank,
    but below every row that matched, which is what RRF intends.
    """
    weights = weights if weights is not None else [1.0] * len(score_arrays)
    if len(weights) != len(score_arrays):
        raise ValueError("one weight per score array")
    fused = np.zeros(len(score_arrays[0]), dtype=np.float64)
    for scores, weight in zip(score_arrays, weights, strict=True):
        fused += weight / (k + ranks(scores))
    return fused


def max_normalise(scores: np.ndarray) -> np.ndarray:
    """Scores divided by the best one (all zeros stay zeros): the top row scores 1."""
    top = float(scores.max(initial=0.0))
    return scores / top if top > 0 else np.zeros_like(scores, dtype=np.float64)


def minmax_normalise(scores: np.ndarray) -> np.ndarray:
    """Scores mapped linearly onto [0, 1] (a constant array maps to zeros)."""
    if len(scores) == 0:
        return np.zeros(0, dtype=np.float64)
    low, high = float(scores.min()), float(scores.max())
    if high <= low:
        return np.zeros_like(scores, dtype=np.float64)
    return (scores - low) / (high - low)


def weighted_sum(dense: np.ndarray, lexical: np.ndarray, dense_weight: float) -> np.ndarray:
    """``w · minmax(dense) + (1 − w) · max_normalise(lexical)`` for every row.

    Dense cosines of e5 crowd into a narrow band (about 0.75–0.90), so they are stretched
    over the candidates; BM25 scores start at zero, so dividing by the best keeps
    "no word in common" at zero.
    """
    if not 0.0 <= dense_weight <= 1.0:
        raise ValueError("dense_weight must lie in [0, 1]")
    return (dense_weight * minmax_normalise(dense)
            + (1.0 - dense_weight) * max_normalise(lexical))
