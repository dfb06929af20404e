"""How well "nothing found" and the relevance probability hold up: pure functions and tables.

Abstention is scored per language and per kind of question: precision (of the refusals,
the share that had no answer), recall (of the questions without an answer, the share
refused) and false refusals (of the answerable ones, the share refused). The probability
is checked with a reliability table (predicted against observed, per band) and the Brier
score (mean squared error of the probability; 0 is perfect, 0.25 is a coin).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from rag.evaluation.gold import GoldQuestion
from rag.evaluation.relevance_fit import predict
from rag.evaluation.trustdata import Example, ExampleBuilder, build_examples
from rag.models.embed import Embedder
from rag.search.relevance import RelevanceModel, question_key
from rag.store.index import Index
from rag.types import RELEVANCE_BANDS, Language, relevance_band

BINS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)


@dataclass(frozen=True)
class Abstention:
    """Refusals on one slice of examples."""

    name: str
    n_answerable: int
    n_unanswerable: int
    precision: float
    recall: float
    false_refusal: float


def abstention(name: str, examples: Sequence[Example], refused: Sequence[bool]) -> Abstention:
    """Precision, recall and false refusals of ``refused`` on ``examples``."""
    truth = [not e.answerable for e in examples]
    tp = sum(r and t for r, t in zip(refused, truth, strict=True))
    fp = sum(r and not t for r, t in zip(refused, truth, strict=True))
    n_u = sum(truth)
    n_a = len(truth) - n_u
    return Abstention(name, n_a, n_u, tp / (tp + fp) if tp + fp else math.nan,
                      tp / n_u if n_u else math.nan, fp / n_a if n_a else math.nan)


def by_language_and_set(examples: Sequence[Example], refused: Sequence[bool]) -> list[Abstention]:
    """Per language: user questions over the whole index against the written unanswerable
    ones, against the leave-document-out ones, and all small indexes together."""
    rows = []
    pairs = list(zip(examples, refused, strict=True))
    sets: list[tuple[str, Callable[[Example], bool]]] = [
        ("written unanswerable, full index",
         lambda e: e.view == "full" and (e.answerable or e.kind == "unanswerable")),
        ("leave-document-out", lambda e: (e.view == "full" and e.answerable)
         or e.view == "leave-out"),
        ("small indexes (1-30 documents)", lambda e: e.view not in ("full", "leave-out")),
    ]
    for language in Language:
        for name, keep in sets:
            chosen = [(e, r) for e, r in pairs if e.user and e.language is language and keep(e)]
            if any(not e.answerable for e, _ in chosen):
                rows.append(abstention(f"{language.value}: {name}", [e for e, _ in chosen],
                                       [r for _, r in chosen]))
    return rows


def by_kind(examples: Sequence[Example], refused: Sequence[bool]) -> dict[str, tuple[int, float]]:
    """Share refused per kind of example (answerable kinds, leave-out, unanswerable),
    over the whole index and its leave-out views."""
    groups: dict[str, list[bool]] = {}
    for e, r in zip(examples, refused, strict=True):
        if e.view not in ("full", "leave-out"):
            continue
        kind = "self-retrieval" if e.source == "self-retrieval" else e.kind
        key = f"{kind} (leave-out)" if e.leave_out else kind
        groups.setdefault(key, []).append(r)
    return {k: (len(v), float(np.mean(v))) for k, v in sorted(groups.items())}


@dataclass(frozen=True)
class Reliability:
    """One probability band: how many, mean predicted, share that was answerable."""

    low: float
    high: float
    n: int
    predicted: float
    observed: float


def reliability(probabilities: Sequence[float], truth: Sequence[bool],
                bins: Sequence[float] = BINS) -> list[Reliability]:
    """The reliability table (empty bands left out); the last band includes 1.0."""
    p = np.asarray(probabilities, dtype=np.float64)
    t = np.asarray(truth, dtype=np.float64)
    out = []
    for i, (low, high) in enumerate(pairwise(bins)):
        inside = (p >= low) & ((p < high) if i < len(bins) - 2 else (p <= high))
        if inside.any():
            out.append(Reliability(low, high, int(inside.sum()), float(p[inside].mean()),
                                   float(t[inside].mean())))
    return out


def brier(probabilities: Sequence[float], truth: Sequence[bool]) -> float:
    """Mean squared difference between probability and outcome (1 = answerable)."""
    p = np.asarray(probabilities, dtype=np.float64)
    return float(np.mean((p - np.asarray(truth, dtype=np.float64)) ** 2)) if len(p) else math.nan


def label_table(examples: Sequence[Example], hits: Sequence[Sequence[tuple[float, bool]]],
                label: Callable[[float], str]) -> dict[str, tuple[int, float]]:
    """Per relevance label: how many shown hits (user questions, whole index) got it, and
    the share of those that answer the question."""
    seen: dict[str, list[bool]] = {}
    for e, judged in zip(examples, hits, strict=True):
        if e.user and e.view in ("full", "leave-out"):
            for p, right in judged:
                seen.setdefault(label(p), []).append(right)
    return {k: (len(v), float(np.mean(v))) for k, v in seen.items()}


def markdown(examples: Sequence[Example], probabilities: Sequence[float],
             refused: Sequence[bool], title: str) -> str:
    """The abstention and calibration tables of one run as Markdown."""
    lines = [f"### {title}", "", "| slice | answerable | unanswerable | precision | recall "
             "| false refusals |", "|---|---:|---:|---:|---:|---:|"]
    for a in by_language_and_set(examples, refused):
        lines.append(f"| {a.name} | {a.n_answerable} | {a.n_unanswerable} | {_f(a.precision)} "
                     f"| {_f(a.recall)} | {_f(a.false_refusal)} |")
    lines += ["", "| kind | n | refused |", "|---|---:|---:|"]
    kinds = by_kind(examples, refused)
    lines += [f"| {k} | {n} | {_f(share)} |" for k, (n, share) in kinds.items()]
    user = [i for i, e in enumerate(examples) if e.user]
    p = [probabilities[i] for i in user]
    t = [examples[i].answerable for i in user]
    lines += ["", f"Brier score (user questions, all views): {_f(brier(p, t))}", "",
              "| P(answer) | n | mean predicted | share answerable |", "|---|---:|---:|---:|"]
    lines += [f"| {r.low:.1f}–{r.high:.1f} | {r.n} | {r.predicted:.3f} | {r.observed:.3f} |"
              for r in reliability(p, t)]
    return "\n".join(lines) + "\n"


def _f(value: float) -> str:
    return "–" if value is None or math.isnan(value) else f"{value:.3f}"


@dataclass(frozen=True)
class TrustReport:
    """The figures of `trust_figures`: abstention per language and set and per kind, the
    Brier score and reliability table, and the relevance labels' hit rates."""

    title: str
    in_sample: tuple[str, ...]  # the gold sets with questions the model was trained on
    abstention: tuple[Abstention, ...]
    kinds: dict[str, tuple[int, float]]
    brier: float
    reliability: tuple[Reliability, ...]
    labels: dict[str, tuple[int, float]]
    text: str  # all of it as Markdown

    def markdown(self) -> str:
        """The report as Markdown tables."""
        return self.text

    def to_json(self) -> dict[str, object]:
        """The figures as one JSON-ready object (NaN as null)."""
        def num(v: float) -> float | None:
            return None if math.isnan(v) else round(v, 6)

        return {
            "title": self.title, "in_sample": list(self.in_sample),
            "abstention": [{"slice": a.name, "answerable": a.n_answerable,
                            "unanswerable": a.n_unanswerable, "precision": num(a.precision),
                            "recall": num(a.recall), "false_refusals": num(a.false_refusal)}
                           for a in self.abstention],
            "refused_per_kind": {k: {"n": n, "refused": num(share)}
                                 for k, (n, share) in self.kinds.items()},
            "brier": num(self.brier),
            "reliability": [{"low": r.low, "high": r.high, "n": r.n,
                             "predicted": num(r.predicted), "observed": num(r.observed)}
                            for r in self.reliability],
            "labels": {k: {"hits": n, "share_that_answer": num(share)}
                       for k, (n, share) in self.labels.items()},
        }


