from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rag.config import Settings
from rag.models.embed import HashingEmbedder
from rag.render import to_html, to_json
from rag.search.judge import judge
from rag.search.rank import DEFAULT_FUSION, Retriever, dense_scores
from rag.search.relevance import Evidence, LanguageModel, RelevanceModel
from rag.search.searcher import Searcher, open_searcher
from rag.store.index import load_index
from rag.types import Language, relevance_band
from tests.helpers import build_small_index

FEATURES = ("cos", "cos_z", "doc_margin", "idf_coverage")


def _model(model_id: str = "hash:256", threshold: float = 0.5) -> RelevanceModel:
    """P rises steeply with the cosine around 0.3 (hashing-embedder cosines)."""
    lm = LanguageModel((0.3, 0.0, 0.0, 0.0), (0.05, 1.0, 1.0, 1.0), (4.0, 0.0, 0.0, 0.0),
                       0.0, threshold)
    return RelevanceModel(model_id, FEATURES, {Language.NL: lm}, FEATURES, {Language.NL: lm})


@pytest.fixture
def searcher(tmp_path: Path) -> Searcher:
    build_small_index(tmp_path / "idx")
    return Searcher(load_index(tmp_path / "idx"), HashingEmbedder(256), relevance=_model())


def test_judge_scores_every_row_and_abstains_below_the_threshold() -> None:
    dense = np.array([0.5, 0.2, 0.1], dtype=np.float32)
    ev = Evidence(dense, np.zeros(3, np.float32), np.array([0, 1, 2]), (), np.zeros(0), 3, 4)
    judged = judge(_model(), ev, [0, 1], Language.NL, lambda row: set())
    assert len(judged.probabilities) == 2 and judged.probabilities[0] > judged.probabilities[1]
    assert judged.confidence == pytest.approx(judged.probabilities[0]) and not judged.abstain
    assert judge(_model(threshold=1.0), ev, [0], Language.NL, lambda row: set()).abstain
    nothing = judge(_model(), ev, [], Language.NL, lambda row: set())
    assert nothing.abstain and nothing.confidence == 0.0


def test_an_answered_question_is_judged_and_labelled(searcher: Searcher) -> None:
    answer = searcher.ask("Hoeveel kost de nieuwe brug over de rivier?", k=3)
    assert not answer.abstained and answer.language is Language.NL
    assert answer.confidence is not None and 0.5 < answer.confidence <= 1.0
    assert answer.hits[0].chunk.vraag == (1,)
    assert all(h.relevance is not None and 0 <= h.relevance <= 1 for h in answer.hits)
    labels = [relevance_band(h.relevance or 0.0) for h in answer.hits]
    assert labels[0] == "hoog" and labels[-1] == "laag"
    payload = to_json(answer)
    assert payload["abstained"] is False and payload["language"] == "nl"
    assert payload["confidence"] == pytest.approx(answer.confidence, abs=1e-6)
    assert [h["relevance_label"] for h in payload["hits"]] == labels


def test_an_unrelated_question_is_refused(searcher: Searcher) -> None:
    answer = searcher.ask("recept appeltaart kaneel", k=3)
    assert answer.abstained and answer.hits  # the weak hits stay available (--json)
    assert answer.confidence is not None and answer.confidence < 0.5


def test_an_explicit_cosine_threshold_decides_instead(tmp_path: Path) -> None:
    build_small_index(tmp_path / "idx")
    index = load_index(tmp_path / "idx")
    lenient = Searcher(index, HashingEmbedder(256), min_score=-1.0, relevance=_model())
    answer = lenient.ask("recept appeltaart kaneel", k=2)
    assert not answer.abstained and answer.hits[0].relevance is not None


def test_english_questions_rank_by_the_dense_scores_alone(searcher: Searcher) -> None:
    question = "When does the station in Zwolle open, what is the date?"
    answer = searcher.ask(question, k=5)
    assert answer.language is Language.EN
    vector = searcher.embedder.embed_queries([question])[0]
    dense = dense_scores(searcher.index.vectors(), vector)
    by_dense = [searcher.index.chunks[i].chunk_id for i in np.argsort(-dense, kind="stable")]
    assert [h.chunk.chunk_id for h in answer.hits] == by_dense[:5]
    assert answer.hits[0].score == 1.0  # the dense scores, stretched over the passages
    dutch_style = Searcher(searcher.index, searcher.embedder, relevance=_model(),
                           fusions=dict.fromkeys(Language, DEFAULT_FUSION)).ask(question, k=5)
    assert [h.score for h in dutch_style.hits] != [h.score for h in answer.hits]


def test_judged_with_a_dense_retriever_too(searcher: Searcher) -> None:
    answer = searcher.ask("Wanneer opent het station in Zwolle?", k=2, retriever=Retriever.DENSE)
    assert answer.hits[0].chunk.vraag == (2,) and answer.hits[0].relevance is not None


def test_a_model_without_relevance_file_keeps_the_cosine_rule(tmp_path: Path) -> None:
    build_small_index(tmp_path / "idx")
    searcher = open_searcher(Settings(index_dir=tmp_path / "idx", model="hash:256"))
    assert searcher.relevance is None and searcher.min_score is None
    answer = searcher.ask("recept appeltaart kaneel")
    assert not answer.abstained and answer.hits[0].relevance is None
    assert answer.confidence == pytest.approx(max(dense_scores(
        searcher.index.vectors(), searcher.embedder.embed_queries([answer.question])[0])))
    assert to_json(answer)["hits"][0]["relevance"] is None


def test_the_chat_shows_the_absolute_label_when_a_model_judged(searcher: Searcher) -> None:
    answer = searcher.ask("Hoeveel kost de nieuwe brug over de rivier?", k=2)
    markup = to_html(answer)
    top, second = (relevance_band(h.relevance or 0.0) for h in answer.hits)
    assert f"relevantie: {top}</span>" in markup
    assert f"relevantie: {second}</span>" in markup and second == "laag"
