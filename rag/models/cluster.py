"""Embedding on a Dask cluster: the same embedder on every worker, passages sent out in batches.

`ClusterEmbedder` is an `Embedder` like any other, so the build stays what it is (atomic,
incremental, verified, written locally): only the passages it has to embed travel, in the
very batches the in-process embedder would make (longest first), so the vectors are the
same to float rounding. Each worker loads the model once, through a worker plugin, when its
first batch arrives; questions are embedded locally (one short text needs no cluster).

``dask.distributed`` is an optional dependency (``pip install 'vraagbaak[cluster]'``).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import socket
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from rag.errors import ModelError
from rag.models.embed import Embedder, WrappedEmbedder, load_embedder

# glibc's mallopt parameters, and the largest thresholds its dynamic adjustment reaches on
# 64-bit systems (malloc/malloc.c: DEFAULT_MMAP_THRESHOLD_MAX is 32 MiB).
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_MMAP_THRESHOLD, _TRIM_THRESHOLD = 32 << 20, 64 << 20
PLUGIN = "vraagbaak-model"  # a worker's plugin is named per model and batch size (plugin_name)
_INSTALL_HINT = "pip install 'vraagbaak[cluster]' (dask.distributed)"


def _distributed() -> Any:
    try:
        import distributed
    except ImportError as exc:
        raise ModelError(f"building on a cluster needs dask.distributed: {_INSTALL_HINT}") from exc
    return distributed


def plugin_name(model: str, batch_size: int) -> str:
    """One plugin per model and batch size: a registered plugin is idempotent (a second
    build of the same model reuses the loaded one), so a build of another model on a
    long-running scheduler must not find the first one under the same name."""
    return f"{PLUGIN}:{model}:{batch_size}"


def model_plugin(model: str, batch_size: int) -> Any:
    """A worker plugin that gives each worker its own embedder for ``model``."""
    distributed = _distributed()

    class ModelOnWorker(distributed.WorkerPlugin):  # type: ignore[misc,name-defined]
        """Holds the worker's embedder; the model itself loads with the first batch."""

        idempotent = True

        def __init__(self) -> None:
            self.model = model
            self.batch_size = batch_size
            self.embedder: Embedder | None = None

        def setup(self, worker: Any) -> None:
            _allocate_as_a_plain_process()
            try:
                import torch

                torch.set_num_threads(max(1, int(worker.state.nthreads)))
            except ImportError:  # the hashing embedder needs no torch
                pass
            self.embedder = load_embedder(self.model, batch_size=self.batch_size)

    return ModelOnWorker()


def _allocate_as_a_plain_process() -> None:
    """Undo the allocator setting Dask's nanny gives its workers.

    The nanny starts workers with ``MALLOC_TRIM_THRESHOLD_=65536`` (so freed memory goes back
    to the system), and glibc then also fixes its mmap threshold at 128 KiB: every
    activation tensor of the model is mapped and unmapped afresh, page faults included. Two
    such workers embedded ~20 % slower than two plain processes with the same threads
    (bench/README.md); fixed thresholds as large as glibc's own adjustment would reach give
    the speed back. Nothing to do without that setting, or without glibc.
    """
    if "MALLOC_TRIM_THRESHOLD_" not in os.environ:
        return
    try:
        mallopt = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").mallopt
    except (OSError, AttributeError):
        return
    mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD)
    mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD)


def _embed_on_worker(texts: list[str], plugin: str) -> np.ndarray:
    from distributed import get_worker

    worker: Any = get_worker()
    return worker.plugins[plugin].embedder.embed_documents(texts)


def _model_id_on_worker(dask_worker: Any, plugin: str) -> str:
    """Run by `Client.run`, which passes the worker itself."""
    return str(dask_worker.plugins[plugin].embedder.model_id)


class ClusterEmbedder(WrappedEmbedder):
    """Passages embedded by the workers of a Dask cluster; questions by ``local`` (the same
    model id on every worker, checked when the embedder is made)."""

    def __init__(self, local: Embedder, client: Any, batch_size: int = 16) -> None:
        super().__init__(local)
        self.client = client
        self._group = batch_size * 4  # the in-process embedder's unit of work
        self._plugin = plugin_name(local.name, batch_size)
        client.register_plugin(model_plugin(local.name, batch_size), name=self._plugin)
        ids = set(client.run(_model_id_on_worker, plugin=self._plugin).values())
        if not ids:
            raise ModelError("the cluster has no workers; start some with: dask worker "
                             "tcp://SCHEDULER:8786")
        if ids != {local.model_id}:
            raise ModelError(f"the cluster's workers have model {sorted(ids)}, this machine "
                             f"{local.model_id!r}: install the same versions everywhere")

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Questions are embedded here."""
        return self.inner.embed_queries(texts)

    def embed_documents(self, texts: Sequence[str],
                        progress: Callable[[int], None] | None = None) -> np.ndarray:
        """Passages in groups, longest first, each group on some worker; results in order."""
        distributed = _distributed()
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        groups = [order[start : start + self._group] for start in range(0, len(order),
                                                                          self._group)]
        futures = self.client.map(_embed_on_worker, [[texts[i] for i in g] for g in groups],
                                  plugin=self._plugin, pure=False)
        position = {future.key: n for n, future in enumerate(futures)}
        out: np.ndarray | None = None
        for future, vectors in distributed.as_completed(futures, with_results=True):
            group = groups[position[future.key]]
            if out is None:
                out = np.zeros((len(texts), vectors.shape[1]), dtype=np.float32)
            out[group] = vectors
            if progress:
                progress(len(group))
        assert out is not None
        return out


@contextmanager
def cluster_client(scheduler: str | None, workers: int | None) -> Iterator[Any]:
    """A client of the cluster at ``scheduler``, or of a new local one with ``workers``
    processes of one thread each (one machine, and the tests); closed afterwards (a local
    cluster with it)."""
    distributed = _distributed()
    if scheduler:
        _reachable(scheduler)
        try:
            client = distributed.Client(scheduler, timeout="30s")
        except (OSError, TimeoutError) as exc:
            raise ModelError(f"cannot reach the Dask scheduler at {scheduler} ({exc})") from None
        with client:
            yield client
        return
    with (distributed.LocalCluster(n_workers=workers or 2, threads_per_worker=1,
                                   processes=True, dashboard_address=None) as cluster,
          distributed.Client(cluster) as client):
        yield client


def _reachable(scheduler: str) -> None:
    """Fail at once, not after the client's retries, when nothing listens at the address."""
    host, _, port = scheduler.rpartition("://")[2].rpartition(":")
    try:
        with socket.create_connection((host.strip("[]") or "127.0.0.1", int(port)), timeout=10):
            pass
    except (OSError, ValueError) as exc:
        raise ModelError(f"cannot reach the Dask scheduler at {scheduler} "
                         f"({getattr(exc, 'strerror', None) or exc})") from None
