"""Relevance: features of a retrieved passage, and the probability that it answers the question.

One best cosine cannot tell an unanswerable but on-topic question (the corpus speaks of the
subject, not of this policy) from an answerable one asked in English, which scores lower
cosines: their bands overlap. How far the passage stands out from the other documents and
from the index as a whole, whether the question's rarer words occur in it at all (and, for
a question in another language, its numbers, acronyms and names, which translation leaves
as they are), and the question's language separate them better. The features are pure
functions over the per-passage score arrays; the model is a logistic regression per
language, stored as a small JSON file (`RelevanceModel`) and trained by
``eval/train_relevance.py``.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from rag.errors import RagError
from rag.types import Language

# Every feature `feature_values` computes; a model uses a subset, and a name "a*b" in a model
# is the product of two of these (an interaction a linear model cannot form itself).
BASE_FEATURES = (
    "cos",  # dense cosine of the passage
    "cos_z",  # that cosine in standard deviations above the mean cosine of the searched
              # passages (over `statistic_rows`: all of them up to STATISTIC_ROWS)
    "doc_margin",  # cosine minus the best cosine in any other document (0: one document)
    "bm25",  # BM25 of the passage over the query's own ceiling (every word, tf -> infinity)
    "bm25_rel",  # BM25 of the passage over the best BM25 of any passage
    "coverage",  # share of the question's stemmed content words found in the passage
    "idf_coverage",  # the same, each word weighted by its idf
    "known_coverage",  # idf-weighted share of the question's words the index knows that
                       # occur in the passage (a word no passage has counts for neither)
    "known",  # idf-weighted share of the question's words that occur in the index at all
    "lex_rank",  # 1 / rank of the passage by BM25
    "dense_rank",  # 1 / rank of the passage by cosine
    "gap_best",  # best cosine of any passage minus this passage's cosine
    "agree",  # 1 when the best BM25 passage and the best cosine passage share a document
    "log_words",  # log of the number of words in the question
    "log_docs",  # log of the number of documents searched (margins shrink as it grows)
    "anchor_coverage",  # share of the question's anchors (numbers, acronyms, names: words
                        # that survive translation) found in the passage (1: no anchors)
    "anchor_known",  # share of the question's anchors that occur in the index at all
)
K1 = 1.2  # BM25 k1 of rag.store.lexical.LexicalSettings: a term scores below idf · (k1 + 1)
# Passages whose cosines give the mean and spread behind ``cos_z``: every searched passage up
# to this many, else this many spread evenly over them. A fixed set of rows, so a large index
# searched through candidates (`rag.search.candidates`, which scores these rows exactly)
# gets the same statistics, and so the same relevance and abstention, as exact search.
STATISTIC_ROWS = 2048


class RelevanceError(RagError):
    """The relevance model file is missing, malformed or made for other features."""


@dataclass(frozen=True)
class Evidence:
    """What the features of one question's hits are computed from.

    Arrays have one entry per passage row; ``keep`` (optional) masks out rows a filter
    excludes, so the features see only what could have been shown. ``query_tokens`` are the
    question's unique stemmed content words and ``df`` their document frequencies in the
    lexical index of ``n_passages`` passages. Statistics over the rows are computed once
    per question, on first use, however many hits are judged.
    """

    dense: np.ndarray
    lexical: np.ndarray
    doc_of_row: np.ndarray
    query_tokens: tuple[str, ...]
    df: np.ndarray
    n_passages: int
    n_words: int
    keep: np.ndarray | None = None
    anchors: tuple[str, ...] = ()  # the stemmed anchor words of the question (`anchor_words`)
    anchor_df: np.ndarray | None = None  # their document frequencies

    @cached_property
    def _summary(self) -> _Summary:
        rows = np.flatnonzero(self.keep) if self.keep is not None else np.arange(len(self.dense))
        dense = self.dense[rows].astype(np.float64)
        lexical, docs = self.lexical[rows], self.doc_of_row[rows]
        if not len(rows):
            return _Summary(dense, lexical, 0.0, 0.0, 0.0, -1, -math.inf, 0.0, 0.0, 0, 0.0)
        sample = self.dense[statistic_rows(len(self.dense), self.keep)].astype(np.float64)
        best_row = int(np.argmax(dense))
        best_doc = int(docs[best_row])
        others = dense[docs != best_doc]
        idf = lucene_idf(self.df, self.n_passages)
        best_lexical = float(lexical.max(initial=0.0))
        agree = float(best_lexical > 0 and docs[int(np.argmax(lexical))] == best_doc)
        return _Summary(dense, lexical, float(sample.mean()), float(sample.std()),
                        float(dense[best_row]), best_doc,
                        float(others.max()) if len(others) else -math.inf, best_lexical,
                        agree, _distinct(docs), float(idf.sum()))


def _distinct(positions: np.ndarray) -> int:
    """How many different documents (non-negative positions) the rows belong to: counted,
    not sorted (`np.unique` took 12 ms a question at 300,000 passages, 40 at a million)."""
    return int(np.count_nonzero(np.bincount(positions))) if len(positions) else 0


@dataclass(frozen=True)
class _Summary:
    dense: np.ndarray  # kept rows only
    lexical: np.ndarray
    mean: float
    std: float
    best: float  # best cosine
    best_doc: int
    runner_up: float  # best cosine outside the best document (-inf: one document)
    best_lexical: float
    agree: float
    n_docs: int
    idf_total: float


# A word with a digit, or a capital after its first letter (AI, ChatGPT, NOC*NSF), or a
# capitalised word that does not open a sentence: numbers, acronyms and names.
_ANCHOR = re.compile(r"\b(?:\w*\d\w*|\w+[A-Z]\w*)\b|(?<![.?!:]\s)(?<!^)\b[A-Z]\w+")


def question_key(question: str) -> str:
    """A short stable key of a question's text (case and spacing ignored), so a model can
    list the questions it was trained on without carrying them."""
    return hashlib.sha256(" ".join(question.lower().split()).encode("utf-8")).hexdigest()[:12]


def anchor_words(question: str) -> list[str]:
    """The question's words that a translation leaves as they are (see ``_ANCHOR``)."""
    return _ANCHOR.findall(question.strip())


