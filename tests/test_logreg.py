from __future__ import annotations

import numpy as np
import pytest

from rag.evaluation.logreg import fit_logistic


def _data(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(300, 3)) * [1.0, 5.0, 0.1] + [0.0, 2.0, -1.0]
    z = 1.5 * (x[:, 0]) - 0.3 * (x[:, 1] - 2.0) + rng.normal(size=300)
    y = (z > 0).astype(float)
    w = rng.uniform(0.5, 2.0, size=300)
    return x, y, w


def test_matches_scikit_learn_on_standardised_features() -> None:
    sklearn = pytest.importorskip("sklearn.linear_model")
    x, y, w = _data()
    fitted = fit_logistic(x, y, w, l2=1.0)
    scaled = (x - x.mean(axis=0)) / x.std(axis=0)
    reference = sklearn.LogisticRegression(C=1.0, tol=1e-12, max_iter=10_000).fit(
        scaled, y, sample_weight=w / w.mean())
    np.testing.assert_allclose(fitted.weights, reference.coef_[0], atol=1e-5)
    assert fitted.bias == pytest.approx(reference.intercept_[0], abs=1e-5)
    np.testing.assert_allclose(fitted.probability(x), reference.predict_proba(scaled)[:, 1],
                               atol=1e-6)


def test_is_deterministic_and_weights_matter() -> None:
    x, y, w = _data(1)
    a, b = fit_logistic(x, y, w), fit_logistic(x, y, w)
    assert np.array_equal(a.weights, b.weights) and a.bias == b.bias
    heavy = np.where(y == 1, 10.0, 1.0)
    assert fit_logistic(x, y, heavy).bias > fit_logistic(x, y).bias


def test_separable_data_stays_finite_and_constant_columns_are_harmless() -> None:
    x = np.array([[0.0, 1.0], [1.0, 1.0], [2.0, 1.0], [3.0, 1.0]])
    y = np.array([0.0, 0.0, 1.0, 1.0])
    fitted = fit_logistic(x, y, l2=1e-3)
    assert np.all(np.isfinite(fitted.weights)) and fitted.weights[1] == 0.0
    p = fitted.probability(x)
    assert p[0] < 0.5 < p[3]


def test_bad_shapes_are_refused() -> None:
    with pytest.raises(ValueError):
        fit_logistic(np.zeros(3), np.zeros(3))
    with pytest.raises(ValueError):
        fit_logistic(np.zeros((3, 1)), np.zeros(2))
