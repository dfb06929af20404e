from __future__ import annotations

import json

import pytest

from rag.search.judge import fusion_for
from rag.search.language import Language, detect_language
from rag.search.rank import DEFAULT_FUSION, Fusion, FusionSettings
from tests.conftest import ROOT


@pytest.mark.parametrize("text", [
    "Komt er een AI-adviesraad?",
    "Wat zei de minister over AI in het mkb?",
    "rookverbod op terrassen",
    "verhoging AOW-leeftijd",
    "gezichtsherkenning politie",
    "AI adviesraad",  # no function words, no telling spelling: Dutch, the corpus language
    "Bent u bekend met het rapport «The Future of NATO's European Land Forces»?",
])
def test_dutch_questions(text: str) -> None:
    assert detect_language(text) is Language.NL


@pytest.mark.parametrize("text", [
    "What did the minister say about small businesses and AI?",
    "Is the government setting up an AI advisory council?",
    "facial recognition police",
    "What about AI?",
    "«The law of the sea»",  # only a quote: the quote decides
])
def test_english_questions(text: str) -> None:
    assert detect_language(text) is Language.EN


def test_every_gold_question_is_detected_as_its_language() -> None:
    for name in ("gold.jsonl", "english.jsonl", "unanswerable.jsonl"):
        for line in (ROOT / "eval" / name).read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            english = row["kind"] == "crosslingual" or row["id"].startswith("m") or \
                row["id"] == "u10"
            assert detect_language(row["question"]) is (
                Language.EN if english else Language.NL), row


def test_fusion_weights_bm25_out_for_english_only() -> None:
    assert fusion_for(Language.NL, DEFAULT_FUSION) == DEFAULT_FUSION
    assert fusion_for(Language.EN, DEFAULT_FUSION).dense_weight == 1.0
    rrf = FusionSettings(method=Fusion.RRF, dense_weight=0.5)
    assert fusion_for(Language.EN, rrf) == FusionSettings(method=Fusion.RRF, dense_weight=1.0)
