from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from rag.errors import QueryError
from rag.evaluation.beir import BeirDataset, BeirError, load_beir, pairs_to_beir, write_beir
from rag.evaluation.gold import EvalError, GoldQuestion, load_gold, self_retrieval_questions
from rag.evaluation.metrics import (
    abstention_metrics,
    calibrate_threshold,
    dedupe,
    ndcg_at,
    recall_at,
    reciprocal_rank,
    retrieval_metrics,
)
from rag.evaluation.report import markdown_table, plot_recall, to_json
from rag.evaluation.run import beir_reports, score_set
from rag.models.embed import HashingEmbedder
from rag.render import to_json as answer_json
from rag.search.rank import Retriever
from rag.search.relevance import LanguageModel, RelevanceModel
from rag.search.searcher import Searcher
from rag.store.index import load_index
from rag.types import Language
from tests.helpers import build_small_index

ROOT = Path(__file__).resolve().parents[1]


# --- metrics, against values computed by hand -------------------------------------------

def test_recall_mrr_ndcg_by_hand() -> None:
    ranked = ["a", "b", "c", "d"]
    assert recall_at(ranked, {"b", "x"}, 1) == 0.0
    assert recall_at(ranked, {"b", "x"}, 2) == 0.5
    assert reciprocal_rank(ranked, {"c"}) == pytest.approx(1 / 3)
    assert reciprocal_rank(ranked, {"d"}, k=3) == 0.0
    # relevant at ranks 2 and 4; ideal at ranks 1 and 2
    dcg = 1 / math.log2(3) + 1 / math.log2(5)
    idcg = 1 + 1 / math.log2(3)
    assert ndcg_at(ranked, {"b", "d"}) == pytest.approx(dcg / idcg)
    assert ndcg_at(ranked, {"b": 2.0, "a": 1.0}) == pytest.approx(
        (1 + 2 / math.log2(3)) / (2 + 1 / math.log2(3)))
    with pytest.raises(ValueError):
        recall_at(ranked, set(), 1)


def test_retrieval_metrics_average_over_questions() -> None:
    m = retrieval_metrics([["a", "b"], ["c", "d"]], [{"a"}, {"d"}])
    assert (m.n, m.recall_1, m.recall_5, m.mrr_10) == (2, 0.5, 1.0, 0.75)
    assert retrieval_metrics([], []).n == 0


def test_dedupe_keeps_first_occurrence() -> None:
    assert dedupe(["d1", "d2", "d1", "d3", "d2"]) == ["d1", "d2", "d3"]


def test_abstention_precision_recall_by_hand() -> None:
    conf = [0.9, 0.8, 0.7, 0.6, 0.5]
    truth = [False, False, True, False, True]
    m = abstention_metrics(conf, truth, 0.75)  # abstains on 0.7, 0.6, 0.5
    assert (m.precision, m.recall, m.false_abstention) == (2 / 3, 1.0, 1 / 3)
    assert m.f1 == pytest.approx(0.8)


def test_calibration_respects_the_false_abstention_budget() -> None:
    conf = [0.9, 0.8, 0.7, 0.6, 0.5]
    truth = [False, False, True, False, True]
    assert calibrate_threshold(conf, truth, max_false_abstention=0.0) == pytest.approx(0.55)
    assert calibrate_threshold(conf, truth, max_false_abstention=0.5) == pytest.approx(0.75)
    assert calibrate_threshold([0.5, 0.9], [False, False]) == -math.inf


# --- gold files ---------------------------------------------------------------------------

def _write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_load_gold_reads_and_validates(tmp_path: Path) -> None:
    good = {"id": "a", "question": "q?", "doc_id": "d", "vraag": [2], "kind": "paraphrase"}
    none = {"id": "b", "question": "q?", "doc_id": None, "vraag": [], "kind": "unanswerable"}
    gold = load_gold(_write(tmp_path / "g.jsonl", [good, none]))
    assert gold[0] == GoldQuestion("a", "q?", "d", (2,), "paraphrase")
    assert not gold[1].answerable
    for bad in ({**good, "kind": "other"}, {**none, "doc_id": "d"}, {**good, "vraag": []},
                {"id": "x"}):
        with pytest.raises(EvalError, match=r"line 1"):
            load_gold(_write(tmp_path / "bad.jsonl", [bad]))
    with pytest.raises(EvalError, match="duplicate"):
        load_gold(_write(tmp_path / "dup.jsonl", [good, good]))


