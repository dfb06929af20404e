"""The FAISS structure for the dense vectors: exact below a size, IVF (approximate) above it.

Exact inner-product search reads every vector for every question, so its cost grows with
the index; an inverted-file index (IVF) reads only the ``nprobe`` lists nearest the question.
Figures from ``python bench/bench.py`` (bench/README.md): real e5-small vectors of the
shared corpus replicated with Gaussian noise, 1,091 real questions, k=10, one question at a
time on one FAISS thread, 2-core machine under load (load average 4-6):

============  ==========  ========  ==========  ==================================
100k vectors  p50 / q     build     memory      recall@10 vs exact (noise 0.02 / 0.05)
============  ==========  ========  ==========  ==================================
flat          9-18 ms     0.2 s     146 MiB     1 / 1
IVF nprobe64  1.0 ms      7-22 s    149 MiB     1.000 / 1.000
IVF nprobe32  0.5 ms      7-22 s    149 MiB     0.992 / 1.000
HNSW M32 128  0.5-1.6 ms  59-235 s  172 MiB     0.532 / 0.996
============  ==========  ========  ==========  ==================================

At 10k, flat costs 0.4-0.5 ms per question: an approximate index would save nothing worth its
build time and recall risk. HNSW loses badly where many vectors are near-duplicates (as
replicated vectors are, and as repeated boilerplate answers are in real corpora) and takes
minutes to build, on every rebuild; IVF kept recall@10 at 1.000 with nprobe 64 at both noise
levels, builds in seconds and adds 2% memory. Hence flat below ``FLAT_MAX_VECTORS`` (100k,
where flat first costs ~10 ms or more per question) and IVF from it on.

Both structures answer ``reconstruct_n`` exactly (IVF keeps the full vectors in its lists;
the direct map built here, and saved with the index, maps ids to them), so
`rag.index.Index.vectors` works unchanged; `search` answers any ``k`` correctly.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

FLAT_MAX_VECTORS = 100_000  # below: exact IndexFlatIP; from here on: IndexIVFFlat
IVF_LISTS_PER_SQRT = 4  # nlist = 4·sqrt(n): 1,265 lists at 100k, 2,191 at 300k
IVF_NPROBE = 64  # lists read per question: recall@10 1.000 at 100k (32 gave 0.992)
IVF_TRAIN_PER_LIST = 40  # k-means training sample: 40 vectors per list (FAISS wants >= 39)


def make_faiss_index(vectors: np.ndarray, flat_max: int = FLAT_MAX_VECTORS) -> Any:
    """An inner-product FAISS index over L2-normalised ``vectors`` (rows), exact when small.

    Args:
        vectors: (n, dim) float32, L2-normalised, so inner product is cosine.
        flat_max: below this many rows an exact IndexFlatIP (default ``FLAT_MAX_VECTORS``);
            from it on an IndexIVFFlat with ``4·sqrt(n)`` lists, trained on a fixed-seed
            sample, searched with ``nprobe = IVF_NPROBE`` (stored in the index file).
    """
    import faiss

    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    n = len(vectors)
    dim = int(vectors.shape[1]) if vectors.ndim == 2 and n else 1
    if n < max(flat_max, 1):
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
