"""Candidate FAISS structures for the dense vectors: exact up to a size, IVF above it.

Measured here, not yet used by the index: the default hybrid ranking (rag.search.searcher) needs the
cosine of every passage for its score scaling, which it computes exactly with one BLAS
thread (36 ms at 300k passages); an approximate structure pays off only once retrieval
works on candidate sets (ANN top-N plus BM25 top-N, then fusion).

Exact inner-product search reads every vector for every question, so its cost grows with
the index; an inverted-file index (IVF) reads only the ``nprobe`` lists nearest the question.
Figures from ``python bench/bench.py`` (bench/README.md): real e5-small vectors of the
shared corpus replicated with Gaussian noise (σ 0.02: near-duplicates, as boilerplate answers
are; σ 0.05: no cluster structure left), 1,091 real questions, k=10, one question at a time
on one FAISS thread, 2-core machine (load average ~1.8):

    vectors  structure    p50 per query  build     memory  recall@10 (σ 0.02 / 0.05)
    100k     flat         8 ms           0.1 s     146 MB  1 / 1
    100k     IVF nprobe64 1.0 / 8.9 ms   5 s       150 MB  1.000 / 1.000
    100k     HNSW M32     0.5 / 1.1 ms   16-37 s   172 MB  0.532 / 0.996 (efSearch 128)
    300k     flat         22-26 ms       0.5 s     439 MB  1 / 1
    300k     IVF nprobe64 1.3 / 22 ms    16 s      447 MB  1.000 / 0.998
    300k     HNSW M32     0.3 / 1.7 ms   48-124 s  517 MB  0.419 / 0.991 (efSearch 128)

With two FAISS threads flat took 20 ms at 100k and 59-65 ms at 300k (waiting on the busy
second core); at 10k flat costs 0.5 ms, so below 100k an approximate index saves nothing
worth its build time and recall risk. Above 100k, IVF: where vectors cluster it is 7-20x
faster than flat at recall 1.000; where they do not, its lists are uneven and it is no
faster than flat, but still right (0.998). HNSW fails the other way: it loses the right
answers among near-duplicates (recall 0.42-0.53) and costs 3-8x IVF's build time, paid on
every rebuild, plus 18% memory. A structure that can be slow is preferred to one that can be
wrong. Hence flat up to ``FLAT_MAX_VECTORS`` (100k) and IVF above it.

Both structures answer ``reconstruct_n`` exactly (IVF keeps the full vectors in its lists;
the direct map built here, and saved with the index, maps ids to them), so
`rag.store.index.Index.vectors` works unchanged; `search` answers any ``k`` correctly.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

FLAT_MAX_VECTORS = 100_000  # up to this many vectors exact IndexFlatIP; above it IndexIVFFlat
IVF_LISTS_PER_SQRT = 4  # nlist = 4·sqrt(n): 1,265 lists at 100k, 2,191 at 300k
IVF_NPROBE = 64  # lists read per question: recall@10 >= 0.998 at 100k-300k (32: 0.947-0.988)
IVF_TRAIN_PER_LIST = 40  # k-means training sample: 40 vectors per list (FAISS wants >= 39)


def make_faiss_index(vectors: np.ndarray, flat_max: int = FLAT_MAX_VECTORS) -> Any:
    """An inner-product FAISS index over L2-normalised ``vectors`` (rows), exact when small.

    Args:
        vectors: (n, dim) float32, L2-normalised, so inner product is cosine.
        flat_max: up to this many rows an exact IndexFlatIP (default ``FLAT_MAX_VECTORS``);
            above it an IndexIVFFlat with ``4·sqrt(n)`` lists, trained on a fixed-seed
            sample, searched with ``nprobe = IVF_NPROBE`` (stored in the index file).
    """
    import faiss

    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    n = len(vectors)
    dim = int(vectors.shape[1]) if vectors.ndim == 2 and n else 1
    if n <= flat_max or n == 0:
        index = faiss.IndexFlatIP(dim)
        if n:
            index.add(vectors)
        return index
    nlist = max(1, min(n // IVF_TRAIN_PER_LIST, round(IVF_LISTS_PER_SQRT * math.sqrt(n))))
    index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, nlist, faiss.METRIC_INNER_PRODUCT)
    sample = np.random.default_rng(0).choice(n, min(n, IVF_TRAIN_PER_LIST * nlist),
                                             replace=False)
    index.train(vectors[np.sort(sample)])
    index.add(vectors)
    index.nprobe = min(IVF_NPROBE, nlist)
    index.make_direct_map()  # reconstruct_n (Index.vectors) needs id -> list position
    return index


def search(index: Any, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """``(scores, rows)`` of the ``k`` best rows per query, like ``index.search``.

    An IVF index answers a small ``k`` from its ``nprobe`` nearest lists. A large ``k``
    (beyond what those lists hold, e.g. every row for filtering) would come back padded
    with row -1, so it is answered exactly by reading every list.
    """
    import faiss

    queries = np.ascontiguousarray(queries, dtype=np.float32)
    k = min(k, index.ntotal)
    if isinstance(index, faiss.IndexIVF) and k > index.ntotal * index.nprobe // index.nlist // 2:
        return exact_search(index, queries, k)
    return index.search(queries, k)


def exact_search(index: Any, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact top-``k`` whatever the structure (IVF: every list probed)."""
    import faiss

    queries = np.ascontiguousarray(queries, dtype=np.float32)
    k = min(k, index.ntotal)
    if isinstance(index, faiss.IndexIVF):
        return index.search(queries, k, params=faiss.SearchParametersIVF(nprobe=index.nlist))
    return index.search(queries, k)