@pytest.mark.parametrize("name", ["gold_sample.jsonl", "gold.jsonl"])
def test_committed_gold_files_are_valid(name: str) -> None:
    gold = load_gold(ROOT / "eval" / name)
    kinds = {q.kind for q in gold}
    assert kinds == {"paraphrase", "topical", "crosslingual", "unanswerable"}
    assert len(gold) >= (25 if name == "gold_sample.jsonl" else 80)


# --- scoring over a small index -----------------------------------------------------------

def _searcher(tmp_path: Path, min_score: float | None = None) -> tuple[Searcher, list]:
    chunks, _ = build_small_index(tmp_path / "idx")
    return Searcher(load_index(tmp_path / "idx"), HashingEmbedder(256), min_score), chunks


def test_score_set_reports_levels_kinds_and_abstention(tmp_path: Path) -> None:
    searcher, chunks = _searcher(tmp_path, min_score=0.3)
    doc = chunks[0].doc_id
    gold = [
        GoldQuestion("1", "Hoeveel kost de brug?", doc, (1,), "paraphrase"),
        GoldQuestion("2", "vuurwerkverbod", doc, (5,), "topical"),
        GoldQuestion("3", "Wanneer opent het station in Zwolle?", doc, (2,), "paraphrase"),
        GoldQuestion("4", "kernenergie", None, (), "unanswerable"),
    ]
    reports = score_set("t", gold, searcher, list(Retriever))
    assert {r.retriever for r in reports} == {"bm25", "dense", "hybrid"}
    for rep in reports:
        assert rep.metrics["document"]["all"].recall_1 == 1.0  # one document
        assert rep.metrics["vraag"]["all"].n == 3
        assert set(rep.metrics["vraag"]) == {"all", "paraphrase", "topical"}
        assert rep.abstention is not None and rep.abstention.n_unanswerable == 1
        assert len(rep.questions) == 4 and rep.questions[0].vraag_rank == 1
    bm25 = next(r for r in reports if r.retriever == "bm25")
    assert bm25.metrics["vraag"]["all"].recall_1 == 1.0
    assert "| t | bm25 | vraag | all | 3 | 1.000 |" in markdown_table(reports)
    out = to_json(reports)
    first = out["per_question"][0]
    assert set(first) >= {"id", "hits"} and set(first["hits"][0]) == {"doc_id", "vraag", "score"}
    assert plot_recall(reports, tmp_path / "r.png").stat().st_size > 1000


def test_the_abstention_table_names_what_decided(tmp_path: Path) -> None:
    build_small_index(tmp_path / "idx")
    index = load_index(tmp_path / "idx")
    doc = index.chunks[0].doc_id
    gold = [GoldQuestion("1", "Hoeveel kost de brug?", doc, (1,), "paraphrase"),
            GoldQuestion("4", "kernenergie", None, (), "unanswerable")]
    lm = LanguageModel((0.3,), (0.05,), (4.0,), 0.0, 0.5)
    model = RelevanceModel("hash:256", ("cos",), {Language.NL: lm}, ("cos",), {Language.NL: lm})
    # A cosine threshold of 0 is a threshold (not "none"), the relevance model names its cuts.
    for searcher, rule, cut in (
            (Searcher(index, HashingEmbedder(256), min_score=0.0), "best cosine < 0.0000", 0.0),
            (Searcher(index, HashingEmbedder(256), relevance=model),
             "relevance model, P(answer) below nl 0.500", None),
            (Searcher(index, HashingEmbedder(256)), "never", None)):
        reports = score_set("t", gold, searcher, [Retriever.HYBRID])
        a = reports[0].abstention
        assert a is not None and a.rule == rule
        table = markdown_table(reports)
        assert f"| t | hybrid | {rule} |" in table and "inf" not in table
        assert to_json(reports)["metrics"]["t"]["hybrid"]["abstention"]["threshold"] == cut
    calibrated = score_set("t", gold, Searcher(index, HashingEmbedder(256)), [Retriever.HYBRID],
                           calibrate=True)[0].abstention
    assert calibrated is not None and calibrated.rule.endswith("chosen on this set")


