"""Retrieval and abstention metrics as pure functions over ranked keys and relevant sets.

A ranking is a list of unit keys, best first, without duplicates (the caller collapses hits
into documents first; the searcher already gives one hit per numbered answer). Relevance is
binary unless grades are given (BEIR qrels).
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise

KS = (1, 5, 10)
Key = Hashable  # a unit: a document id, a (doc_id, vraag) pair, a BEIR passage id


def dedupe(keys: Iterable[Key]) -> list[Key]:
    """Keys in first-seen order without repeats (several chunks of one unit count once)."""
    seen: set[Key] = set()
    out = []
    for key in keys:
        if key not in seen:
            seen.add(key)
            out.append(key)
    return out


def recall_at(ranked: Sequence[Key], relevant: Iterable[Key], k: int) -> float:
    """Share of the relevant units found in the first ``k``."""
    relevant = set(relevant)
    if not relevant:
        raise ValueError("recall needs at least one relevant unit")
    return len(relevant.intersection(ranked[:k])) / len(relevant)


def reciprocal_rank(ranked: Sequence[Key], relevant: Iterable[Key], k: int = 10) -> float:
    """1 / rank of the first relevant unit within the first ``k``, else 0."""
    relevant = set(relevant)
    for rank, key in enumerate(ranked[:k], start=1):
        if key in relevant:
            return 1.0 / rank
    return 0.0


def ndcg_at(ranked: Sequence[Key], relevant: Mapping[Key, float] | Iterable[Key],
            k: int = 10) -> float:
    """Normalised discounted cumulative gain at ``k`` (gain = grade, default 1)."""
    grades = dict(relevant) if isinstance(relevant, Mapping) else dict.fromkeys(relevant, 1.0)
    dcg = sum(grades.get(key, 0.0) / math.log2(rank + 1)
              for rank, key in enumerate(ranked[:k], start=1))
    ideal = sorted((g for g in grades.values() if g > 0), reverse=True)[:k]
    idcg = sum(g / math.log2(rank + 1) for rank, g in enumerate(ideal, start=1))
    return dcg / idcg if idcg > 0 else 0.0


def first_relevant_rank(ranked: Sequence[Key], relevant: Iterable[Key]) -> int | None:
    """1-based rank of the first relevant unit, or None when none is ranked."""
    relevant = set(relevant)
    return next((r for r, key in enumerate(ranked, start=1) if key in relevant), None)


@dataclass(frozen=True)
class RetrievalMetrics:
    """Means over the questions that have an answer."""

    n: int
    recall_1: float
    recall_5: float
    recall_10: float
    mrr_10: float
    ndcg_10: float


def retrieval_metrics(rankings: Sequence[Sequence[Key]],
                      relevants: Sequence[Mapping[Key, float] | Iterable[Key]]
                      ) -> RetrievalMetrics:
    """Recall@1/5/10, MRR@10 and nDCG@10 averaged over paired rankings and relevant sets."""
    if len(rankings) != len(relevants):
        raise ValueError("one relevant set per ranking")
    n = len(rankings)
    if n == 0:
        return RetrievalMetrics(0, *(math.nan,) * 5)
    rel_sets = [{k for k, g in r.items() if g > 0} if isinstance(r, Mapping) else set(r)
                for r in relevants]

    def mean(values: Iterable[float]) -> float:
        return sum(values) / n

    return RetrievalMetrics(
        n=n,
        recall_1=mean(recall_at(r, s, 1) for r, s in zip(rankings, rel_sets, strict=True)),
        recall_5=mean(recall_at(r, s, 5) for r, s in zip(rankings, rel_sets, strict=True)),
        recall_10=mean(recall_at(r, s, 10) for r, s in zip(rankings, rel_sets, strict=True)),
        mrr_10=mean(reciprocal_rank(r, s, 10) for r, s in zip(rankings, rel_sets, strict=True)),
        ndcg_10=mean(ndcg_at(r, g, 10) for r, g in zip(rankings, relevants, strict=True)),
    )


def recall_curve(rankings: Sequence[Sequence[Key]], relevants: Sequence[Iterable[Key]],
                 max_k: int = 10) -> list[float]:
    """Mean Recall@k for k = 1 … ``max_k`` (for the plot)."""
    sets = [set(r) for r in relevants]
    if not rankings:
        return [math.nan] * max_k
    return [sum(recall_at(r, s, k) for r, s in zip(rankings, sets, strict=True)) / len(rankings)
            for k in range(1, max_k + 1)]


@dataclass(frozen=True)
class AbstentionMetrics:
    """How well "no earlier answer found" singles out the questions without an answer.

    ``precision``: of the abstentions, the share that were truly unanswerable;
    ``recall``: of the unanswerable questions, the share abstained on;
    ``false_abstention``: of the answerable questions, the share wrongly abstained on.
    """

    threshold: float  # on the confidence; NaN when another rule decides (see ``rule``)
    n_unanswerable: int
    n_answerable: int
    precision: float
    recall: float
    f1: float
    false_abstention: float
    rule: str = ""  # what decided, in words (the threshold, or the relevance model)


def abstention_metrics(confidences: Sequence[float], unanswerable: Sequence[bool],
                       threshold: float) -> AbstentionMetrics:
    """Abstain when confidence < ``threshold``; score that against the truth."""
    if len(confidences) != len(unanswerable):
        raise ValueError("one truth value per confidence")
    return abstention_of([c < threshold for c in confidences], unanswerable, threshold,
                         f"confidence < {threshold:.4f}, chosen on this set")


def abstention_of(abstain: Sequence[bool], unanswerable: Sequence[bool],
                  threshold: float = math.nan, rule: str = "") -> AbstentionMetrics:
    """Score abstention decisions against the truth (``threshold`` and ``rule``, what
    decided, only for the report)."""
    if len(abstain) != len(unanswerable):
        raise ValueError("one truth value per decision")
    tp = sum(a and u for a, u in zip(abstain, unanswerable, strict=True))
    fp = sum(a and not u for a, u in zip(abstain, unanswerable, strict=True))
    n_u = sum(unanswerable)
    n_a = len(unanswerable) - n_u
    precision = tp / (tp + fp) if tp + fp else (1.0 if n_u == 0 else 0.0)
    recall = tp / n_u if n_u else math.nan
    f1 = (2 * precision * recall / (precision + recall)
          if n_u and precision + recall > 0 else 0.0)
    return AbstentionMetrics(threshold, n_u, n_a, precision, recall, f1,
                             fp / n_a if n_a else math.nan, rule)


def calibrate_threshold(confidences: Sequence[float], unanswerable: Sequence[bool],
                        max_false_abstention: float = 0.05) -> float:
    """The threshold with the best abstention F1 among those that wrongly abstain on at
    most ``max_false_abstention`` of the answerable questions (staff lose more from a
    missed earlier answer than from a weak passage shown).

    Candidates are midpoints between neighbouring distinct confidences; ties go to the
    lower threshold. Returns -inf (never abstain) when no candidate qualifies.
    """
    values = sorted(set(confidences))
    candidates = [(a + b) / 2 for a, b in pairwise(values)]
    best, best_f1 = -math.inf, -1.0
    for threshold in candidates:
        m = abstention_metrics(confidences, unanswerable, threshold)
        if m.false_abstention <= max_false_abstention and m.f1 > best_f1:
            best, best_f1 = threshold, m.f1
    return best
