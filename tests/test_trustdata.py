from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from rag.chunk import chunk_document
from rag.evaluation import calibration
from rag.evaluation.embedcache import CachedEmbedder
from rag.evaluation.gold import GoldQuestion
from rag.evaluation.relevance_fit import cross_validate, fit_model, predict, sample_weights
from rag.evaluation.trustdata import (
    PAIRS,
    ExampleBuilder,
    build_examples,
    fold_of,
    pair_examples,
    questions_to_embed,
)
from rag.models.embed import HashingEmbedder
from rag.store.index import in_memory_index
from rag.types import ChunkSettings, DocRecord, Language
from tests.helpers import TOPICS, make_document

GOLD = [
    GoldQuestion("q1", "Hoeveel kost de brug over de rivier?", "ah-tk-20232024-1", (1,),
                 "paraphrase"),
    GoldQuestion("q2", "opening station Zwolle", "ah-tk-20232024-2", (2,), "topical"),
    GoldQuestion("q3", "When does the Zwolle station open?", "ah-tk-20232024-3", (2,),
                 "crosslingual"),
    GoldQuestion("u1", "Komt er een suikertaks op frisdrank?", None, (), "unanswerable"),
]


@pytest.fixture(scope="module")
def builder() -> ExampleBuilder:
    docs = [make_document(f"ah-tk-20232024-{i}") for i in range(1, 6)]
    settings = ChunkSettings()
    chunks = [c for d in docs for c in chunk_document(d, settings)]
    embedder = HashingEmbedder(256)
    vectors = embedder.embed_documents([c.passage(settings) for c in chunks])
    index = in_memory_index(chunks, [DocRecord(d.doc_id, d.source, d.meta) for d in docs],
                            vectors, embedder.model_id, settings)
    return ExampleBuilder(index, embedder)


def _examples(builder: ExampleBuilder, **options: bool):  # type: ignore[no-untyped-def]
    return build_examples(builder, [("gold", GOLD)], **options)


def test_questions_to_embed_are_cleaned_once(builder: ExampleBuilder) -> None:
    texts = questions_to_embed(builder, [("gold", [*GOLD, GOLD[0]])], self_retrieval=False)
    assert texts == [q.question for q in GOLD]


def test_full_index_and_leave_document_out_views(builder: ExampleBuilder) -> None:
    examples = _examples(builder, self_retrieval=False, small_indexes=False)
    full = {e.id: e for e in examples if e.view == "full"}
    assert {k: e.answerable for k, e in full.items()} == {
        "q1": True, "q2": True, "q3": True, "u1": False}
    left_out = [e for e in examples if e.view == "leave-out"]
    assert sorted(e.id for e in left_out) == ["q1", "q2", "q3"]
    assert all(not e.answerable and e.leave_out and e.user for e in left_out)
    assert full["q1"].top_right and full["q1"].features["cos"] > 0
    assert full["q3"].language is Language.EN
    assert full["q1"].group == "ah-tk-20232024-1" and full["u1"].group == "u:u1"
    assert all(len(e.hits) == 5 and e.hits[0][0] == e.features for e in examples)


def test_small_indexes_and_self_retrieval(builder: ExampleBuilder) -> None:
    examples = _examples(builder)
    views = {e.view for e in examples}
    assert {"full", "leave-out", "one", "n3"} <= views
    own = [e for e in examples if e.source == "self-retrieval" and e.view == "full"]
    assert len(own) == len(TOPICS) * 5 and all(e.answerable and not e.user for e in own)
    one = [e for e in examples if e.view == "one"]
    assert any(e.answerable for e in one) and any(not e.answerable for e in one)
    assert all(e.features["doc_margin"] == 0.0 and e.features["log_docs"] == 0.0 for e in one)
    assert _examples(builder) == examples  # the same seed gives the same examples


def test_weights_fitting_and_cross_validation(builder: ExampleBuilder) -> None:
    examples = _examples(builder)
    w = sample_weights(examples)
    assert w.mean() == pytest.approx(1.0) and (w > 0).all()
    model = fit_model(examples, "hash:256", folds=3)
    assert Language.NL in model.languages and model.features
    judged = predict(model, examples)
    assert all(0 <= p <= 1 for p in judged.probabilities)
    held_out = cross_validate(examples, "hash:256", folds=3)
    assert len(held_out.refused) == len(examples) and len(held_out.hits) == len(examples)
    assert fit_model(examples, "hash:256", folds=3).to_json() == model.to_json()
    table = calibration.markdown(examples, held_out.probabilities, held_out.refused, "t")
    assert "nl: leave-document-out" in table and "Brier" in table


def test_folds_are_stable() -> None:
    assert fold_of("ah-tk-20232024-2096", 5) == fold_of("ah-tk-20232024-2096", 5)
    assert len({fold_of(f"doc-{i}", 5) for i in range(50)}) == 5


def test_cached_embedder_embeds_each_text_once(tmp_path: Path) -> None:
    class Counting(HashingEmbedder):
        calls = 0

        def embed_queries(self, texts):  # type: ignore[no-untyped-def]
            Counting.calls += len(texts)
            return super().embed_queries(texts)

    cached = CachedEmbedder(Counting(64), tmp_path / "cache")
    first = cached.embed_queries(["een", "twee", "een"])
    again = CachedEmbedder(Counting(64), tmp_path / "cache").embed_queries(["twee", "een"])
    assert Counting.calls == 2
    np.testing.assert_array_equal(again, first[[1, 0]])
    np.testing.assert_array_equal(first, HashingEmbedder(64).embed_queries(["een", "twee", "een"]))
    assert cached.embed_documents(["een"]).shape == (1, 64)  # passages are cached apart
    assert cached.model_id == "hash:64" and cached.dim == 64


def test_dev_pairs_become_answerable_and_left_out_examples(tmp_path: Path) -> None:
    # Made-up pairs in the shape of ../shared/qa_pairs/dev.jsonl; pairs 3 and 4 share their
    # answer, so they are one group and leave it out together.
    answers = [f"De {w} wordt in 2025 {v} door het ministerie." for w, v in
               (("brug", "gebouwd"), ("school", "gesloten"), ("haven", "uitgebreid"))]
    questions = ("Wanneer wordt de brug gebouwd?", "Wanneer wordt de school gesloten?",
                 "Wanneer wordt de haven uitgebreid?", "Wordt de haven groter?")
    rows = [(q, answers[min(i, 2)], answers[(i + 1) % 3]) for i, q in enumerate(questions)]
    pairs = tmp_path / "dev.jsonl"
    pairs.write_text("".join(json.dumps({"question": q, "answer": a, "negative_answer": n}) + "\n"
                             for q, a, n in rows), encoding="utf-8")
    examples = pair_examples(pairs, CachedEmbedder(HashingEmbedder(256)))
    full = [e for e in examples if e.view == "full"]
    gone = [e for e in examples if e.view == "leave-out"]
    assert len(full) == len(gone) == 4
    assert all(e.answerable and e.source == PAIRS and not e.user for e in full)
    assert not any(e.answerable or e.top_right for e in gone)
    assert full[0].top_right  # its own answer ranks first
    assert full[2].group == full[3].group  # one answer, one group
    # Their own cell: the dev pairs do not take weight from self-retrieval or users.
    weights = sample_weights(full + gone)
    assert weights.sum() == pytest.approx(len(weights))
