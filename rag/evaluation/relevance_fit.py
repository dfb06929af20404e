"""Training the relevance model: per-language logistic regression, thresholds, cross-validation.

Examples come from `rag.evaluation.trustdata`. Each language gets its own weights (an English
question scores lower cosines and no BM25), and its own abstention threshold: the probability below
which only ``QUANTILE`` of the answerable user questions fall, measured on out-of-fold
predictions so the threshold is not set on probabilities the model has fitted. Cross-
validation keeps all questions about one document (and its leave-out views) in one fold.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rag.evaluation.logreg import Fitted, fit_logistic
from rag.evaluation.trustdata import PAIRS, Example, fold_of
from rag.search.relevance import LanguageModel, RelevanceModel, feature_vector
from rag.types import Language

# Chosen by cross-validation by document (eval/README.md, "The relevance model"): adding
# BM25, plain word coverage, rank agreement, question length, index-size interactions or
# margins over the next five or ten documents did not lower held-out false refusals or
# raise recall. Coverage of the words the index knows (next to coverage of all words) ties
# on cross-validation and keeps a one-document index from refusing questions whose words it
# has never seen (the sample paraphrases of tests/test_e2e_model.py). The anchors (numbers,
# acronyms, names) raised English recall held out, Dutch unchanged.
MODEL_FEATURES = ("cos", "cos_z", "doc_margin", "idf_coverage", "known_coverage",
                  "anchor_coverage", "anchor_known")
# The hit model sees every shown hit, so it also needs to know how a hit ranks; the document
# margin (the same for all hits of the best document) only added noise there.
HIT_FEATURES = ("cos", "cos_z", "idf_coverage", "gap_best", "dense_rank", "lex_rank")
QUANTILE = 0.04  # share of answerable user questions (training folds) below the threshold
L2 = 1.0
SELF_WEIGHT = 0.3  # self-retrieval questions are parsed Kamervragen, not users' questions
FOLDS = 5


def sample_weights(examples: Sequence[Example]) -> np.ndarray:
    """Equal total weight per (index size, answerable, user, self-retrieval or dev pairs)
    cell, so the many single-document views, self-retrieval questions or dev pairs do not
    drown the rest."""
    cells: dict[tuple[str, bool, bool, bool], list[int]] = {}
    for i, e in enumerate(examples):
        size = "full" if e.view in ("full", "leave-out") else e.view
        cells.setdefault((size, e.answerable, e.user, e.source == PAIRS), []).append(i)
    w = np.zeros(len(examples))
    for (_, _, user, _), rows in cells.items():
        w[rows] = (1.0 if user else SELF_WEIGHT) / len(rows)
    return w / w.mean() if len(w) else w


def matrix(examples: Sequence[Example], features: Sequence[str]) -> np.ndarray:
    """The (examples, features) matrix."""
    return np.array([feature_vector(e.features, features) for e in examples]).reshape(
        len(examples), len(features))


def _fit(examples: Sequence[Example], features: Sequence[str]) -> Fitted:
    y = np.array([e.answerable for e in examples], dtype=np.float64)
    return fit_logistic(matrix(examples, features), y, sample_weights(examples), l2=L2)


def _threshold(examples: Sequence[Example], features: Sequence[str], folds: int) -> float:
    """The ``QUANTILE`` of the answerable user questions' out-of-fold probabilities, each
    question counted once at its lowest over the views it was searched in (so a question
    refused only on a small index still counts as refused)."""
    fold = np.array([fold_of(e.group, folds) for e in examples])
    oof = np.full(len(examples), np.nan)
    for k in sorted(set(fold)):
        train = [e for e, f in zip(examples, fold, strict=True) if f != k]
        if train and len({e.answerable for e in train}) == 2:
            test = np.flatnonzero(fold == k)
            oof[test] = _fit(train, features).probability(
                matrix([examples[int(i)] for i in test], features))
    lowest: dict[tuple[str, str], float] = {}
    for p, e in zip(oof, examples, strict=True):
        if e.answerable and e.user and not np.isnan(p):
            key = (e.source, e.id)
            lowest[key] = min(lowest.get(key, 1.0), float(p))
    return float(np.quantile(list(lowest.values()), QUANTILE)) if lowest else 0.5


def _fit_hits(examples: Sequence[Example], features: Sequence[str]) -> Fitted:
    """Every kept hit of every example: does it answer? Cells as in `sample_weights`."""
    rows, labels, weights = [], [], []
    base = sample_weights(examples)
    for e, w in zip(examples, base, strict=True):
        for values, right in e.hits:
            rows.append(feature_vector(values, features))
            labels.append(float(right))
            weights.append(w / len(e.hits))
    return fit_logistic(np.array(rows), np.array(labels), np.array(weights), l2=L2)


def fit_model(examples: Sequence[Example], model_id: str,
              features: Sequence[str] = MODEL_FEATURES, folds: int = FOLDS,
              trained_with: str = "", hit_features: Sequence[str] = HIT_FEATURES
              ) -> RelevanceModel:
    """One question model and one hit model per language present in ``examples``."""
    languages, hit_languages = {}, {}
    for language in Language:
        mine = [e for e in examples if e.language is language]
        if not mine or len({e.answerable for e in mine}) < 2:
            continue
        languages[language] = _stored(_fit(mine, features),
                                      _threshold(mine, features, max(folds - 1, 2)))
        if any(right for e in mine for _, right in e.hits):
            hit_languages[language] = _stored(_fit_hits(mine, hit_features), 0.5)
    return RelevanceModel(model_id, tuple(features), languages, tuple(hit_features),
                          hit_languages, trained_with)


def _stored(fitted: Fitted, threshold: float) -> LanguageModel:
    # A scale that rounds to 0 belongs to a (nearly) constant feature: it adds nothing.
    scale = tuple(_r(v) if _r(v) > 0 else 1.0 for v in fitted.scale)
    return LanguageModel(tuple(_r(v) for v in fitted.mean), scale,
                         tuple(_r(v) for v in fitted.weights), _r(fitted.bias), _r(threshold))


@dataclass(frozen=True)
class Predictions:
    """Per example: the top hit's probability, the abstention decision, and every kept
    hit's (probability, answers) for the labels."""

    probabilities: tuple[float, ...]
    refused: tuple[bool, ...]
    hits: tuple[tuple[tuple[float, bool], ...], ...] = ()


