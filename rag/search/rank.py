"""Ranking: dense (cosine), lexical (BM25) and hybrid (fused) scores, and the best rows.

Everything here is a pure function over score arrays with one entry per chunk row; the one
searcher (`rag.search.searcher`) that the CLI, the chat and the evaluation all use calls it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from rag.search.fuse import rrf, weighted_sum


class Retriever(StrEnum):
    """Which scores rank the passages."""

    BM25 = "bm25"
    DENSE = "dense"
    HYBRID = "hybrid"


class Fusion(StrEnum):
    """How hybrid retrieval combines the lexical and dense rankings."""

    RRF = "rrf"  # reciprocal rank fusion
    WEIGHTED = "weighted"  # weighted sum of normalised scores


@dataclass(frozen=True)
class FusionSettings:
    """Hybrid parameters, tuned on gold, self-retrieval and dev pairs together.

    A weighted sum with dense weight 0.7 was best or tied-best on all three sets (RRF with
    k in {10, 60} and weights 0.5–0.7 came second; see eval/README.md for the grid).
    """

    method: Fusion = Fusion.WEIGHTED
    rrf_k: float = 60.0  # RRF only
    dense_weight: float = 0.7  # weight of the dense scores (lexical gets 1 − w)


DEFAULT_FUSION = FusionSettings()


def dense_scores(vectors: np.ndarray, query_vector: np.ndarray) -> np.ndarray:
    """Cosine of one L2-normalised query with every L2-normalised passage row.

    Computed by FAISS's SIMD inner products (one thread, GIL released), not ``vectors @ q``:
    the rows are FAISS's memory-mapped storage, which starts after the file's header at an
    address not even 4-byte aligned, and numpy multiplies unaligned arrays without BLAS —
    153 ms against 47 ms at 300,000 passages (bench/README.md).
    """
    import faiss

    rows = np.ascontiguousarray(vectors, dtype=np.float32)
    query = np.ascontiguousarray(query_vector, dtype=np.float32).reshape(-1)
    if rows.ndim != 2 or rows.shape[1] != query.shape[0]:
        raise ValueError(f"vectors {rows.shape} do not match a query of {query.shape[0]}")
    out = np.empty(rows.shape[0], dtype=np.float32)
    faiss.fvec_inner_products_ny(  # type: ignore[attr-defined]  # in the SWIG module only
        faiss.swig_ptr(out), faiss.swig_ptr(query), faiss.swig_ptr(rows), rows.shape[1],
        rows.shape[0])
    return out


def combine(retriever: Retriever, dense: np.ndarray | None, lexical: np.ndarray | None,
            fusion: FusionSettings = DEFAULT_FUSION) -> np.ndarray:
    """The ranking scores of ``retriever`` from the dense and lexical score arrays."""
    if retriever is Retriever.DENSE:
        return _need(dense, "dense")
    if retriever is Retriever.BM25:
        return _need(lexical, "lexical")
    dense, lexical = _need(dense, "dense"), _need(lexical, "lexical")
    if fusion.method is Fusion.RRF:
        w = fusion.dense_weight
        # Weights are doubled so that w = 0.5 gives plain RRF (1/(k+r) per run).
        return rrf([dense, lexical], k=fusion.rrf_k, weights=[2 * w, 2 * (1 - w)])
    return weighted_sum(dense, lexical, fusion.dense_weight)


def top_rows(scores: np.ndarray, k: int,
             keep: np.ndarray | None = None) -> list[tuple[int, float]]:
    """The ``k`` best (row, score) pairs, best first; ties by row; ``keep`` masks rows out."""
    k = max(k, 0)
    candidates = np.flatnonzero(keep) if keep is not None else np.arange(len(scores))
    if 0 < k < len(candidates):
        # Partial selection instead of sorting every row (36 ms at 300k passages): keep all
        # rows scoring at least the k-th best, so ties at the cut still go by row.
        kth = np.partition(scores[candidates], len(candidates) - k)[len(candidates) - k]
        candidates = candidates[scores[candidates] >= kth]
    rows = candidates[np.argsort(-scores[candidates], kind="stable")]
    return [(int(r), float(scores[r])) for r in rows[:k]]


def confidence(dense: np.ndarray | None, keep: np.ndarray | None = None) -> float:
    """The abstention signal: the best dense cosine of any (kept) passage.

    Chosen on eval/gold.jsonl: e5 cosines are comparable across queries, while rank-fused
    scores are not, and adding a BM25 term did not separate unanswerable questions better
    (see eval/README.md). -inf when there is no dense score or no passage is kept.
    """
    if dense is None or len(dense) == 0:
        return -math.inf
    if keep is not None:
        dense = dense[keep]
    return float(dense.max()) if len(dense) else -math.inf


def _need(scores: np.ndarray | None, name: str) -> np.ndarray:
    if scores is None:
        raise ValueError(f"this retriever needs the {name} scores")
    return scores
