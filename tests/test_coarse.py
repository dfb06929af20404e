"""Candidate retrieval for large indexes: a coarse IVF index names candidates, the searcher
scores them exactly, and the hybrid ranking stays that of exact search.

Synthetic vectors (clustered, like boilerplate answers) test the scoring rules; a small
corpus built with ``--coarse-from 1`` tests the build, the manifest and the searcher.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import faiss
import numpy as np
import pytest

from rag.build import build_index
from rag.config import Settings
from rag.errors import IndexError_
from rag.models.embed import HashingEmbedder
from rag.search import candidates as candidates_module
from rag.search import relevance as relevance_module
from rag.search.candidates import CANDIDATES, candidate_dense
from rag.search.judge import DATA, judge
from rag.search.rank import Retriever, combine, dense_scores, top_rows
from rag.search.relevance import Evidence, feature_values, load_relevance
from rag.search.searcher import Searcher, open_searcher
from rag.store.coarse import COARSE_FILE, CoarseIndex, coarse_bytes, load_coarse, wants_coarse
from rag.store.index import current_generation, load_index
from rag.types import Language
from tests.conftest import SAMPLE_FILE


def _clustered(n: int, dim: int = 32, clusters: int = 150, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(clusters, dim))
    vectors = centres[rng.integers(0, clusters, n)] + 0.3 * rng.normal(size=(n, dim))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors.astype(np.float32)


@pytest.fixture(scope="module")
def space() -> tuple[np.ndarray, CoarseIndex]:
    vectors = _clustered(20_000)
    ivf = faiss.deserialize_index(np.frombuffer(coarse_bytes(vectors), dtype=np.uint8))
    return vectors, CoarseIndex(ivf, len(vectors))


def _query(vectors: np.ndarray, row: int, seed: int) -> np.ndarray:
    q = vectors[row] + 0.2 * np.random.default_rng(seed).normal(size=vectors.shape[1])
    return (q / np.linalg.norm(q)).astype(np.float32)


def _lexical(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    scores = np.zeros(n, dtype=np.float32)
    hit = rng.choice(n, 600, replace=False)
    scores[hit] = rng.gamma(2.0, 2.0, len(hit))
    return scores


def test_candidates_get_exact_cosines_and_the_rest_the_lowest(space) -> None:
    vectors, coarse = space
    q, lexical = _query(vectors, 7, 1), _lexical(len(vectors), 1)
    dense = candidate_dense(vectors, coarse, q, lexical, None)
    exact = dense_scores(vectors, q)
    scored = ~np.isclose(dense, dense.min())
    assert np.allclose(dense[scored], exact[scored], atol=1e-6)
    assert scored.sum() >= 400  # the IVF top-N at least
    # The lowest cosine is found (the farthest passages are among the candidates), so the
    # scaling of the hybrid ranking is exact search's.
    assert dense.min() == pytest.approx(exact.min(), abs=0.02)
    # The BM25 top-N are scored exactly, whatever their cosine.
    best_lexical = np.argsort(-lexical)[:50]
    assert np.allclose(dense[best_lexical], exact[best_lexical], atol=1e-6)


def test_hybrid_and_dense_top_ten_agree_with_exact_search(space) -> None:
    vectors, coarse = space
    agree = {Retriever.DENSE: 0, Retriever.HYBRID: 0}
    for seed in range(40):
        q, lexical = _query(vectors, seed * 97, seed), _lexical(len(vectors), seed)
        fast = candidate_dense(vectors, coarse, q, lexical, None)
        exact = dense_scores(vectors, q)
        for retriever in agree:
            a = combine(retriever, fast, lexical)
            b = combine(retriever, exact, lexical)
            agree[retriever] += len(set(np.argsort(-a)[:10]) & set(np.argsort(-b)[:10]))
    assert agree[Retriever.DENSE] / 400 >= 0.99
    assert agree[Retriever.HYBRID] / 400 >= 0.99


def test_a_filter_keeps_candidates_inside_it(space) -> None:
    vectors, coarse = space
    keep = np.zeros(len(vectors), dtype=bool)
    keep[5_000:6_000] = True
    q = _query(vectors, 5_500, 3)
    near = coarse.nearest(q, 400, keep)
    assert len(near) > 0 and keep[near].all()
    assert keep[coarse.farthest(q, keep)].all()
    dense = candidate_dense(vectors, coarse, q, None, keep)
    exact = dense_scores(vectors, q)
    best = np.flatnonzero(keep)[np.argsort(-exact[keep])[:10]]
    assert np.allclose(dense[best], exact[best])
    assert candidate_dense(vectors, coarse, q, None, np.zeros(len(vectors), bool)).max() == -1


def test_relevance_and_abstention_agree_with_exact_search(space) -> None:
    # The relevance features (cos_z above all: mean and spread of the cosines) must not see
    # the lowest cosine that candidate search gives the rows it did not score.
    vectors, coarse = space
    model = load_relevance(DATA / "relevance.json")
    n = len(vectors)
    doc_of_row = np.arange(n) // 7
    filtered = np.zeros(n, dtype=bool)
    filtered[2_000:9_000] = True
    tokens, df = ("ai", "mkb", "subsidie"), np.array([40, 900, 0])

    def words(row: int) -> set[str]:
        return {"ai"} if row % 3 else {"ai", "mkb"}

    decisions = []
    for seed in range(12):
        keep = filtered if seed % 2 else None
        q, lexical = _query(vectors, 2_000 + seed * 577, seed), _lexical(n, seed)
        exact = dense_scores(vectors, q)
        # The hits of exact search, judged from either path's scores (whether both paths
        # rank the same hits is the test above).
        rows = [r for r, _ in top_rows(combine(Retriever.HYBRID, exact, lexical), 5, keep)]
        judged = []
        for dense in (candidate_dense(vectors, coarse, q, lexical, keep), exact):
            ev = Evidence(dense, lexical, doc_of_row, tokens, df, n, 9, keep)
            judged.append(([feature_values(ev, r, words(r)) for r in rows],
                           [judge(model, ev, rows, lang, words) for lang in Language]))
        (values_a, a), (values_b, b) = judged
        for va, vb in zip(values_a, values_b, strict=True):
            # A hit that ranks on BM25 alone can lie past the dense candidates: its dense
            # rank is then known only to be past them (1/rank below 1/CANDIDATES either way).
            assert va.pop("dense_rank") == pytest.approx(vb.pop("dense_rank"),
                                                         abs=1 / CANDIDATES)
            assert va == pytest.approx(vb, abs=1e-5)
        for ja, jb in zip(a, b, strict=True):
            assert ja.probabilities == pytest.approx(jb.probabilities, abs=1e-3)
            assert ja.confidence == pytest.approx(jb.confidence, abs=1e-5)
            assert ja.abstain == jb.abstain
            decisions.append(ja.abstain)
    assert len(decisions) == 24


def test_only_large_indexes_get_a_coarse_index() -> None:
    assert not wants_coarse(300_000)
    assert wants_coarse(1_000_000)
    assert wants_coarse(5, minimum=5) and not wants_coarse(4, minimum=5)


def _corpus(tmp_path: Path) -> Path:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(SAMPLE_FILE, corpus / SAMPLE_FILE.name)
    return corpus


def test_a_build_writes_a_checksummed_coarse_index_from_the_threshold(tmp_path: Path,
                                                                      monkeypatch) -> None:
    corpus = _corpus(tmp_path)
    exact_settings = Settings(index_dir=tmp_path / "exact", model="hash:256")
    build_index(corpus, exact_settings, HashingEmbedder())
    assert not (current_generation(exact_settings.index_dir) / COARSE_FILE).exists()
    settings = Settings(index_dir=tmp_path / "coarse", model="hash:256", coarse_from=1)
    build_index(corpus, settings, HashingEmbedder())
    manifest = json.loads((current_generation(settings.index_dir) / "manifest.json")
                          .read_text(encoding="utf-8"))
    assert COARSE_FILE in manifest["checksums"]

    # Few candidates, so the candidate path decides, not "every passage is a candidate".
    monkeypatch.setattr(candidates_module, "CANDIDATES", 3)
    monkeypatch.setattr(candidates_module, "LEXICAL_CANDIDATES", 3)
    monkeypatch.setattr(relevance_module, "STATISTIC_ROWS", 3)
    fast = open_searcher(settings, embedder=HashingEmbedder())
    exact = open_searcher(exact_settings, embedder=HashingEmbedder())
    assert fast.uses_candidates and not exact.uses_candidates
    assert not Searcher(fast.index, HashingEmbedder(), exact=True).uses_candidates
    for question in ("AI in het mkb", "adviesraad kunstmatige intelligentie", "subsidie"):
        a, b = fast.ask(question, k=3), exact.ask(question, k=3)
        assert [h.chunk.chunk_id for h in a.hits] == [h.chunk.chunk_id for h in b.hits]
        assert [h.score for h in a.hits] == pytest.approx([h.score for h in b.hits])


def test_the_threshold_is_part_of_up_to_date(tmp_path: Path) -> None:
    corpus = _corpus(tmp_path)
    settings = Settings(index_dir=tmp_path / "index", model="hash:256", coarse_from=1)
    build_index(corpus, settings, HashingEmbedder())
    assert build_index(corpus, settings, HashingEmbedder()).up_to_date
    again = build_index(corpus, Settings(index_dir=settings.index_dir, model="hash:256"),
                        HashingEmbedder())
    assert not again.up_to_date
    assert not (current_generation(settings.index_dir) / COARSE_FILE).exists()


def test_a_damaged_coarse_index_is_refused_in_one_line(tmp_path: Path) -> None:
    settings = Settings(index_dir=tmp_path / "index", model="hash:256", coarse_from=1)
    build_index(_corpus(tmp_path), settings, HashingEmbedder())
    generation = current_generation(settings.index_dir)
    index = load_index(settings.index_dir)
    with pytest.raises(IndexError_, match="does not match the passages"):
        load_coarse(generation, len(index.chunks) + 1)
    path = generation / COARSE_FILE
    path.chmod(0o644)
    path.write_bytes(b"not an index")
    with pytest.raises(IndexError_, match="missing or corrupt"):
        Searcher(load_index(settings.index_dir), HashingEmbedder())
    done = subprocess.run([sys.executable, "-m", "rag", "ask", "AI", "--index",
                           str(settings.index_dir), "--model", "hash:256"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert done.stderr.strip().startswith("Error:") and "Traceback" not in done.stderr