def predict(model: RelevanceModel, examples: Sequence[Example]) -> Predictions:
    """Apply a model to examples (their stored hit features)."""
    p = tuple(model.probability(e.features, e.language) for e in examples)
    hits = tuple(_hits(model, e) for e in examples)
    return Predictions(p, tuple(_refused(model, pi, h, e)
                                for pi, h, e in zip(p, hits, examples, strict=True)), hits)


def _refused(model: RelevanceModel, p: float, hits: Sequence[tuple[float, bool]],
             e: Example) -> bool:
    """The searcher's decision (`RelevanceModel.abstains`) from an example's stored hits."""
    return model.abstains(p, [hp for hp, _ in hits], e.language)


def _hits(model: RelevanceModel, e: Example) -> tuple[tuple[float, bool], ...]:
    return tuple((model.hit_probability(v, e.language), right) for v, right in e.hits)


def cross_validate(examples: Sequence[Example], model_id: str,
                   features: Sequence[str] = MODEL_FEATURES, folds: int = FOLDS) -> Predictions:
    """Held-out predictions: each fold scored by a model (threshold included) fitted on the
    other folds only."""
    fold = [fold_of(e.group, folds) for e in examples]
    p = [0.0] * len(examples)
    refused = [False] * len(examples)
    hits: list[tuple[tuple[float, bool], ...]] = [()] * len(examples)
    for k in range(folds):
        model = fit_model([e for e, f in zip(examples, fold, strict=True) if f != k],
                          model_id, features, folds)
        for i in (i for i, f in enumerate(fold) if f == k):
            p[i] = model.probability(examples[i].features, examples[i].language)
            hits[i] = _hits(model, examples[i])
            refused[i] = _refused(model, p[i], hits[i], examples[i])
    return Predictions(tuple(p), tuple(refused), tuple(hits))


def _r(value: float) -> float:
    """Stored values are rounded, so a retrain writes a byte-identical file."""
    return round(float(value), 6)
