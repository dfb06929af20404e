"""The default model's two question paths give the same answers.

A one-shot ``rag ask`` embeds its question through the ONNX export of the provisioned model
(no torch import); a process that has loaded the full model for a build uses torch. Users
must get the same hits either way: the same vraag in the same order, the same decision
whether anything was found, the same labels.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.build import build_index
from rag.config import Settings
from rag.models.embed import load_embedder
from rag.render import relevance_label
from rag.search.searcher import open_searcher
from tests.conftest import ROOT, SAMPLE_DIR

pytestmark = pytest.mark.slow


def _questions() -> list[str]:
    lines = [json.loads(line) for name in ("gold_sample.jsonl", "english.jsonl",
                                           "unanswerable.jsonl")
             for line in (ROOT / "eval" / name).read_text(encoding="utf-8").splitlines()]
    return [line["question"] for line in lines]


def _facts(answer):
    return (answer.abstained, [(h.doc.doc_id, h.chunk.vraag, relevance_label(h, answer.question))
                               for h in answer.hits])


def test_onnx_and_torch_questions_give_the_same_answers(tmp_path: Path) -> None:
    settings = Settings(index_dir=tmp_path / "index")
    build_index(SAMPLE_DIR, settings, load_embedder(settings.model))
    onnx = open_searcher(settings)
    assert onnx.embedder._query_engine() is not None  # the export exists after a build
    torch = open_searcher(settings)
    torch.embedder._engine = False  # no ONNX engine: questions through the full model
    questions = _questions()
    assert len(questions) > 100
    for question in questions:
        a, b = onnx.ask(question, k=10), torch.ask(question, k=10)
        assert _facts(a) == _facts(b), question
        assert a.confidence == pytest.approx(b.confidence, abs=1e-3)
        for x, y in zip(a.hits, b.hits, strict=True):
            assert x.score == pytest.approx(y.score, abs=1e-3)