def trust_figures(index: Index, embedder: Embedder,
                  gold_sets: Sequence[tuple[str, Sequence[GoldQuestion]]],
                  model: RelevanceModel, small_indexes: bool = False) -> TrustReport | None:
    """Abstention and calibration of ``model`` on gold sets over an index, its
    leave-document-out views and (optionally) small indexes; None when no gold question
    fits the index.

    These are the stored model's figures on whatever the gold sets are: held out only for
    questions it was not trained on. Sets holding questions it was trained on
    (``model.trained_questions``) are named in ``in_sample`` and in the report; held-out
    figures come from ``eval/train_relevance.py`` (cross-validation by document).
    """
    builder = ExampleBuilder(index, embedder)
    examples = build_examples(builder, gold_sets, self_retrieval=False,
                              small_indexes=small_indexes)
    if not examples:
        return None
    judged = predict(model, examples)
    names = ", ".join(name for name, _ in gold_sets)
    seen = set(model.trained_questions)
    counts = {name: (sum(question_key(q.question) in seen for q in qs), len(qs))
              for name, qs in gold_sets}
    inside = tuple(name for name, (n, _) in counts.items() if n)
    title = f"Relevance model on {names} ({len(examples)} searches)"
    text = markdown(examples, judged.probabilities, judged.refused, title)
    if inside:
        sets = ", ".join(f"{counts[name][0]} of {counts[name][1]} in {name}" for name in inside)
        text = text.replace("\n\n", f"\n\nIn-sample: the model was trained on these "
                            f"questions ({sets}); held-out figures come from "
                            "eval/train_relevance.py (cross-validation by document).\n\n", 1)
    labels = label_table(examples, judged.hits, relevance_band)
    rows = "".join(f"| {k} | {labels[k][0]} | {_f(labels[k][1])} |\n"
                   for k, _ in RELEVANCE_BANDS if k in labels)
    text += "\n| label (top 5 hits) | hits | share that answer |\n|---|---:|---:|\n" + rows
    user = [i for i, e in enumerate(examples) if e.user]
    p = [judged.probabilities[i] for i in user]
    t = [examples[i].answerable for i in user]
    return TrustReport(title, inside, tuple(by_language_and_set(examples, judged.refused)),
                       by_kind(examples, judged.refused), brier(p, t),
                       tuple(reliability(p, t)), labels, text)


def trust_report(index: Index, embedder: Embedder,
                 gold_sets: Sequence[tuple[str, Sequence[GoldQuestion]]],
                 model: RelevanceModel, small_indexes: bool = False) -> str:
    """`trust_figures` as Markdown."""
    figures = trust_figures(index, embedder, gold_sets, model, small_indexes)
    return figures.markdown() if figures else "No gold question fits this index.\n"
