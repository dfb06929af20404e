"""Candidate retrieval for large indexes: a coarse inverted-file (IVF) structure that finds the
passages nearest a question without reading every vector.

Exact scoring reads every stored vector for every question: 32 ms at 300k passages on one
thread, about 110 ms at 1M, which with the model and the fusion puts a question past 150 ms.
Above ``COARSE_MIN_PASSAGES`` a build therefore also writes ``coarse.faiss``: an IVF index
with 8-bit scalar-quantised codes (a quarter of the flat vectors' size), whose only job is to
name candidates. The searcher then scores exactly only the IVF top-N together with the BM25
top-N and fuses as before (`rag.search.searcher`), so every score it shows is exact.

Below the threshold there is no coarse file and search stays exact: the whole archive
(~300k passages) is answered by exact scoring within the latency goal, and a structure that
can miss is only worth its recall risk where exact scoring is too slow. Recall of the
candidate path against exact search is measured by ``python bench/bench.py --only million``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.errors import IndexError_

if TYPE_CHECKING:  # numpy and the index writer load with the first search or build, not
    import numpy as np  # with the command line (rag.config reads the threshold here)

COARSE_FILE = "coarse.faiss"  # in an index generation, beside the flat vectors
COARSE_MIN_PASSAGES = 500_000  # from this many passages on, a build writes the coarse index
LISTS_PER_SQRT = 4  # nlist = 4·sqrt(n): 4,000 lists at 1M passages (bench/ann.py)
TRAIN_PER_LIST = 40  # k-means sample per list (FAISS warns below 39)
NPROBE = 64  # lists read per question: recall@10 >= 0.998 at 100k-300k in bench/ann.py
FLOOR_PROBE = 8  # passages farthest from the question, for the lower end of the scaling


@dataclass(frozen=True)
class CoarseIndex:
    """The IVF structure of one index generation; row ids are chunk rows."""

    ivf: Any  # faiss.IndexIVFScalarQuantizer
    size: int

    def nearest(self, query: np.ndarray, n: int, keep: np.ndarray | None) -> np.ndarray:
        """Rows of (about) the ``n`` passages nearest ``query``, only rows ``keep`` allows."""
        return self._search(query, n, keep)

    def farthest(self, query: np.ndarray, keep: np.ndarray | None) -> np.ndarray:
        """Rows of passages least like ``query``: the hybrid ranking stretches dense scores
        between the lowest and the highest cosine, so the lowest must be found too."""
        return self._search(-query, FLOOR_PROBE, keep)

    def _search(self, query: np.ndarray, n: int, keep: np.ndarray | None) -> np.ndarray:
        import faiss
        import numpy as np

        params = faiss.SearchParametersIVF()
        params.nprobe = min(NPROBE, self.ivf.nlist)
        if keep is not None:
            bitmap = np.packbits(keep, bitorder="little")  # FAISS reads bit i of byte i>>3
            selector = faiss.IDSelectorBitmap(len(keep), faiss.swig_ptr(bitmap))
            params.sel = selector  # bitmap and selector stay referenced through the search
        _, ids = self.ivf.search(np.asarray(query, dtype=np.float32).reshape(1, -1),
                                 min(n, self.size), params=params)
        return ids[0][ids[0] >= 0]


def write_coarse(generation: Path, vectors: np.ndarray) -> str:
    """Write the coarse index over ``vectors`` into a new generation; its file name."""
    from rag.store.index import write_bytes

    write_bytes(generation / COARSE_FILE, coarse_bytes(vectors))
    return COARSE_FILE


def coarse_bytes(vectors: np.ndarray) -> bytes:
    """The serialised coarse index over L2-normalised ``vectors`` (rows = chunk rows).

    Trained on a fixed-seed sample, so the same vectors give the same file.
    """
    import faiss
    import numpy as np

    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    n, dim = vectors.shape
    nlist = max(1, min(n // TRAIN_PER_LIST, round(LISTS_PER_SQRT * math.sqrt(n))))
    ivf = faiss.IndexIVFScalarQuantizer(faiss.IndexFlatIP(dim), dim, nlist,
                                        faiss.ScalarQuantizer.QT_8bit,
                                        faiss.METRIC_INNER_PRODUCT)
    ivf.cp.min_points_per_centroid = 1  # a tiny index (--coarse-from 1) trains on what it has
    sample = np.random.default_rng(0).choice(n, min(n, TRAIN_PER_LIST * nlist), replace=False)
    ivf.train(vectors[np.sort(sample)])
    ivf.add(vectors)
    ivf.nprobe = min(NPROBE, nlist)
    return faiss.serialize_index(ivf).tobytes()


def wants_coarse(n_passages: int, minimum: int = COARSE_MIN_PASSAGES) -> bool:
    """Whether an index of ``n_passages`` gets a coarse index."""
    return n_passages >= max(minimum, 1)


def load_coarse(generation: Path | None, size: int) -> CoarseIndex | None:
    """The coarse index stored in ``generation`` (checksummed by the manifest), if any."""
    if generation is None or not (generation / COARSE_FILE).is_file():
        return None
    path = generation / COARSE_FILE
    import faiss

    fix = f"rebuild it with: rag build --full --index {generation.parent}"
    try:
        ivf = faiss.read_index(str(path))
    except RuntimeError:
        raise IndexError_(f"index file {path} is unreadable; {fix}") from None
    if ivf.ntotal != size:
        raise IndexError_(f"index file {path} does not match the passages; {fix}")
    return CoarseIndex(ivf, size)
