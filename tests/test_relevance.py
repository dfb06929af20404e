from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from rag.models.embed import load_embedder
from rag.models.registry import DEFAULT_MODEL, INT8_MODEL, Source, model_spec
from rag.search.judge import DATA, relevance_for
from rag.search.relevance import (
    BASE_FEATURES,
    STATISTIC_ROWS,
    Evidence,
    LanguageModel,
    RelevanceError,
    RelevanceModel,
    anchor_words,
    feature_values,
    feature_vector,
    load_relevance,
    lucene_idf,
    statistic_rows,
)
from rag.types import Language, relevance_band

# Four passages in three documents; the question has three stemmed words.
DENSE = np.array([0.90, 0.80, 0.85, 0.70], dtype=np.float32)
LEXICAL = np.array([3.0, 0.0, 6.0, 1.0], dtype=np.float32)
DOCS = np.array([0, 0, 1, 2])
TOKENS = ("stikstof", "boer", "xyzzy")
DF = np.array([2, 1, 0])  # "xyzzy" is not in the index


def _evidence(keep: np.ndarray | None = None) -> Evidence:
    return Evidence(DENSE, LEXICAL, DOCS, TOKENS, DF, n_passages=4, n_words=6, keep=keep)


def test_idf_is_lucenes_and_highest_for_unseen_words() -> None:
    idf = lucene_idf(DF, 4)
    assert idf[0] == pytest.approx(math.log(1 + 2.5 / 2.5))
    assert idf[2] > idf[1] > idf[0]


def test_features_of_the_best_passage_by_hand() -> None:
    idf = lucene_idf(DF, 4)
    v = feature_values(_evidence(), 0, {"stikstof", "vraag"})
    dense = DENSE.astype(np.float64)
    assert set(v) == set(BASE_FEATURES)
    assert v["cos"] == pytest.approx(0.90)
    assert v["cos_z"] == pytest.approx((0.90 - dense.mean()) / dense.std(), rel=1e-5)
    assert v["doc_margin"] == pytest.approx(0.90 - 0.85)  # best of documents 1 and 2
    assert v["gap_best"] == pytest.approx(0.0)
    assert v["bm25"] == pytest.approx(3.0 / (idf.sum() * 2.2))
    assert v["bm25_rel"] == pytest.approx(0.5)
    assert v["coverage"] == pytest.approx(1 / 3)
    assert v["idf_coverage"] == pytest.approx(idf[0] / idf.sum())
    assert v["known"] == pytest.approx((idf[0] + idf[1]) / idf.sum())
    assert v["lex_rank"] == pytest.approx(1 / 2) and v["dense_rank"] == 1.0
    assert v["agree"] == 0.0  # best BM25 is document 1, best cosine document 0
    assert v["log_words"] == pytest.approx(math.log(6))
    assert v["log_docs"] == pytest.approx(math.log(3))


def test_anchors_are_numbers_acronyms_and_names() -> None:
    assert anchor_words("Will the minister ban the use of ChatGPT by civil servants?") == [
        "ChatGPT"]
    assert anchor_words("How many jobs did AI cost the Netherlands in 2023? Ask TNO.") == [
        "AI", "Netherlands", "2023", "TNO"]  # "How" and "Ask" open a sentence
    assert anchor_words("Komt er een AI-fabriek? Wat kost één F-35?") == ["AI", "35"]
    # Two anchors, one in the passage, one the index never saw; none: both count as 1.
    ev = Evidence(DENSE, LEXICAL, DOCS, TOKENS, DF, 4, 6, anchors=("tno", "chatgpt"),
                  anchor_df=np.array([2, 0]))
    v = feature_values(ev, 0, {"tno", "stikstof"})
    assert v["anchor_coverage"] == 0.5 and v["anchor_known"] == 0.5
    plain = feature_values(_evidence(), 0, {"tno"})
    assert plain["anchor_coverage"] == 1.0 and plain["anchor_known"] == 1.0


def test_cos_z_takes_its_statistics_from_a_fixed_sample_of_rows() -> None:
    assert list(statistic_rows(5, None)) == [0, 1, 2, 3, 4]
    assert list(statistic_rows(5, np.array([True, False, True, False, True]))) == [0, 2, 4]
    many = statistic_rows(10 * STATISTIC_ROWS, None)
    assert len(many) == STATISTIC_ROWS and many[0] == 0 and many[-1] == 10 * STATISTIC_ROWS - 1
    # Rows outside the sample do not move cos_z (candidate search gives them a floor value).
    dense = np.linspace(0.5, 0.9, 10 * STATISTIC_ROWS).astype(np.float32)
    docs = np.arange(len(dense))
    lexical = np.zeros(len(dense), dtype=np.float32)
    floored = dense.copy()
    outside = np.setdiff1d(np.arange(len(dense)), many)
    floored[outside[:-1]] = dense.min()  # all but the best stay as they are
    a, b = (feature_values(Evidence(d, lexical, docs, TOKENS, DF, len(d), 6), len(d) - 1, set())
            for d in (dense, floored))
    assert a["cos_z"] == pytest.approx(b["cos_z"])


def test_a_lower_passage_and_a_filter() -> None:
    v = feature_values(_evidence(), 1, set())
    assert v["doc_margin"] == pytest.approx(0.80 - 0.85) and v["gap_best"] == pytest.approx(0.1)
    assert v["dense_rank"] == pytest.approx(1 / 3) and v["lex_rank"] == pytest.approx(1 / 4)
    kept = feature_values(_evidence(keep=np.array([True, True, False, False])), 0, set())
    assert kept["doc_margin"] == 0.0  # one document left: nothing to compete with
    assert kept["log_docs"] == 0.0 and kept["bm25_rel"] == 1.0


