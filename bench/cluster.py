"""The Dask build's overhead on one machine: a LocalCluster of 2 one-thread workers against the
in-process embedder on 2 threads, full builds of the shared corpus with the real model.

Both write the index locally through the same `rag.build.build_index`; only where passages
are embedded differs. The workers load the model with their first batch, so the first
cluster build pays that once (as a real build does); the ratio compares warm builds, like
the in-process embedder whose model is loaded before timing. Target: ratio >= 0.85.
"""

from __future__ import annotations

import statistics
import tempfile
from pathlib import Path
from typing import Any

from bench.common import CACHE, MODEL, SHARED, load_average


def run(rounds: int = 2) -> dict[str, Any]:
    """Passages a second in-process and on the cluster, alternating builds."""
    from rag.build import build_index
    from rag.config import Settings
    from rag.models.cluster import ClusterEmbedder, cluster_client
    from rag.models.embed import load_embedder

    local = load_embedder(MODEL)
    # The passage model (torch) loads before the cluster starts: a LocalCluster puts its
    # workers' settings (OMP_NUM_THREADS=1, MALLOC_TRIM_THRESHOLD_) into this process's
    # environment too, and torch imported after that would embed on one thread.
    local.embed_documents(["opwarmen"])
    import torch

    threads = torch.get_num_threads()
    speeds: dict[str, list[float]] = {"in-process": [], "cluster": []}
    with (tempfile.TemporaryDirectory(prefix="vb-cluster-", dir=CACHE) as tmp,
          cluster_client(None, 2) as client):
        remote = ClusterEmbedder(local, client)

        def build(name: str, embedder: Any, n: int) -> float:
            settings = Settings(index_dir=Path(tmp) / f"{name}-{n}", model=MODEL)
            report = build_index(SHARED / "corpus", settings, embedder, full=True)
            print(f"[cluster] {name}: {report.chunks / report.seconds:.1f} passages/s",
                  flush=True)
            return report.chunks / report.seconds

        first = build("cluster", remote, -1)  # the workers load the model here
        for n in range(rounds):
            speeds["in-process"].append(build("in-process", local, n))
            speeds["cluster"].append(build("cluster", remote, n))
    ratio = statistics.median(speeds["cluster"]) / statistics.median(speeds["in-process"])
    return {"speeds": speeds, "first_cluster": first, "ratio": ratio, "load": load_average(),
            "in_process_threads": threads}
