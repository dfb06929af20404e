"""Dense retrieval: nearest chunks by inner product over L2-normalised vectors."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rag.chunk import Chunk
from rag.cite import citation
from rag.index import DocRecord, Index


@dataclass(frozen=True)
class Hit:
    """One retrieved chunk with its rank (1-based), cosine score and document."""

    rank: int
    score: float
    chunk: Chunk
    doc: DocRecord

    @property
    def citation(self) -> str:
        """Short citation such as ``Aanhangsel Handelingen 2023–2024, nr. 2096, vraag 3``."""
        return citation(self.doc.doc_id, self.doc.meta, self.chunk.vraag)


def dense_search(index: Index, query_vectors: np.ndarray, k: int) -> list[list[tuple[int, float]]]:
    """For each query row, the ``k`` best (chunk row, score) pairs, best first."""
    k = min(k, len(index.chunks))
    if k <= 0:
        return [[] for _ in range(len(query_vectors))]
    scores, rows = index.faiss_index.search(  # type: ignore[attr-defined]
        np.ascontiguousarray(query_vectors, dtype=np.float32), k)
    return [[(int(r), float(s)) for r, s in zip(rs, ss, strict=True) if r >= 0]
            for rs, ss in zip(rows, scores, strict=True)]


def to_hits(index: Index, ranked: list[tuple[int, float]]) -> list[Hit]:
    """Turn (row, score) pairs into hits carrying their chunk and document."""
    hits = []
    for rank, (row, score) in enumerate(ranked, start=1):
        chunk = index.chunks[row]
        hits.append(Hit(rank, score, chunk, index.documents[chunk.doc_id]))
    return hits
