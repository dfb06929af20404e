"""The searcher's judgement of its own hits: language-aware fusion, relevance, abstention.

Used by `rag.search.searcher.Searcher`, whose `rank` the training and evaluation of the
relevance model search with, so the model is trained on exactly what the searcher computes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

import numpy as np

from rag.models.registry import ModelSpec
from rag.search.rank import FusionSettings
from rag.search.relevance import (
    Evidence,
    RelevanceModel,
    anchor_words,
    feature_values,
    load_relevance,
)
from rag.types import Language

DATA = Path(__file__).resolve().parents[1] / "data"  # model files shipped with the package
log = logging.getLogger("vraagbaak.search")


def fusion_for(language: Language, fusion: FusionSettings) -> FusionSettings:
    """The fusion for a question in ``language``: Dutch BM25 shares no words with an English
    question, so outside Dutch it is weighted out and the dense ranking alone decides.

    Measured on the English gold questions (eval/README.md, "Language-aware fusion"): with
    BM25 at weight 0.3 the right vraag reached the top 5 less often (0.863) than with the
    dense ranking alone (0.894).
    """
    return fusion if language is Language.NL else replace(fusion, dense_weight=1.0)


def relevance_for(spec: ModelSpec, model_id: str) -> RelevanceModel | None:
    """The relevance model trained for an embedding model (named by its spec, and only for
    the very weights ``model_id`` of the index), if there is one.

    A model file trained on other weights is not used (its features would be read on
    another scale), and that is logged as a warning: the searcher then falls back to the
    model's cosine threshold. ``tests/test_relevance.py`` fails when a shipped file and
    its model's id part ways.
    """
    if spec.relevance is None:
        return None
    model = load_relevance(DATA / spec.relevance)
    if model.model_id != model_id:
        log.warning("relevance model %s was trained for %s, not %s: 'nothing found' falls "
                    "back to the cosine threshold; retrain it with eval/train_relevance.py",
                    spec.relevance, model.model_id, model_id)
        return None
    return model


class Vocabulary(Protocol):
    """What the relevance features need of a BM25 index (`rag.store.lexical.LexicalIndex`):
    its tokeniser and document frequencies. A protocol, so judging imports no storage."""

    @property
    def size(self) -> int:
        """Number of indexed passages."""
        ...

    def tokenize(self, text: str) -> list[str]:
        """The stemmed, stopword-free words of ``text`` as the index sees them."""
        ...

    def document_frequency(self, tokens: Sequence[str]) -> np.ndarray:
        """How many passages contain each token."""
        ...


def evidence(lexical: Vocabulary, question: str, dense: np.ndarray, lexical_scores: np.ndarray,
             doc_of_row: np.ndarray, keep: np.ndarray | None = None) -> Evidence:
    """The `rag.search.relevance.Evidence` of one question over one index."""
    tokens = tuple(dict.fromkeys(lexical.tokenize(question)))
    anchors = tuple(dict.fromkeys(lexical.tokenize(" ".join(anchor_words(question)))))
    return Evidence(dense, lexical_scores, doc_of_row, tokens, lexical.document_frequency(tokens),
                    lexical.size, len(question.split()), keep, anchors,
                    lexical.document_frequency(anchors))


@dataclass(frozen=True)
class Judgement:
    """Per ranked row the probability that it is an answer (for its label); the
    probability that the top row answers the question (the confidence); the decision."""

    probabilities: tuple[float, ...]
    confidence: float
    abstain: bool


def judge(model: RelevanceModel, ev: Evidence, rows: Sequence[int], language: Language,
          passage_tokens: Callable[[int], Collection[str]]) -> Judgement:
    """Score ranked ``rows`` (best first) and decide whether to say "nothing found".

    ``passage_tokens(row)`` gives a passage's stemmed words. With no rows, the searcher
    abstains with confidence 0.
    """
    values = [feature_values(ev, row, passage_tokens(row)) for row in rows]
    probabilities = tuple(model.hit_probability(v, language) for v in values)
    confidence = model.probability(values[0], language) if values else 0.0
    return Judgement(probabilities, confidence,
                     model.abstains(confidence, probabilities, language))
