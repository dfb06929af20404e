"""The int8 model against fp32 in one run: build throughput and retrieval quality.

The adoption rule (README, "Models"): ``multilingual-e5-small-int8`` becomes the default only
if its full build of the shared corpus is at least 2x as fast as fp32's and gold vraag R@5,
gold vraag MRR@10 and dev-pair R@10 (hybrid, the chat's ranking) each move by at most 0.01.
Builds alternate fp32, int8, fp32, int8 so drifting machine load hits both alike; quality
comes from ``rag eval --json`` over a temporary index of the same corpus, per model.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.common import CACHE, ROOT, SHARED, load_average

FP32, INT8 = "multilingual-e5-small", "multilingual-e5-small-int8"
RULE_SPEEDUP, RULE_DELTA = 2.0, 0.01


def build_throughput(models: tuple[str, ...], rounds: int) -> dict[str, list[float]]:
    """Passages a second of full builds of the shared corpus, per model, alternating."""
    from rag.build import build_index
    from rag.config import Settings
    from rag.models.embed import load_embedder

    embedders = {m: load_embedder(m) for m in models}
    for embedder in embedders.values():
        embedder.embed_queries(["opwarmen"])  # loading the model is not build time
    out: dict[str, list[float]] = {m: [] for m in models}
    with tempfile.TemporaryDirectory(prefix="vb-int8-", dir=CACHE) as tmp:
        for n in range(rounds):
            for model, embedder in embedders.items():
                settings = Settings(index_dir=Path(tmp) / f"{model}-{n}", model=model)
                report = build_index(SHARED / "corpus", settings, embedder, full=True)
                out[model].append(report.chunks / report.seconds)
                print(f"[int8] build {model}: {out[model][-1]:.1f} passages/s", flush=True)
    return out


def quality(model: str, limit: int | None) -> dict[str, float]:
    """Gold vraag R@5 / MRR@10 and dev-pair R@10 (hybrid and dense) of ``model``."""
    with tempfile.TemporaryDirectory(prefix="vb-int8-eval-", dir=CACHE) as tmp:
        command = [sys.executable, "-m", "rag", "eval", "--json", "--no-plot", "--out", tmp,
                   "--model", model, "--corpus", str(SHARED / "corpus"),
                   "--gold", str(ROOT / "eval" / "gold.jsonl"),
                   "--pairs", str(SHARED / "qa_pairs" / "dev.jsonl"),
                   "--retriever", "hybrid", "--retriever", "dense"]
        if limit:
            command += ["--limit", str(limit)]
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"rag eval --model {model} failed:\n{done.stderr[-2000:]}")
    metrics = json.loads(done.stdout)["metrics"]
    out: dict[str, float] = {}
    for retriever in ("hybrid", "dense"):
        gold = metrics["gold"][retriever]["levels"]["vraag"]["all"]
        dev_name = next(name for name in metrics if name.startswith("dev"))
        dev_levels = metrics[dev_name][retriever]["levels"]
        dev = next(iter(dev_levels.values()))["all"]
        out |= {f"{retriever} gold R@5": gold["recall_5"],
                f"{retriever} gold MRR@10": gold["mrr_10"],
                f"{retriever} dev R@10": dev["recall_10"]}
    return out


def run(quick: bool) -> dict[str, Any]:
    """Both models, one run: speeds, quality, and what the adoption rule says."""
    speeds = build_throughput((FP32, INT8), 1 if quick else 2)
    scores = {m: quality(m, 100 if quick else None) for m in (FP32, INT8)}
    speedup = statistics.median(speeds[INT8]) / statistics.median(speeds[FP32])
    ruled = ("hybrid gold R@5", "hybrid gold MRR@10", "hybrid dev R@10")
    deltas = {k: scores[INT8][k] - scores[FP32][k] for k in scores[FP32]}
    adopt = speedup >= RULE_SPEEDUP and all(abs(deltas[k]) <= RULE_DELTA for k in ruled)
    return {"speeds": speeds, "speedup": speedup, "scores": scores, "deltas": deltas,
            "ruled": list(ruled), "adopt": adopt, "load": load_average()}
