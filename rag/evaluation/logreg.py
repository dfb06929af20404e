"""Weighted, L2-regularised logistic regression in numpy (Newton's method), deterministic.

A few hundred rows and a handful of features: Newton converges in a dozen steps, gives the
same weights on every run (no random start, no solver tolerances that differ between
library versions), and keeps the training of the relevance model free of extra packages.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Fitted:
    """A fitted model over standardised features: ``p = sigmoid(((x - mean) / scale) · w + b)``."""

    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    bias: float

    def probability(self, x: np.ndarray) -> np.ndarray:
        """P(y = 1) for every row of ``x``."""
        z = ((np.asarray(x, dtype=np.float64) - self.mean) / self.scale) @ self.weights + self.bias
        return 1.0 / (1.0 + np.exp(-np.clip(z, -500, 500)))


def fit_logistic(x: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None = None,
                 l2: float = 1.0, max_iter: int = 100, tol: float = 1e-10) -> Fitted:
    """Minimise ``sum_i w_i · logloss_i + l2 / 2 · |weights|²`` (the bias is not penalised).

    Features are standardised first (a constant column gets scale 1), so ``l2`` means the
    same for every feature. Weights are rescaled to average 1, so ``l2`` does not depend on
    how they were normalised.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.ndim != 2 or len(x) != len(y) or not len(y):
        raise ValueError("x must be (n, features) with one label per row")
    w = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, np.float64)
    w = w / w.mean()
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    design = np.hstack([(x - mean) / scale, np.ones((len(y), 1))])
    beta = np.zeros(design.shape[1])
    penalty = np.full(design.shape[1], l2)
    penalty[-1] = 0.0

    def objective(b: np.ndarray) -> float:
        z = design @ b
        return float(np.sum(w * (np.logaddexp(0.0, z) - y * z)) + 0.5 * np.sum(penalty * b * b))

    current = objective(beta)
    for _ in range(max_iter):
        p = 1.0 / (1.0 + np.exp(-np.clip(design @ beta, -500, 500)))
        gradient = design.T @ (w * (p - y)) + penalty * beta
        hessian = (design * (w * p * (1 - p))[:, None]).T @ design + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hessian, gradient)
        size = 1.0
        while size > 1e-8:  # backtracking: Newton can overshoot on separable data
            candidate = beta - size * step
            value = objective(candidate)
            if value <= current:
                break
            size /= 2
        beta, previous, current = candidate, current, value
        if previous - current < tol * max(1.0, abs(current)):
            break
    return Fitted(mean, scale, beta[:-1], float(beta[-1]))
