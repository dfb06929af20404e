"""Shared pieces of the benchmark: locations, timing statistics, memory, cached embeddings.

The real chunks of the shared corpus and the real questions are embedded once with the
default model and cached as ``.npy`` under the cache folder (``/tmp/vraagbaak-bench`` by
default), keyed by a hash of their text, so the scale and ANN sections need no model time
after the first run.
"""

from __future__ import annotations

import hashlib
import json
import os
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("RAG_SHARED_DIR", ROOT.parent / "shared"))
CACHE = Path(os.environ.get("VRAAGBAAK_BENCH_CACHE", "/tmp/vraagbaak-bench"))
MODEL = "multilingual-e5-small"


@dataclass(frozen=True)
class Stats:
    """Latency summary in milliseconds."""

    n: int
    p50: float
    p95: float
    mean: float


def stats_ms(seconds: Sequence[float]) -> Stats:
    """p50/p95/mean of durations given in seconds, as milliseconds."""
    ms = sorted(s * 1000 for s in seconds)
    return Stats(len(ms), _percentile(ms, 50), _percentile(ms, 95), statistics.fmean(ms))


def _percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    pos = (len(sorted_values) - 1) * q / 100
    low = int(pos)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (pos - low)


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    """Wall seconds of one call and its result."""
    started = time.perf_counter()
    out = fn()
    return time.perf_counter() - started, out


def median_time(fn: Callable[[], object], repeat: int) -> float:
    """Median wall seconds over ``repeat`` calls."""
    return statistics.median(timed(fn)[0] for _ in range(repeat))


def _status_mb(field: str) -> float:
    """One memory field of /proc/self/status (``VmRSS``, ``VmHWM``, ``RssAnon`` …) in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def peak_rss_mb() -> float:
    """This process's peak resident set size (VmHWM) in MiB."""
    return _status_mb("VmHWM")


def rss_mb() -> float:
    """This process's current resident set size (VmRSS) in MiB."""
    return _status_mb("VmRSS")


def memory_split_mb() -> dict[str, float]:
    """Resident memory split into what is the process's own (``RssAnon``: heap, the model,
    parsed chunks) and file pages it maps (``RssFile``: the memory-mapped vectors, shared by
    every process serving one generation, and libraries)."""
    return {"private": _status_mb("RssAnon"), "mapped": _status_mb("RssFile"),
            "rss": _status_mb("VmRSS")}


def load_average() -> str:
    """The 1/5/15-minute load average, to print beside every timing."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A GitHub Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 10 else f"{value:,.0f}"
    return str(value)


def questions(limit: int | None = None) -> list[str]:
    """Real questions: the gold set's paraphrases, then Kamervragen from the dev pairs."""
    out = []
    gold = ROOT / "eval" / "gold.jsonl"
    if gold.is_file():
        out += [json.loads(line)["question"] for line in gold.read_text("utf-8").splitlines()
                if line.strip()]
    dev = SHARED / "qa_pairs" / "dev.jsonl"
    if dev.is_file():
        for line in dev.read_text("utf-8").splitlines():
            if line.strip():
                # A dev question can be a whole letter; the chat cuts at 2,000 characters.
                out.append(" ".join(json.loads(line)["question"].split())[:1900])
    return out[:limit] if limit else out


def shared_chunks() -> tuple[list, list[str]]:
    """The chunks of the shared corpus (answer documents) and their passages."""
    from rag.chunk import chunk_document
    from rag.config import Settings
    from rag.ingest.corpus import load_corpus

    settings = Settings()
    corpus = load_corpus(SHARED / "corpus")
    chunks = [c for d in corpus.answer_documents for c in chunk_document(d, settings.chunking)]
    return chunks, [c.passage(settings.chunking) for c in chunks]


def cached_embeddings(texts: list[str], kind: str, embedder: object | None = None) -> np.ndarray:
    """Embeddings of ``texts`` with the default model, cached on disk by content hash."""
    key = hashlib.sha256(("\0".join(texts) + kind + MODEL).encode()).hexdigest()[:16]
    path = CACHE / f"{kind}-{key}.npy"
    if path.is_file():
        return np.load(path)
    if embedder is None:
        from rag.models.embed import load_embedder

        embedder = load_embedder(MODEL)
    vectors = (embedder.embed_documents(texts) if kind == "passage"  # type: ignore[attr-defined]
               else embedder.embed_queries(texts))  # type: ignore[attr-defined]
    CACHE.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    return vectors


def replicate(base: np.ndarray, n: int, sigma: float, seed: int = 0) -> np.ndarray:
    """``n`` unit vectors: the base rows repeated, copies after the first with Gaussian noise.

    With sigma 0.02 per component (384 dims) a copy keeps a cosine of about 0.93 with its
    original: as near as a close paraphrase, so copies do not collapse onto one point.
    """
    rng = np.random.default_rng(seed)
    reps = -(-n // len(base))
    out = np.tile(base, (reps, 1))[:n].astype(np.float32)
    noisy = slice(len(base), n)
    out[noisy] += rng.normal(0.0, sigma, size=out[noisy].shape).astype(np.float32)
    out /= np.linalg.norm(out, axis=1, keepdims=True)
    return out