def statistic_rows(n_rows: int, keep: np.ndarray | None) -> np.ndarray:
    """The rows ``cos_z`` takes its mean and spread from: the kept rows (all of ``n_rows``
    when ``keep`` is None), or ``STATISTIC_ROWS`` of them evenly spaced when there are more."""
    rows = np.flatnonzero(keep) if keep is not None else np.arange(n_rows)
    if len(rows) > STATISTIC_ROWS:
        rows = rows[np.linspace(0, len(rows) - 1, STATISTIC_ROWS).round().astype(np.int64)]
    return rows


def lucene_idf(df: np.ndarray, n: int) -> np.ndarray:
    """BM25's (Lucene) idf; a word the index never saw gets the highest idf."""
    df = np.asarray(df, dtype=np.float64)
    return np.log1p((n - df + 0.5) / (df + 0.5))


def feature_values(ev: Evidence, row: int,
                   passage_tokens: Collection[str]) -> dict[str, float]:
    """Every `BASE_FEATURES` value of passage ``row`` for the question in ``ev``.

    ``passage_tokens`` are the passage's stemmed words, as BM25 sees them.
    """
    s = ev._summary
    cos, bm25 = float(ev.dense[row]), float(ev.lexical[row])
    # The best cosine in any other document than this passage's.
    other = s.runner_up if int(ev.doc_of_row[row]) == s.best_doc else s.best
    idf = lucene_idf(ev.df, ev.n_passages)
    total = s.idf_total
    found = np.array([t in passage_tokens for t in ev.query_tokens], dtype=bool)
    known = float(idf[ev.df > 0].sum())
    anchors = np.array([a in passage_tokens for a in ev.anchors], dtype=bool)
    anchor_df = ev.anchor_df if ev.anchor_df is not None else np.zeros(len(ev.anchors))
    return {
        "cos": cos,
        "cos_z": (cos - s.mean) / s.std if s.std > 0 else 0.0,
        "doc_margin": cos - other if math.isfinite(other) else 0.0,
        "bm25": bm25 / (total * (K1 + 1)) if total > 0 else 0.0,
        "bm25_rel": bm25 / s.best_lexical if s.best_lexical > 0 else 0.0,
        "coverage": float(found.mean()) if len(found) else 0.0,
        "idf_coverage": float(idf[found].sum()) / total if total > 0 else 0.0,
        "known_coverage": (float(idf[found].sum()) / known if known > 0 else 0.0),
        "known": known / total if total > 0 else 0.0,
        "lex_rank": 1.0 / (1 + int((s.lexical > bm25).sum())),
        "dense_rank": 1.0 / (1 + int((s.dense > cos).sum())),
        "gap_best": s.best - cos,
        "agree": s.agree,
        "log_words": math.log(max(ev.n_words, 1)),
        "log_docs": math.log(max(s.n_docs, 1)),
        "anchor_coverage": float(anchors.mean()) if len(anchors) else 1.0,
        "anchor_known": float((anchor_df > 0).mean()) if len(anchors) else 1.0,
    }


def feature_vector(values: Mapping[str, float], names: Sequence[str]) -> np.ndarray:
    """The named features from `feature_values`, products ("a*b") included, in order."""
    out = []
    for name in names:
        factors = name.split("*")
        out.append(math.prod(values[f] for f in factors))
    return np.array(out, dtype=np.float64)


