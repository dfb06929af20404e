"""Flat against approximate FAISS structures: build time, memory, latency and recall@10.

Every structure indexes the same replicated real vectors (`bench.common.replicate`) and is
queried one real question at a time (as the chat does) with k=10, on one FAISS thread
(OpenMP's second thread costs far more than it saves for one query on a busy 2-core machine:
the "flat, 2 threads" row shows it); recall@10 is measured
against exact inner-product search over all questions. Memory is the serialised size of the
structure, which is what it occupies in RAM once loaded (vectors plus graph or lists).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from bench.common import load_average, stats_ms

K = 10


@dataclass(frozen=True)
class Structure:
    """One FAISS configuration to compare."""

    name: str
    kind: str  # flat | hnsw | ivf
    m: int = 32  # HNSW neighbours
    ef_construction: int = 80
    search_params: tuple[int, ...] = ()  # efSearch (HNSW) or nprobe (IVF) values to try


STRUCTURES = (
    Structure("flat, 1 thread", "flat"),
    Structure("hnsw M32", "hnsw", m=32, ef_construction=80, search_params=(64, 128, 256)),
    Structure("ivf (bench.ann)", "ivf", search_params=(16, 32, 64)),
)
QUICK_STRUCTURES = (
    Structure("flat, 1 thread", "flat"),
    Structure("hnsw M16", "hnsw", m=16, ef_construction=64, search_params=(64, 128)),
    Structure("ivf (bench.ann)", "ivf", search_params=(32, 64)),
)


def build(structure: Structure, vectors: np.ndarray) -> Any:
    """The FAISS index for ``structure`` over ``vectors``."""
    import faiss

    dim = vectors.shape[1]
    if structure.kind == "flat":
        index = faiss.IndexFlatIP(dim)
    elif structure.kind == "hnsw":
        index = faiss.IndexHNSWFlat(dim, structure.m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = structure.ef_construction
    else:  # the project's own choice, forced past its size threshold
        from bench.ann import make_faiss_index

        return make_faiss_index(vectors, flat_max=0)
    index.add(vectors)
    return index


def set_param(index: Any, structure: Structure, value: int) -> None:
    """Set efSearch or nprobe."""
    if structure.kind == "hnsw":
        index.hnsw.efSearch = value
    elif structure.kind == "ivf":
        index.nprobe = value


def compare(vectors: np.ndarray, queries: np.ndarray, n_latency: int,
            structures: tuple[Structure, ...] = STRUCTURES) -> list[dict[str, Any]]:
    """One row per structure and search setting at this scale."""
    import faiss

    exact = faiss.IndexFlatIP(vectors.shape[1])
    exact.add(vectors)
    _, truth = exact.search(queries, K)
    threads = faiss.omp_get_max_threads()
    rows = [{"n": len(vectors), "structure": f"flat, {threads} threads", "build_s": 0.0,
             "memory_mb": vectors.nbytes / 2**20,
             **_latency(exact, queries[:n_latency], threads), "recall10": 1.0,
             "load": load_average()}]
    return rows + _compare(vectors, queries, n_latency, structures, truth)


def _latency(index: Any, queries: np.ndarray, threads: int = 1) -> dict[str, float]:
    """p50/p95 ms of one-query searches on ``threads`` OpenMP threads (builds keep all)."""
    import faiss

    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(threads)
    times = []
    try:
        for q in queries:
            t0 = time.perf_counter()
            index.search(q[None, :], K)
            times.append(time.perf_counter() - t0)
    finally:
        faiss.omp_set_num_threads(before)
    lat = stats_ms(times)
    return {"p50_ms": lat.p50, "p95_ms": lat.p95}


def _compare(vectors: np.ndarray, queries: np.ndarray, n_latency: int,
             structures: tuple[Structure, ...], truth: np.ndarray) -> list[dict[str, Any]]:
    import faiss

    rows = []
    for structure in structures:
        started = time.perf_counter()
        index = build(structure, vectors)
        build_s = time.perf_counter() - started
        memory = len(faiss.serialize_index(index)) / 2**20
        for value in structure.search_params or (0,):
            set_param(index, structure, value)
            _, found = index.search(queries, K)
            recall = np.mean([len(set(f) & set(t)) / K for f, t in zip(found, truth, strict=True)])
            label = structure.name + (f" {'ef' if structure.kind == 'hnsw' else 'nprobe'}={value}"
                                      if value else "")
            rows.append({"n": len(vectors), "structure": label, "build_s": build_s,
                         "memory_mb": memory, **_latency(index, queries[:n_latency]),
                         "recall10": float(recall), "load": load_average()})
        del index
    return rows
