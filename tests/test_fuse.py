from __future__ import annotations

import numpy as np
import pytest

from rag.search.fuse import max_normalise, minmax_normalise, ranks, rrf, weighted_sum
from rag.search.rank import Fusion, FusionSettings, Retriever, combine, confidence, top_rows


def test_ranks_are_one_based_and_ties_keep_row_order() -> None:
    assert ranks(np.array([0.2, 0.9, 0.2, 0.5])).tolist() == [3, 1, 4, 2]


def test_rrf_matches_hand_computed_values() -> None:
    dense = np.array([0.9, 0.8, 0.1])  # ranks 1, 2, 3
    lexical = np.array([0.0, 2.0, 1.0])  # ranks 3, 1, 2
    fused = rrf([dense, lexical], k=1)
    np.testing.assert_allclose(fused, [1 / 2 + 1 / 4, 1 / 3 + 1 / 2, 1 / 4 + 1 / 3])
    weighted = rrf([dense, lexical], k=1, weights=[2.0, 0.0])
    np.testing.assert_allclose(weighted, [1.0, 2 / 3, 1 / 2])


def test_rrf_needs_one_weight_per_run() -> None:
    with pytest.raises(ValueError):
        rrf([np.zeros(2)], weights=[1.0, 1.0])


def test_normalisations() -> None:
    np.testing.assert_allclose(max_normalise(np.array([0.0, 2.0, 4.0])), [0.0, 0.5, 1.0])
    np.testing.assert_allclose(max_normalise(np.zeros(3)), [0, 0, 0])
    np.testing.assert_allclose(minmax_normalise(np.array([0.7, 0.8, 0.9])), [0.0, 0.5, 1.0])
    np.testing.assert_allclose(minmax_normalise(np.full(2, 0.8)), [0, 0])


def test_weighted_sum_matches_hand_computed_values() -> None:
    dense = np.array([0.70, 0.90, 0.80])  # -> 0, 1, 0.5
    lexical = np.array([4.0, 0.0, 2.0])  # -> 1, 0, 0.5
    np.testing.assert_allclose(weighted_sum(dense, lexical, 0.75), [0.25, 0.75, 0.5])
    with pytest.raises(ValueError):
        weighted_sum(dense, lexical, 1.5)


def test_combine_picks_the_retrievers_scores() -> None:
    dense, lexical = np.array([0.9, 0.1]), np.array([0.0, 3.0])
    assert combine(Retriever.DENSE, dense, None) is dense
    assert combine(Retriever.BM25, None, lexical) is lexical
    rrf_scores = combine(Retriever.HYBRID, dense, lexical, FusionSettings(Fusion.RRF, 1, 0.5))
    np.testing.assert_allclose(rrf_scores, [1 / 2 + 1 / 3, 1 / 3 + 1 / 2])
    with pytest.raises(ValueError, match="dense"):
        combine(Retriever.HYBRID, None, lexical)


def test_top_rows_masks_and_orders() -> None:
    scores = np.array([0.1, 0.9, 0.5, 0.9])
    assert top_rows(scores, 3) == [(1, 0.9), (3, 0.9), (2, 0.5)]
    keep = np.array([True, False, True, True])
    assert [r for r, _ in top_rows(scores, 5, keep)] == [3, 2, 0]


def test_confidence_is_best_kept_cosine() -> None:
    dense = np.array([0.8, 0.9, 0.7])
    assert confidence(dense) == pytest.approx(0.9)
    assert confidence(dense, np.array([True, False, True])) == pytest.approx(0.8)
    assert confidence(None) == float("-inf")