def test_products_of_features() -> None:
    assert list(feature_vector({"cos": 0.5, "log_docs": 4.0}, ["cos", "cos*log_docs"])) == [
        0.5, 2.0]


def _model(weights: tuple[float, ...] = (10.0, 0.0, 5.0, 0.0)) -> RelevanceModel:
    lm = LanguageModel((0.85, 0.0, 0.0, 0.0), (0.05, 1.0, 0.1, 1.0), weights, 0.0, 0.4)
    return RelevanceModel("m", ("cos", "cos_z", "doc_margin", "idf_coverage"),
                          {Language.NL: lm}, ("cos", "cos_z", "doc_margin", "idf_coverage"),
                          {Language.NL: lm})


def test_labels_and_language_fallback() -> None:
    model = _model()
    assert [relevance_band(p) for p in (0.9, 0.6, 0.3, 0.2, 0.1)] == [
        "hoog", "hoog", "redelijk", "redelijk", "laag"]
    values = {"cos": 0.85, "cos_z": 0.0, "doc_margin": 0.0, "idf_coverage": 0.0}
    assert model.probability(values, Language.EN) == pytest.approx(0.5)  # falls back to nl
    assert model.threshold(Language.EN) == 0.4


def test_round_trip_and_refusals(tmp_path: Path) -> None:
    path = tmp_path / "relevance.json"
    path.write_text(json.dumps(_model().to_json()))
    assert load_relevance(path) == _model()
    raw = _model().to_json()
    raw["features"] = ["cos", "cos_z", "doc_margin", "nonsense"]
    path.write_text(json.dumps(raw))
    with pytest.raises(RelevanceError, match="train_relevance"):
        load_relevance(path)
    path.write_text("{")
    with pytest.raises(RelevanceError, match="unreadable"):
        load_relevance(path)


# The model file in the repository, as the searcher loads it.
STORED = load_relevance(DATA / "relevance.json")


def _stored_values(**change: float) -> dict[str, float]:
    values = feature_values(_evidence(), 0, {"stikstof", "boer"})
    values.update(change)
    return values


def test_the_stored_model_loads_for_the_default_model() -> None:
    spec = model_spec(DEFAULT_MODEL)
    assert relevance_for(spec, STORED.model_id) == STORED
    assert relevance_for(spec, "another-model") is None  # other weights: not this model's
    assert relevance_for(model_spec("hash:64"), STORED.model_id) is None
    assert set(STORED.languages) == {Language.NL, Language.EN}
    assert "train_relevance.py" in STORED.trained_with
    for language in Language:
        assert 0.0 < STORED.threshold(language) < 1.0


@pytest.mark.parametrize("name", [DEFAULT_MODEL, INT8_MODEL])
def test_every_offline_model_can_abstain_with_a_model_trained_on_its_own_weights(
        name: str) -> None:
    # A retrained or re-provisioned model changes its id; a relevance file left behind
    # would be ignored (and "nothing found" fall back to the cosine rule) without this test.
    spec = model_spec(name)
    assert spec.source is Source.PROVISIONED
    assert spec.relevance is not None
    shipped = load_relevance(DATA / spec.relevance)
    assert shipped.model_id == load_embedder(name).model_id
    assert relevance_for(spec, shipped.model_id) == shipped
    assert set(shipped.languages) == {Language.NL, Language.EN}
    assert shipped.features == STORED.features  # trained by the same command


def test_a_model_file_for_other_weights_is_not_used_and_says_so(
        caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("WARNING", logger="vraagbaak.search"):
        assert relevance_for(model_spec(DEFAULT_MODEL), "multilingual-e5-small@other") is None
    assert "trained for" in caplog.text and "train_relevance.py" in caplog.text


@pytest.mark.parametrize("language", list(Language))
def test_stored_probabilities_lie_in_0_1_and_rise_with_the_evidence(language: Language) -> None:
    rng = np.random.default_rng(2)
    for _ in range(200):
        values = _stored_values(cos=float(rng.uniform(0.7, 0.95)),
                                doc_margin=float(rng.uniform(-0.05, 0.1)),
                                cos_z=float(rng.uniform(0, 8)),
                                idf_coverage=float(rng.uniform(0, 1)))
        for p in (STORED.probability(values, language), STORED.hit_probability(values, language)):
            assert 0.0 <= p <= 1.0
    for feature, low, high in (("cos", 0.80, 0.90), ("doc_margin", 0.0, 0.05)):
        assert STORED.probability(_stored_values(**{feature: low}), language) < \
            STORED.probability(_stored_values(**{feature: high}), language), feature
    # Word coverage: decisive for Dutch; for English (Dutch BM25 words) it may count for
    # next to nothing, but never against.
    few = _stored_values(idf_coverage=0.1, known_coverage=0.1, cos=0.85)
    many = _stored_values(idf_coverage=0.9, known_coverage=0.9, cos=0.85)
    slack = 0.0 if language is Language.NL else 1e-6
    for judge in (STORED.probability, STORED.hit_probability):
        assert judge(few, language) < judge(many, language) + slack


@pytest.mark.parametrize("language", list(Language))
def test_a_hit_scores_higher_as_its_cosine_rises(language: Language) -> None:
    previous = -1.0
    for cos in (0.70, 0.75, 0.80, 0.84, 0.88):
        dense = DENSE.copy()
        dense[3] = cos  # passage 3 moves up through the ranking
        ev = Evidence(dense, LEXICAL, DOCS, TOKENS, DF, 4, 6)
        p = STORED.hit_probability(feature_values(ev, 3, {"stikstof"}), language)
        assert p > previous, cos
        previous = p
