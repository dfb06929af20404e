from __future__ import annotations

from pathlib import Path

import numpy as np

from rag.chunk import chunk_document
from rag.models.embed import HashingEmbedder
from rag.search.rank import dense_scores, top_rows
from rag.search.searcher import Searcher
from rag.store.index import load_index, save_index
from rag.types import ChunkSettings, DocRecord
from tests.helpers import build_small_index, make_document


def _brute_force(vectors: np.ndarray, queries: np.ndarray, k: int) -> list[list[int]]:
    scores = queries @ vectors.T
    return [list(np.argsort(-row, kind="stable")[:k]) for row in scores]


def test_dense_ranking_matches_numpy_reference(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    docs = [make_document(f"ah-tk-20232024-{i}") for i in range(1, 41)]
    chunks = [c for d in docs for c in chunk_document(d, ChunkSettings())]
    vectors = rng.normal(size=(len(chunks), 64)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    save_index(tmp_path / "idx", model_id="random", vectors=vectors, chunks=chunks,
               documents=[DocRecord(d.doc_id, d.source, d.meta) for d in docs],
               chunking=ChunkSettings())
    index = load_index(tmp_path / "idx")
    queries = rng.normal(size=(30, 64)).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    results = [top_rows(dense_scores(index.vectors_view(), q), 10) for q in queries]
    for got, want, query in zip(results, _brute_force(vectors, queries, 10), queries,
                                strict=True):
        assert [row for row, _ in got] == want
        np.testing.assert_allclose([s for _, s in got], vectors[want] @ query, atol=1e-5)


def test_k_larger_than_index_returns_all(tmp_path: Path) -> None:
    build_small_index(tmp_path / "idx")
    index = load_index(tmp_path / "idx")
    query = HashingEmbedder().embed_queries(["brug"])
    assert len(top_rows(dense_scores(index.vectors_view(), query[0]), 50)) == 5


def test_hits_carry_rank_and_document(tmp_path: Path) -> None:
    build_small_index(tmp_path / "idx")
    index = load_index(tmp_path / "idx")
    answer = Searcher(index, HashingEmbedder()).ask("Wat kost de brug over de rivier?", k=3,
                                                    retriever="dense")
    hits = answer.hits
    assert [h.rank for h in hits] == [1, 2, 3]
    assert hits[0].chunk.vraag == (1,) and hits[0].doc.meta.ah_nr == 100
    assert hits[0].score >= hits[1].score >= hits[2].score


def test_top_rows_matches_a_full_stable_sort() -> None:
    rng = np.random.default_rng(1)
    for _ in range(2000):
        n = int(rng.integers(0, 60))
        scores = rng.integers(0, 5, size=n).astype(np.float32)  # many ties
        keep = rng.random(n) < 0.6 if rng.random() < 0.5 else None
        k = int(rng.integers(0, 70))
        rows = np.argsort(-scores, kind="stable")
        if keep is not None:
            rows = rows[keep[rows]]
        assert top_rows(scores, k, keep) == [(int(r), float(scores[r])) for r in rows[:k]]


def test_dense_scores_on_unaligned_rows_match_numpy() -> None:
    """FAISS's memory-mapped storage starts at an unaligned address (numpy then multiplies
    without BLAS): the scores computed on such rows equal numpy's on an aligned copy."""
    rng = np.random.default_rng(7)
    rows = rng.standard_normal((1000, 384)).astype(np.float32)
    buffer = np.zeros(rows.nbytes + 1, dtype=np.uint8)
    unaligned = buffer[1:].view(np.float32).reshape(rows.shape)
    unaligned[:] = rows
    assert not unaligned.flags.aligned
    query = rng.standard_normal(384).astype(np.float32)
    np.testing.assert_allclose(dense_scores(unaligned, query), rows @ query, rtol=1e-5,
                               atol=1e-4)
    np.testing.assert_allclose(dense_scores(rows[::2], query[None, :]), rows[::2] @ query,
                               rtol=1e-5, atol=1e-4)  # strided rows, a (1, d) query
