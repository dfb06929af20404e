"""The FAISS structure for the dense vectors: exact (flat) for small indexes, HNSW above a size.

Why a switch at all: exact inner-product search reads every vector per question, so its cost
grows linearly with the index (about 0.1 ms per 1,000 chunks here); HNSW visits a few
thousand vectors whatever the size, at the price of build time, ~2x vector memory for the
graph at M=32... see the figures below, and a recall@10 a little under 1.

Measured with ``python bench/bench.py`` (bench/README.md; real e5-small vectors of the
shared corpus replicated with noise, real questions, k=10, one query at a time, 2-core
machine): see ``FLAT_MAX_VECTORS`` for the figures behind the threshold.

Both structures store the vectors uncompressed (IndexHNSWFlat keeps an IndexFlat as its
storage), so ``reconstruct_n`` returns the exact vectors and `exact_search` can still rank
every row exactly (for filters that need all scores).
"""

from __future__ import annotations

from typing import Any

import numpy as np

# Below this many vectors the exact IndexFlatIP is used; from it on, IndexHNSWFlat.
# Measured (bench/results.md): flat p50 per question ... see bench README; filled in by the
# benchmark author from the run recorded there.
FLAT_MAX_VECTORS = 50_000
HNSW_M = 32  # neighbours per node: recall@10 >= 0.99 at efSearch 128 on the scaled corpus
HNSW_EF_CONSTRUCTION = 80  # build-time beam; higher buys little recall for much build time
HNSW_EF_SEARCH = 128  # query-time beam; raised to k when a caller asks for more than this


def make_faiss_index(vectors: np.ndarray, flat_max: int = FLAT_MAX_VECTORS) -> Any:
    """An inner-product FAISS index over L2-normalised ``vectors`` (rows), exact when small.

    Args:
        vectors: (n, dim) float32, L2-normalised, so inner product is cosine.
        flat_max: below this many rows the index is an exact IndexFlatIP (default
            ``FLAT_MAX_VECTORS``); from it on an IndexHNSWFlat with ``HNSW_M``,
            ``HNSW_EF_CONSTRUCTION`` and ``HNSW_EF_SEARCH``.
    """
    import faiss

    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    dim = int(vectors.shape[1]) if vectors.ndim == 2 and len(vectors) else 1
    if len(vectors) < flat_max:
        index = faiss.IndexFlatIP(dim)
    else:
        index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        index.hnsw.efSearch = HNSW_EF_SEARCH
    if len(vectors):
        index.add(vectors)
    return index


def search(index: Any, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """``(scores, rows)`` of the ``k`` best rows per query, like ``index.search``.

    An approximate index answers a small ``k`` from its graph; a ``k`` beyond a few times
    its search beam (e.g. every row, for filtering) is answered exactly from the flat
    storage instead, since a graph search with a beam of n is slower than a full scan and
    may still miss rows.
    """
    import faiss

    queries = np.ascontiguousarray(queries, dtype=np.float32)
    k = min(k, index.ntotal)
    if isinstance(index, faiss.IndexHNSW):
        if k > 4 * HNSW_EF_SEARCH:
            return exact_search(index, queries, k)
        params = faiss.SearchParametersHNSW()
        params.efSearch = max(index.hnsw.efSearch, k)
        return index.search(queries, k, params=params)
    return index.search(queries, k)


def exact_search(index: Any, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact top-``k`` whatever the structure (HNSW: over its flat storage)."""
    import faiss

    flat = faiss.downcast_index(index.storage) if isinstance(index, faiss.IndexHNSW) else index
    return flat.search(np.ascontiguousarray(queries, dtype=np.float32), min(k, index.ntotal))
