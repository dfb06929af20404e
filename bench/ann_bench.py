"""Flat against approximate FAISS structures: build time, memory, latency and recall@10.

Every structure indexes the same replicated real vectors (`bench.common.replicate`) and is
queried one real question at a time (as the chat does) with k=10; recall@10 is measured
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
    Structure("flat", "flat"),
    Structure("hnsw M16", "hnsw", m=16, ef_construction=64, search_params=(32, 64, 128)),
    Structure("hnsw M32", "hnsw", m=32, ef_construction=80, search_params=(32, 64, 128)),
    Structure("ivf", "ivf", search_params=(8, 16, 32)),
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
    else:
        nlist = max(8, int(4 * np.sqrt(len(vectors))))
        index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, nlist, faiss.METRIC_INNER_PRODUCT)
        rng = np.random.default_rng(0)
        sample = vectors[rng.choice(len(vectors), min(len(vectors), 40 * nlist), replace=False)]
        index.train(sample)
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
            times = []
            for q in queries[:n_latency]:
                t0 = time.perf_counter()
                index.search(q[None, :], K)
                times.append(time.perf_counter() - t0)
            lat = stats_ms(times)
            label = structure.name + (f" {'ef' if structure.kind == 'hnsw' else 'nprobe'}={value}"
                                      if value else "")
            rows.append({"n": len(vectors), "structure": label, "build_s": build_s,
                         "memory_mb": memory, "p50_ms": lat.p50, "p95_ms": lat.p95,
                         "recall10": float(recall), "load": load_average()})
        del index
    return rows