def test_missing_vraag_counts_as_a_miss(tmp_path: Path) -> None:
    searcher, chunks = _searcher(tmp_path)
    gold = [GoldQuestion("1", "brug", chunks[0].doc_id, (9,), "topical")]
    rep = score_set("t", gold, searcher, [Retriever.BM25])[0]
    assert rep.metrics["vraag"]["all"].recall_10 == 0.0
    assert rep.metrics["document"]["all"].recall_1 == 1.0


def test_self_retrieval_uses_every_block_once(tmp_path: Path) -> None:
    _, chunks = _searcher(tmp_path)
    questions = self_retrieval_questions(chunks)
    assert [q.id for q in questions] == [c.chunk_id for c in chunks]
    assert [(q.doc_id, q.vraag) for q in questions] == [c.unit for c in chunks]
    assert all(q.kind == "self" for q in questions)


# --- BEIR -----------------------------------------------------------------------------------

def test_pairs_convert_to_beir_and_round_trip(tmp_path: Path) -> None:
    pairs = [
        {"question": "Kost de brug veel?", "answer": "De brug kost 40 miljoen.",
         "negative_answer": "Het station opent in maart."},
        {"question": "Wanneer opent het station?", "answer": "Het station opent in maart.",
         "negative_answer": "De brug kost 40 miljoen."},
    ]
    dataset = pairs_to_beir(_write(tmp_path / "pairs.jsonl", pairs))
    assert len(dataset.corpus) == 2  # identical texts are one passage
    assert dataset.qrels["q2"] == {next(p for p, (_, t) in dataset.corpus.items()
                                        if t.startswith("Het station")): 1.0}
    write_beir(dataset, tmp_path / "beir")
    header = (tmp_path / "beir" / "qrels" / "test.tsv").read_text().splitlines()[0]
    assert header == "query-id\tcorpus-id\tscore"
    assert load_beir(tmp_path / "beir") == dataset
    assert len(pairs_to_beir(tmp_path / "pairs.jsonl", limit=1).queries) == 1


def test_beir_scoring_and_errors(tmp_path: Path) -> None:
    dataset = BeirDataset({"p1": ("", "De brug kost 40 miljoen."),
                           "p2": ("Station", "Het station opent in maart.")},
                          {"q1": "station maart"}, {"q1": {"p2": 1.0}})
    rep = beir_reports("mini", dataset, HashingEmbedder(256), [Retriever.HYBRID])[0]
    assert rep.metrics["passage"]["all"].recall_1 == 1.0
    with pytest.raises(BeirError, match=r"corpus\.jsonl"):
        load_beir(tmp_path)


# --- the searcher uses the same retrieval ---------------------------------------------------

def test_searcher_retriever_choice_and_abstention(tmp_path: Path) -> None:
    build_small_index(tmp_path / "idx")
    index = load_index(tmp_path / "idx")
    searcher = Searcher(index, HashingEmbedder(256))
    for retriever in ("bm25", "dense", "hybrid", None):
        answer = searcher.ask("Wat kost de brug over de rivier?", k=2, retriever=retriever)
        assert answer.hits[0].chunk.vraag == (1,) and not answer.abstained
    assert set(answer_json(answer)["hits"][0]) >= {"doc_id", "vraag", "score"}
    strict = Searcher(index, HashingEmbedder(256), min_score=0.99)
    assert strict.ask("Komt er een vuurwerkverbod?").abstained
    with pytest.raises(QueryError, match=r"unknown retriever"):
        searcher.ask("brug", retriever="magic")
    assert np.isfinite([h.score for h in searcher.ask("brug").hits]).all()