@dataclass(frozen=True)
class LanguageModel:
    """One language's logistic regression over standardised features, and its cut."""

    mean: tuple[float, ...]
    scale: tuple[float, ...]
    weights: tuple[float, ...]
    bias: float
    threshold: float  # abstain when the top hit's probability is below this

    def probability(self, x: np.ndarray) -> np.ndarray:
        """P(relevant) for one feature row or a (n, features) matrix."""
        z = ((np.asarray(x, dtype=np.float64) - np.array(self.mean)) / np.array(self.scale)
             @ np.array(self.weights) + self.bias)
        return 1.0 / (1.0 + np.exp(-np.clip(z, -500, 500)))


@dataclass(frozen=True)
class RelevanceModel:
    """Two judgements per question language, from a passage's `feature_values`.

    ``probability``: that the top hit answers the question (the confidence; below the
    language's threshold the searcher abstains). ``hit_probability``: that a given hit, at
    any rank, is an answer (its relevance label, `rag.types.relevance_band`).
    """

    model_id: str
    features: tuple[str, ...]
    languages: Mapping[Language, LanguageModel]
    hit_features: tuple[str, ...]
    hit_languages: Mapping[Language, LanguageModel]
    trained_with: str = ""
    # `question_key` of every written question it was fitted on: evaluating on these is
    # in-sample (self-retrieval questions, made from the index itself, are not listed)
    trained_questions: tuple[str, ...] = ()

    def probability(self, values: Mapping[str, float], language: Language) -> float:
        """P(the top hit answers) from the top hit's `feature_values`."""
        return float(self._for(language).probability(feature_vector(values, self.features)))

    def hit_probability(self, values: Mapping[str, float], language: Language) -> float:
        """P(this hit answers) from its `feature_values`."""
        model = self.hit_languages.get(language) or self.hit_languages[Language.NL]
        return float(model.probability(feature_vector(values, self.hit_features)))

    def threshold(self, language: Language) -> float:
        """The abstention cut for questions in ``language``."""
        return self._for(language).threshold

    def abstains(self, confidence: float, hit_probabilities: Sequence[float],
                 language: Language) -> bool:
        """Whether to say "nothing found": no hits, or a confidence below the language's
        threshold. The hits' own probabilities do not decide: abstaining also when none
        reaches "redelijk" was measured and left out (eval/README.md, "Abstention and the
        labels": more false refusals than the goal allows, and a right first hit on a
        one-document index can score "laag")."""
        return (not hit_probabilities or math.isnan(confidence)
                or confidence < self.threshold(language))

    def to_json(self) -> dict[str, object]:
        """The stored form, read back by `load_relevance`."""
        return {
            "model_id": self.model_id,
            "features": list(self.features), "languages": _languages_json(self.languages),
            "hit_features": list(self.hit_features),
            "hit_languages": _languages_json(self.hit_languages),
            "trained_with": self.trained_with,
            "trained_questions": list(self.trained_questions),
        }

    def _for(self, language: Language) -> LanguageModel:
        return self.languages.get(language) or self.languages[Language.NL]


def load_relevance(path: Path) -> RelevanceModel:
    """Read a model file written by ``eval/train_relevance.py``; refuse a malformed one
    with the command that retrains it."""
    fix = f"retrain it with: python eval/train_relevance.py --index DIR --out {path}"
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        model = RelevanceModel(
            str(raw["model_id"]), tuple(str(f) for f in raw["features"]),
            _languages(raw["languages"]), tuple(str(f) for f in raw["hit_features"]),
            _languages(raw["hit_languages"]), str(raw.get("trained_with", "")),
            tuple(str(s) for s in raw.get("trained_questions", ())))
    except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
        raise RelevanceError(f"relevance model {path} is missing or unreadable ({exc}); "
                             f"{fix}") from None
    names = (*model.features, *model.hit_features)
    unknown = {f for name in names for f in name.split("*")} - set(BASE_FEATURES)
    fits = all(
        {len(features)} == {len(v) for m in languages.values()
                            for v in (m.mean, m.scale, m.weights)}
        and Language.NL in languages
        for features, languages in ((model.features, model.languages),
                                    (model.hit_features, model.hit_languages)))
    if unknown or not fits:
        raise RelevanceError(f"relevance model {path} does not fit this version "
                             f"(unknown features: {sorted(unknown) or 'none'}); {fix}")
    return model


def _languages(raw: Mapping[str, Any]) -> dict[Language, LanguageModel]:
    return {Language(lang): LanguageModel(
        tuple(float(v) for v in m["mean"]), tuple(float(v) for v in m["scale"]),
        tuple(float(v) for v in m["weights"]), float(m["bias"]), float(m["threshold"]))
        for lang, m in raw.items()}


def _languages_json(languages: Mapping[Language, LanguageModel]) -> dict[str, object]:
    return {lang.value: {"mean": list(m.mean), "scale": list(m.scale),
                         "weights": list(m.weights), "bias": m.bias, "threshold": m.threshold}
            for lang, m in languages.items()}
