"""`rag eval --trust` and the report behind it, with the hashing embedder."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from rag.build import build_index
from rag.config import Settings
from rag.evaluation.calibration import trust_figures, trust_report
from rag.evaluation.gold import load_gold
from rag.models.embed import HashingEmbedder
from rag.search.language import Language
from rag.search.relevance import LanguageModel, RelevanceModel, question_key
from rag.store.index import load_index
from tests.conftest import ROOT, SAMPLE_DIR

FEATURES = ("cos", "cos_z", "doc_margin", "idf_coverage")


def _rag(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "rag", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=120)


def test_trust_report_on_the_sample(tmp_path: Path) -> None:
    settings = Settings(index_dir=tmp_path / "idx", model="hash:256")
    build_index(SAMPLE_DIR, settings, HashingEmbedder(256))
    index = load_index(settings.index_dir)
    lm = LanguageModel((0.3, 0.0, 0.0, 0.0), (0.05, 1.0, 1.0, 1.0), (4.0, 0.0, 0.0, 0.0),
                       0.0, 0.5)
    model = RelevanceModel("hash:256", FEATURES, {Language.NL: lm}, FEATURES,
                           {Language.NL: lm}, (0.6, 0.2))
    gold = [("gold_sample", load_gold(ROOT / "eval" / "gold_sample.jsonl")),
            ("unanswerable", load_gold(ROOT / "eval" / "unanswerable.jsonl"))]
    text = trust_report(index, HashingEmbedder(256), gold, model)
    assert text.startswith("### Relevance model on gold_sample, unanswerable")
    assert "| nl: written unanswerable, full index | 23 | 29 |" in text
    assert "Brier score" in text and "| hoog |" in text
    assert "In-sample" not in text  # this model was trained on none of these sets


def test_trust_figures_say_in_sample_and_go_into_json(tmp_path: Path) -> None:
    settings = Settings(index_dir=tmp_path / "idx", model="hash:256")
    build_index(SAMPLE_DIR, settings, HashingEmbedder(256))
    index = load_index(settings.index_dir)
    lm = LanguageModel((0.3,), (0.05,), (4.0,), 0.0, 0.5)
    sample = load_gold(ROOT / "eval" / "gold_sample.jsonl")
    # Trained on two of the sample questions (spelled another way: case and spacing differ).
    trained = tuple(question_key(f"  {q.question.upper()} ") for q in sample[:2])
    model = RelevanceModel("hash:256", ("cos",), {Language.NL: lm}, ("cos",), {Language.NL: lm},
                           trained_questions=trained)
    gold = [("gold_sample", sample),
            ("unanswerable", load_gold(ROOT / "eval" / "unanswerable.jsonl"))]
    figures = trust_figures(index, HashingEmbedder(256), gold, model)
    assert figures is not None and figures.in_sample == ("gold_sample",)
    assert "In-sample: the model was trained on these questions (2 of 30 in gold_sample)" in (
        figures.markdown())
    out = json.loads(json.dumps(figures.to_json()))
    assert out["in_sample"] == ["gold_sample"]
    nl = next(a for a in out["abstention"] if a["slice"] == "nl: written unanswerable, full index")
    assert nl["answerable"] == 23 and nl["unanswerable"] == 29
    assert 0.0 <= out["brier"] <= 1.0 and out["reliability"] and "hoog" in out["labels"]


def test_eval_trust_needs_gold_and_a_relevance_model(tmp_path: Path) -> None:
    result = _rag("eval", "--self-retrieval", "--trust", "--model", "hash:256", cwd=tmp_path)
    assert result.returncode == 2 and "--trust needs --gold" in result.stderr
    result = _rag("eval", "--gold", str(ROOT / "eval" / "gold_sample.jsonl"), "--corpus",
                  str(SAMPLE_DIR), "--model", "hash:256", "--trust", "--no-plot",
                  "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert result.returncode == 2 and "no relevance model for model 'hash:256'" in result.stderr
    assert "train_relevance.py" in result.stderr
