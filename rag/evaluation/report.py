"""Evaluation output: a Markdown comparison table, a JSON object and a Recall@k plot."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from rag.errors import RagError
from rag.evaluation.run import SetReport

_COLUMNS = ("n", "R@1", "R@5", "R@10", "MRR@10", "nDCG@10")


def markdown_table(reports: Sequence[SetReport]) -> str:
    """One row per set, retriever, level and kind; then abstention per set and retriever."""
    lines = ["| set | retriever | level | kind | " + " | ".join(_COLUMNS) + " |",
             "|---|---|---|---|" + "---:|" * len(_COLUMNS)]
    for rep in reports:
        for level, by_kind in rep.metrics.items():
            for kind, m in by_kind.items():
                values = [str(m.n), *(_f(v) for v in (m.recall_1, m.recall_5, m.recall_10,
                                                     m.mrr_10, m.ndcg_10))]
                lines.append(f"| {rep.name} | {rep.retriever} | {level} | {kind} | "
                             + " | ".join(values) + " |")
    abst = [r for r in reports if r.abstention is not None]
    if abst:
        lines += ["", "| set | retriever | decided by | unanswerable | precision | recall | F1 "
                      "| answerable wrongly abstained |", "|---|---|---|---:|---:|---:|---:|---:|"]
        for rep in abst:
            a = rep.abstention
            assert a is not None
            lines.append(f"| {rep.name} | {rep.retriever} | {a.rule} | "
                         f"{a.n_unanswerable} | {_f(a.precision)} | {_f(a.recall)} | "
                         f"{_f(a.f1)} | {_f(a.false_abstention)} |")
    return "\n".join(lines) + "\n"


def to_json(reports: Sequence[SetReport]) -> dict[str, Any]:
    """``metrics`` per set and retriever, and ``per_question`` with the top hits."""
    metrics: dict[str, Any] = {}
    per_question: list[dict[str, Any]] = []
    for rep in reports:
        metrics.setdefault(rep.name, {})[rep.retriever] = {
            "levels": {level: {kind: _clean(asdict(m)) for kind, m in by_kind.items()}
                       for level, by_kind in rep.metrics.items()},
            "recall_curve": [_num(v) for v in rep.curve],
            "abstention": _clean(asdict(rep.abstention)) if rep.abstention else None,
        }
        for q in rep.questions:
            per_question.append({
                "set": rep.name, "retriever": q.retriever, "id": q.id, "kind": q.kind,
                "hits": [{"doc_id": d, "vraag": list(v), "score": round(s, 6)}
                         for d, v, s in q.hits],
                "doc_rank": q.doc_rank, "vraag_rank": q.vraag_rank,
                "confidence": _num(q.confidence), "abstained": q.abstained,
            })
    return {"metrics": metrics, "per_question": per_question}


def plot_recall(reports: Sequence[SetReport], path: Path) -> Path:
    """Recall@k (k = 1…10) per retriever, one panel per set; written as PNG."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise RagError("the plot needs matplotlib: pip install matplotlib "
                       "(or pass --no-plot)") from exc
    names = list(dict.fromkeys(r.name for r in reports))
    fig, axes = plt.subplots(1, len(names), figsize=(4.2 * len(names), 3.6), squeeze=False)
    for ax, name in zip(axes[0], names, strict=True):
        for rep in (r for r in reports if r.name == name):
            ax.plot(range(1, len(rep.curve) + 1), rep.curve, marker="o", label=rep.retriever)
        ax.set_title(name)
        ax.set_xlabel("k")
        ax.set_ylabel("Recall@k (vraag level)")
        ax.set_ylim(0, 1.02)
        ax.grid(alpha=0.3)
        ax.legend(loc="lower right")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _f(value: float) -> str:
    return "–" if value is None or math.isnan(value) else f"{value:.3f}"


def _num(value: float) -> float | None:
    return None if value is None or math.isnan(value) or math.isinf(value) else round(value, 6)


def _clean(row: dict[str, Any]) -> dict[str, Any]:
    return {k: _num(v) if isinstance(v, float) else v for k, v in row.items()}
