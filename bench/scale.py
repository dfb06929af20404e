"""Query latency and memory at 1k–300k chunks through the project's own index and searcher.

A scaled index is written with `rag.store.index.save_index` (the real code path) from the shared
corpus's real chunks and real e5 vectors, replicated: copy j of a chunk gets the ids
``<doc_id>~j`` / ``<chunk_id>~j`` and its vector gets Gaussian noise (`bench.common.replicate`);
the BM25 index is built over the replicated passages' tokens. The latency worker then runs in
a fresh process (`python -m bench.scale worker ...`), opens the index with
`rag.search.searcher.open_searcher` and the real model, and answers real questions through
`rag.chat.Chat.reply` (embed, retrieve, choose quotes, render the reply): the chat's own path.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

PROCESS_START = time.perf_counter()

from bench.common import (  # noqa: E402  (PROCESS_START first: cold start counts imports)
    CACHE,
    MODEL,
    ROOT,
    SHARED,
    cached_embeddings,
    load_average,
    memory_split_mb,
    peak_rss_mb,
    questions,
    replicate,
    shared_chunks,
    stats_ms,
)

SIGMA = 0.02


def scaled_index(n: int, force: bool = False) -> Path:
    """An index folder of ``n`` chunks (cached under the bench cache); returns its path."""
    from rag.config import Settings
    from rag.ingest.corpus import load_corpus
    from rag.models.provision import model_revision
    from rag.store.coarse import wants_coarse, write_coarse
    from rag.store.index import current_generation, save_index
    from rag.store.lexical import LexicalIndex, LexicalSettings, save_into_generation, tokenize
    from rag.types import DocRecord

    path = CACHE / f"index-{n}"
    if (path / "current").exists() and not force:
        return path
    chunks, passages = shared_chunks()
    base = cached_embeddings(passages, "passage")
    corpus = load_corpus(SHARED / "corpus")
    docs = {d.doc_id: d for d in corpus.answer_documents}
    reps = -(-n // len(chunks))
    all_chunks = [c if j == 0 else replace(c, chunk_id=f"{c.chunk_id}~{j}",
                                           doc_id=f"{c.doc_id}~{j}")
                  for j in range(reps) for c in chunks][:n]
    used = {c.doc_id for c in all_chunks}
    records = [DocRecord(f"{d.doc_id}~{j}" if j else d.doc_id, d.source, d.meta)
               for j in range(reps) for d in docs.values()
               if (f"{d.doc_id}~{j}" if j else d.doc_id) in used]
    settings = LexicalSettings()
    tokens = tokenize(passages, settings)
    import bm25s

    bm25 = bm25s.BM25(k1=settings.k1, b=settings.b, method="lucene")
    bm25.index([tokens[i % len(tokens)] for i in range(n)], show_progress=False)
    vectors = replicate(base, n, SIGMA)
    timings: dict[str, float] = {}

    def extra(generation: Path) -> list[str]:
        files = save_into_generation(LexicalIndex(bm25, settings), generation)
        if wants_coarse(n):  # as a build of this size would (rag.build)
            started = time.perf_counter()
            files.append(write_coarse(generation, vectors))
            timings["coarse_build_s"] = time.perf_counter() - started
        return files

    save_index(path, model_id=f"{MODEL}@{model_revision()}", vectors=vectors,
               chunks=all_chunks, documents=records, chunking=Settings().chunking, extra=extra)
    assert current_generation(path).is_dir()
    path.with_suffix(".json").write_text(json.dumps(timings), "utf-8")
    return path


def build_timings(path: Path) -> dict[str, float]:
    """What `scaled_index` measured while writing ``path`` (the coarse index's build time)."""
    try:
        return json.loads(path.with_suffix(".json").read_text("utf-8"))
    except (OSError, ValueError):
        return {}


def run_worker(index: Path, n_queries: int, timeout: float = 3600) -> dict[str, Any]:
    """Run the latency worker in a fresh process and return its JSON report."""
    out = subprocess.run(
        [sys.executable, "-m", "bench.scale", "worker", "--index", str(index),
         "--queries", str(n_queries)],
        cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"latency worker failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def worker(index: Path, n_queries: int) -> dict[str, Any]:
    """Open the index like the chat does, answer real questions, time each stage."""
    import faiss

    from rag.chat import Chat
    from rag.config import Settings
    from rag.render import to_html
    from rag.search.searcher import open_searcher

    imported = time.perf_counter()
    searcher = open_searcher(Settings(index_dir=index, model=MODEL))
    chat = Chat(searcher)
    chat.warm_up()
    loaded = time.perf_counter()
    memory_loaded = memory_split_mb()
    asked = questions()[:n_queries]
    chat.reply(asked[0])  # first reply pays one-off allocations; timed ones are steady state
    e2e, stages = [], {k: [] for k in ("embed", "search", "format", "faiss_k10")}
    for question in asked:
        started = time.perf_counter()
        chat.reply(question)
        e2e.append(time.perf_counter() - started)
    memory_asked = memory_split_mb()  # before the exact comparison touches every vector
    for question in asked:  # the same path in stages: the question's vector is cached by
        t0 = time.perf_counter()  # now, so `ask` times scoring, fusion and selection alone
        q = searcher.embedder.embed_queries([question])
        t1 = time.perf_counter()
        answer = searcher.ask(question)
        t2 = time.perf_counter()
        to_html(answer)
        t3 = time.perf_counter()
        searcher.index.faiss_index.search(np.ascontiguousarray(q, dtype=np.float32), 10)
        t4 = time.perf_counter()
        for name, seconds in zip(stages, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
            stages[name].append(seconds)
    return {
        **(_against_exact(searcher, asked) if searcher.uses_candidates else {}),
        "n": searcher.index.faiss_index.ntotal, "queries": len(asked),
        "faiss": type(searcher.index.faiss_index).__name__,
        "threads": faiss.omp_get_max_threads(),
        "import_s": imported - PROCESS_START, "open_s": loaded - imported,
        "e2e": stats_ms(e2e).__dict__,
        "stages": {k: stats_ms(v).__dict__ for k, v in stages.items()},
        "memory_loaded_mb": memory_loaded, "memory_asked_mb": memory_asked,
        "peak_rss_mb": peak_rss_mb(), "load": load_average(),
    }


def _against_exact(searcher: Any, asked: list[str]) -> dict[str, Any]:
    """Candidate search against exact search on the same index and questions: recall@10 of
    the ten best numbered answers (hybrid, as the chat ranks, and dense alone), whether the
    two answer alike ("nothing found" or not, and the first hit's relevance label), and the
    seconds of `Searcher.rank` each way (question vectors cached: scoring alone)."""
    from rag.render import relevance_label
    from rag.search.searcher import Searcher

    exact = Searcher(searcher.index, searcher.embedder, min_score=searcher.min_score,
                     lexical=searcher.lexical, relevance=searcher.relevance, exact=True)
    same_decision = same_label = 0
    for question in asked:
        a, b = searcher.ask(question), exact.ask(question)
        same_decision += a.abstained == b.abstained
        same_label += (relevance_label(a.hits[0], a.question)
                       == relevance_label(b.hits[0], b.question))
    recall: dict[str, list[float]] = {"hybrid": [], "dense": []}
    seconds: dict[str, list[float]] = {"candidates": [], "exact": []}
    for question in asked:
        for retriever, values in recall.items():
            rows = []
            for name, which in (("candidates", searcher), ("exact", exact)):
                started = time.perf_counter()
                rows.append({r for r, _ in which.rank(question, 10, retriever=retriever).rows})
                if retriever == "hybrid":
                    seconds[name].append(time.perf_counter() - started)
            values.append(len(rows[0] & rows[1]) / max(len(rows[1]), 1))
    return {"recall10": {k: float(np.mean(v)) for k, v in recall.items()},
            "rank_ms": {k: stats_ms(v).__dict__ for k, v in seconds.items()},
            "same_decision": same_decision / len(asked), "same_label": same_label / len(asked)}


def main() -> None:
    """``python -m bench.scale worker --index DIR --queries N`` (prints one JSON line)."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("mode", choices=["worker", "build"])
    parser.add_argument("--index", type=Path)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--n", type=int)
    args = parser.parse_args()
    if args.mode == "build":
        print(scaled_index(args.n, force=True))
        return
    print(json.dumps(worker(args.index, args.queries)))


if __name__ == "__main__":
    main()
