from __future__ import annotations

import math

import pytest

from rag.evaluation.calibration import abstention, brier, by_kind, by_language_and_set, reliability
from rag.evaluation.trustdata import Example
from rag.search.language import Language


def _e(kind: str, answerable: bool, view: str = "full", language: Language = Language.NL,
       source: str = "gold") -> Example:
    return Example("x", source, kind, language, view, answerable, "g", {}, answerable)


def test_abstention_counts() -> None:
    examples = [_e("paraphrase", True), _e("paraphrase", True), _e("unanswerable", False),
                _e("unanswerable", False)]
    a = abstention("s", examples, [True, False, True, False])
    assert (a.n_answerable, a.n_unanswerable) == (2, 2)
    assert a.precision == 0.5 and a.recall == 0.5 and a.false_refusal == 0.5
    none = abstention("s", examples[:2], [False, False])
    assert math.isnan(none.precision) and math.isnan(none.recall) and none.false_refusal == 0


def test_slices_per_language_set_and_kind() -> None:
    examples = [_e("paraphrase", True), _e("unanswerable", False),
                _e("paraphrase", False, view="leave-out"),
                _e("crosslingual", True, language=Language.EN),
                _e("self", True, source="self-retrieval"),
                _e("paraphrase", True, view="one"), _e("unanswerable", False, view="one"),
                _e("unanswerable", False, language=Language.EN)]
    refused = [False, True, True, False, False, True, False, True]
    rows = {a.name: a for a in by_language_and_set(examples, refused)}
    assert rows["nl: written unanswerable, full index"].recall == 1.0
    assert rows["nl: leave-document-out"].n_unanswerable == 1
    assert rows["nl: small indexes (1-30 documents)"].false_refusal == 1.0
    assert rows["en: written unanswerable, full index"].n_answerable == 1
    assert "en: leave-document-out" not in rows  # no unanswerable example: no row
    kinds = by_kind(examples, refused)
    assert kinds["paraphrase (leave-out)"] == (1, 1.0) and kinds["self-retrieval"] == (1, 0.0)
    assert "one" not in str(kinds)


def test_reliability_and_brier() -> None:
    p = [0.05, 0.15, 0.95, 1.0]
    truth = [False, True, True, True]
    bands = reliability(p, truth)
    assert [(b.low, b.n) for b in bands] == [(0.0, 1), (0.1, 1), (0.9, 2)]
    assert bands[-1].predicted == pytest.approx(0.975) and bands[-1].observed == 1.0
    assert brier(p, truth) == pytest.approx((0.05**2 + 0.85**2 + 0.05**2 + 0) / 4)
    assert math.isnan(brier([], []))
