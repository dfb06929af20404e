"""Vraagbaak benchmark: build throughput, incremental rebuild, query latency at scale, flat vs
approximate search, memory and cold start. One command, one Markdown report.

    python bench/bench.py            # full run (2–3 h on 2 cores; run on a quiet machine)
    python bench/bench.py --quick    # reduced scale, a few minutes: a sanity check
    python bench/bench.py --only scale ann --scales 1000 10000

Tables are printed as each section finishes and written to ``bench/results.md`` (and the
raw figures to ``bench/results.json``; ``results-quick.*`` with --quick): build output, never
a tracked file. Every row carries the load average at the time it was measured: figures
taken while other work runs are slower than the machine.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `python bench/bench.py` works

from bench import ann_bench, archive, cluster, coldstart, encode, int8, load, scale
from bench.common import (
    CACHE,
    MODEL,
    ROOT,
    cached_embeddings,
    load_average,
    markdown_table,
    questions,
    replicate,
    shared_chunks,
)

SECTIONS = ("sweep", "build", "archive", "int8", "cluster", "backends", "scale", "million",
            "ann", "coldstart", "load")
MILLION = 1_000_000
COLDSTART_SIZE = 10_000  # the cold-start target is set at this many passages
FULL_SCALES = (1_000, 10_000, 100_000, 300_000)
QUICK_SCALES = (1_000, 10_000)


class Report:
    """Markdown sections in run order, written after every section so a crash keeps them."""

    def __init__(self, out: Path, quick: bool) -> None:
        self.out, self.quick = out, quick
        self.parts: list[str] = []
        self.raw: dict[str, Any] = {}

    def add(self, title: str, text: str, raw: Any) -> None:
        """Print a section and write the report so far."""
        block = f"### {title}\n\n{text}\n"
        print("\n" + block, flush=True)
        self.parts.append(block)
        self.raw[title] = raw
        self.out.write_text(self.markdown(), encoding="utf-8")
        self.out.with_suffix(".json").write_text(
            json.dumps(self.raw, indent=1, default=_plain, ensure_ascii=False), "utf-8")

    def markdown(self) -> str:
        """The whole report."""
        import faiss
        import torch

        head = (f"Run {time.strftime('%Y-%m-%d %H:%M')} ({'--quick' if self.quick else 'full'}"
                f"), {platform.processor() or platform.machine()}, "
                f"{_cores()} cores, torch {torch.__version__}, faiss {faiss.__version__}, "
                f"model {MODEL}. Load average at start: {self.raw.get('_load', '?')}.\n")
        return head + "\n" + "\n".join(self.parts)


def _plain(value: Any) -> Any:
    return asdict(value) if is_dataclass(value) else str(value)  # type: ignore[arg-type]


def _cores() -> int:
    import os

    return len(os.sched_getaffinity(0))


def run_sweep(report: Report, embedder: Any, quick: bool) -> dict[str, Any]:
    """Batch size × threads × batch order on a length-stratified sample of real passages."""
    _, passages = shared_chunks()
    # Padding depends on how alike neighbouring lengths are, so only the whole corpus gives
    # true batch-size figures; --quick uses a sample, which favours small batches.
    sample = encode.quick_sample(passages, 48 if quick else len(passages))
    rows = encode.sweep(embedder, sample, [4, 8, 16] if quick else [4, 8, 16, 32], [1, 2])
    best = encode.best_settings(rows)
    short = [q for q in questions() if len(q) < 300][:20 if quick else 60]
    per_query = encode.query_threads(embedder, short, [1, 2])
    table = markdown_table(["threads", "batch size", "batch order", "passages/s", "load"],
                           [[r["threads"], r["batch_size"], r["order"], r["pps"], r["load"]]
                            for r in rows])
    report.add("Encoder settings (raw encode)", f"{len(sample)} real passages "
               f"({'a sample spread over the length range' if quick else 'the shared corpus'}"
               f", shuffled). Fastest: {best['threads']} thread(s), batch size "
               f"{best['batch_size']}. \"embedder\" = `embed_documents` (global longest-first "
               "sort, groups of batch×4); \"one encode call\" = sentence-transformers' own "
               "sort over the whole list; \"unsorted\" = batches in corpus order.\n\n" + table
               + f"\n\nOne question at a time ({len(short)} short real questions, "
               "`embed_queries`, thread counts alternated):\n\n"
               + markdown_table(["threads", "p50 ms", "p95 ms", "load"],
                                [[r["threads"], r["p50"], r["p95"], r["load"]]
                                 for r in per_query]),
               {"encode": rows, "query": per_query})
    return best


def run_build(report: Report, embedder: Any, quick: bool, best: dict[str, Any] | None) -> None:
    """Pipeline chunks/s vs raw encode chunks/s, then the one-document incremental rebuild."""
    from rag.config import Settings

    batch = best["batch_size"] if best else Settings().batch_size
    threads = best["threads"] if best else 2
    with encode.torch_threads(threads):
        r = encode.build_and_incremental(embedder, quick, batch)
    table = markdown_table(
        ["chunks", "pipeline chunks/s", "raw encode chunks/s", "ratio (target ≥ 0.9)",
         "full build s", "incremental s", "incremental / full (target < 5%)", "load"],
        [[r["chunks"], r["pipeline_cps"], r["raw_cps"], f"{r['ratio']:.2f}",
          r["pipeline_s"], r["incremental_s"], f"{r['incremental_ratio']:.1%}", r["load"]]])
    report.add("Build throughput and incremental rebuild",
               f"`build_index(full=True)` over {r['documents']} answer documents vs "
               f"`model.encode` of the same passages, batch size {batch}, {threads} thread(s); "
               f"each the mean of two runs (raw before and after the builds). Incremental: "
               f"one sentence of {r['edited']} edited, then `build_index` "
               f"({encode.changes_text(r['incremental_changes'])}).\n\n" + table, r)


def run_backends(report: Report, embedder: Any, quick: bool, batch: int, ort: str) -> None:
    """torch fp32 vs torch int8 vs ONNX fp32/int8: speed, cosine and gold recall@10."""
    chunks, passages = shared_chunks()
    sample = encode.quick_sample(passages, 32 if quick else 128)
    gold = None if quick else [json.loads(line) for line in
                               (ROOT / "eval" / "gold.jsonl").read_text("utf-8").splitlines()
                               if line.strip()]
    rows = encode.backend_comparison(embedder, sample, batch, gold, None if quick else chunks,
                                     ort)
    table = markdown_table(
        ["backend", "passages/s", "cosine vs fp32 (min / mean)", "gold dense recall@10", "load"],
        [[r["backend"], r.get("pps", "-"),
          f"{r['cos_min']:.4f} / {r['cos_mean']:.4f}" if "cos_min" in r else r.get("note", ""),
          f"{r['recall10']:.3f}" if "recall10" in r else "-", r.get("load", "")] for r in rows])
    report.add("Inference backends", f"{len(sample)} passages, batch size {batch}, 2 threads. "
               "Recall: dense only, 80 answerable gold questions over all shared-corpus "
               "chunks (full run only).\n\n" + table, rows)


def run_scale(report: Report, scales: tuple[int, ...], n_queries: int) -> None:
    """End-to-end chat latency and memory per index size, each in a fresh process."""
    rows = []
    for n in scales:
        path = scale.scaled_index(n)
        print(f"[scale] {n} chunks: index {path}; worker running (load {load_average()})",
              flush=True)
        rows.append(scale.run_worker(path, n_queries))
    table = markdown_table(
        ["chunks", "e2e p50 ms", "e2e p95 ms", "embed p50", "dense+fuse+top p50",
         "format p50", "faiss flat k=10 p50", "private MB", "mapped MB", "peak RSS MB",
         "open index s", "load"],
        [[r["n"], r["e2e"]["p50"], r["e2e"]["p95"], *(r["stages"][s]["p50"] for s in
          ("embed", "search", "format", "faiss_k10")), r["memory_asked_mb"]["private"],
          r["memory_asked_mb"]["mapped"], r["peak_rss_mb"], r["open_s"], r["load"]]
         for r in rows])
    report.add("Query latency and memory at scale",
               f"`open_searcher` + `rag.chat.Chat.reply` (embed, hybrid retrieve, quote, render) "
               f"in a fresh process per size; {rows[0]['queries'] if rows else 0} real "
               "questions (the gold set first, then dev Kamervragen), one at a time; stage "
               "columns split the same path (ms). Memory after the questions: private = the "
               "process's own (RssAnon: model, chunks, BM25), mapped = file pages it maps "
               "(RssFile: the memory-mapped vectors, shared by every process serving one "
               "generation, and libraries). Targets: p50 ≤ 50 ms at 10k, ≤ 150 ms at 300k."
               "\n\n" + table, rows)


def run_ann(report: Report, scales: tuple[int, ...], n_latency: int, quick: bool,
            sigmas: tuple[float, ...]) -> None:
    """Flat vs HNSW vs IVF at each scale on replicated real vectors and real questions."""
    _, passages = shared_chunks()
    base = cached_embeddings(passages, "passage")
    queries = cached_embeddings(questions(), "query")
    rows = []
    for n, sigma in ((n, s) for s in sigmas for n in scales):
        print(f"[ann] {n} vectors, noise {sigma} (load {load_average()})", flush=True)
        rows += [{**r, "sigma": sigma} for r in ann_bench.compare(
            replicate(base, n, sigma), queries, n_latency,
            ann_bench.QUICK_STRUCTURES if quick else ann_bench.STRUCTURES)]
    table = markdown_table(
        ["vectors", "noise", "structure", "build s", "memory MB", "p50 ms", "p95 ms",
         "recall@10 vs exact", "load"],
        [[r["n"], r["sigma"], r["structure"], r["build_s"], r["memory_mb"], r["p50_ms"],
          r["p95_ms"], f"{r['recall10']:.3f}", r["load"]] for r in rows])
    report.add("Flat vs approximate search",
               f"k=10, one query at a time on one FAISS thread (except the first row), "
               f"{len(queries)} real questions for recall, {n_latency} for latency. Noise: σ "
               "per component of the replicated copies (0.02: cosine ≈ 0.93 to the original, "
               "near-duplicates; 0.05: ≈ 0.71, as far as an unrelated passage). Memory: the "
               "serialised structure.\n\n" + table, rows)


def run_coldstart(report: Report, quick: bool, scales: tuple[int, ...]) -> None:
    """``rag ask`` and the chat from process start to the first answer, at 10k passages
    (the target's size) and the largest size of the run; and whether a fresh process's
    questions (ONNX) get the same hits as a process with the full model (torch)."""
    rows, raw = [], {}
    sizes = [COLDSTART_SIZE] if quick else sorted({COLDSTART_SIZE, scales[-1]})
    for n in sizes:
        path = scale.scaled_index(n)
        ask = coldstart.rag_ask(path, repeat=1 if quick else 5)
        app = coldstart.app_first_answer(path)
        raw[n] = {"ask": ask, "app": app}
        st = ask["stages"]
        rows.append([n, ask["median_s"], st["import_cli"], st["import_answer"], st["open_index"],
                     st["load_model"], st["first_ask"], ask["help_s"], app["serving_s"],
                     app["first_answer_s"], "ok" if app["ok"] else "NO ANSWER", ask["load"]])
    same = coldstart.same_hits(scale.scaled_index(COLDSTART_SIZE), questions()[:100])
    raw["same_hits"] = same
    imports = {
        "rag ask path": "import rag.cli, rag.search.searcher",
        "app.py": "import app",
        "model load": "import sentence_transformers",
    }
    profile = {name: coldstart.import_profile(code) for name, code in imports.items()}
    raw["imports"] = profile
    table = markdown_table(
        ["chunks", "`rag ask` s (median)", "import rag.cli", "import rag.search.searcher",
         "open index",
         "load model", "first ask", "`rag --help` s", "app serving s", "app first answer s",
         "answer", "load"], rows)
    lines = [f"- `{name}`: " + ", ".join(f"{mod} {sec:.2f} s" for mod, sec in top[:6])
             for name, top in profile.items()]
    report.add("Cold start", "Wall seconds from process start; the stage split comes from "
               "one extra fresh process. Target: `rag ask` ≤ 3 s at 10,000 passages. "
               f"Same hits, ONNX questions (a fresh `rag ask`) against torch (the full model): "
               f"**{same['same']} of {same['questions']}** questions with the same ten "
               f"numbered answers in the same order and the same decision (min cosine of the "
               f"question vectors {same['min_cosine']:.6f}). Slowest top-level imports "
               "(`python -X importtime`, cumulative):\n\n" + "\n".join(lines) + "\n\n"
               + table, raw)


def run_archive(report: Report, quick: bool) -> None:
    """Rebuilds over an archive-sized corpus (41,000 simulated answer files)."""
    r = archive.run(2_000 if quick else archive.N_FILES)
    names = ("first build", "nothing changed", "one file touched", "one file edited")
    table = markdown_table(
        ["build", "seconds", "files parsed", "read again (same bytes)", "not read",
         "passages", "embedded", "load"],
        [[name, r[name]["s"], r[name]["parsed"], r[name]["rehashed"], r[name]["unread"],
          r[name]["chunks"], r[name]["embedded"], r[name]["load"]] for name in names])
    report.add("Rebuilds at archive size",
               f"{r['files']:,} simulated answer files (the shared corpus's plain-text answer "
               "documents copied under their own names, `bench/archive.py`), hashing "
               "embedder: reading, parsing, chunking, BM25 and writing, not the model. "
               "Target: nothing changed ≤ 60 s.\n\n" + table, r)


def run_int8(report: Report, quick: bool) -> None:
    """fp32 vs int8: build throughput and retrieval quality, and the adoption rule."""
    r = int8.run(quick)
    models = (int8.FP32, int8.INT8)
    rows = [[m, ", ".join(f"{v:.1f}" for v in r["speeds"][m]),
             *(f"{r['scores'][m][k]:.3f}" for k in r["scores"][int8.FP32])] for m in models]
    rows.append(["int8 − fp32", f"× {r['speedup']:.2f}",
                 *(f"{r['deltas'][k]:+.3f}" for k in r["scores"][int8.FP32])])
    table = markdown_table(["model", "build passages/s", *r["scores"][int8.FP32]], rows)
    verdict = "adopted as the default" if r["adopt"] else "kept as an option, not the default"
    report.add("int8 encoder", "Full builds of the shared corpus, alternating models; "
               "quality from `rag eval --json` (gold.jsonl, dev pairs"
               f"{' [:100]' if quick else ''}). Rule: ×{int8.RULE_SPEEDUP:g} and "
               f"|Δ| ≤ {int8.RULE_DELTA} on {', '.join(r['ruled'])} → **{verdict}** "
               f"(load {r['load']}).\n\n" + table, r)


def run_cluster(report: Report) -> None:
    """Dask LocalCluster 2 × 1 thread vs the in-process embedder on 2 threads."""
    r = cluster.run()
    table = markdown_table(
        ["embedding", "passages/s (each build)", "median", "load"],
        [[name, ", ".join(f"{v:.2f}" for v in r["speeds"][key]),
          f"{statistics.median(r['speeds'][key]):.2f}", r["load"]]
         for name, key in ((f"in-process, {r['in_process_threads']} threads", "in-process"),
                           ("LocalCluster 2 × 1 thread", "cluster"))])
    report.add("Build on a Dask cluster, one machine",
               "Full builds of the shared corpus with the real model, alternating; the first "
               f"cluster build (workers loading the model) ran at {r['first_cluster']:.2f} "
               f"passages/s and is not counted. **Ratio cluster / in-process: "
               f"{r['ratio']:.2f}** (target ≥ 0.85).\n\n" + table, r)


def run_million(report: Report, n_queries: int) -> None:
    """Candidate retrieval at a million passages: latency, recall against exact, memory."""
    path = scale.scaled_index(MILLION)
    print(f"[million] index {path}; worker running (load {load_average()})", flush=True)
    r = scale.run_worker(path, n_queries, timeout=7200)
    built = scale.build_timings(path)
    rank = r["rank_ms"]
    table = markdown_table(
        ["passages", "e2e p50 ms", "e2e p95 ms", "rank p50 ms: candidates", "exact",
         "recall@10 hybrid", "recall@10 dense", "same decision", "same top label",
         "private MB", "mapped MB", "peak RSS MB", "open index s", "coarse build s", "load"],
        [[r["n"], r["e2e"]["p50"], r["e2e"]["p95"], rank["candidates"]["p50"],
          rank["exact"]["p50"], f"{r['recall10']['hybrid']:.3f}",
          f"{r['recall10']['dense']:.3f}", f"{r['same_decision']:.3f}",
          f"{r['same_label']:.3f}", r["memory_asked_mb"]["private"],
          r["memory_asked_mb"]["mapped"], r["peak_rss_mb"], r["open_s"],
          built.get("coarse_build_s", "-"), r["load"]]])
    report.add("A million passages", f"The replicated index of the scale section at "
               f"{MILLION:,} passages, written with its coarse index as a build of that size "
               "writes it; `Chat.reply` end to end (default threads), then `Searcher.rank` "
               "with candidates and with exact scoring of every passage on the same "
               f"questions ({r['queries']}). Recall@10: the ten best numbered answers of the "
               "candidate path found by exact search; same decision / label: the share of "
               "questions on which both paths say \"nothing found\" alike and give the first "
               "hit the same relevance label. Memory after the timed questions, before the "
               "exact comparison reads every vector (see the scale section). Targets: p50 ≤ "
               "150 ms, recall@10 ≥ 0.99.\n\n" + table, r)


def run_load(report: Report, quick: bool) -> None:
    """The chat app under many clients at once, and a burst past its queue."""
    index = load.sample_index()
    plan = ((1, 10), (32, 2), (100, 1)) if quick else ((1, 30), (32, 10), (100, 1))
    rows = []
    for clients, each in plan:
        print(f"[load] {clients} clients × {each} (load {load_average()})", flush=True)
        rows.append(load.run(index, clients, each))
    table = markdown_table(
        ["clients", "questions", "answered / s", "p50 s", "p95 s", "outcomes", "load"],
        [[r["clients"], r["questions"], r["per_s"], r["p50_s"], r["p95_s"],
          ", ".join(f"{k} {v}" for k, v in sorted(r["outcomes"].items())), r["load"]]
         for r in rows])
    report.add("The chat under load", "One `app.py` process over the sample index with the "
               "real model; clients are threads asking through Gradio's HTTP API "
               "(`/gradio_api/call/ask`), one question after the other each; the last row is "
               "a burst of 100 at once. Targets at 32 clients: ≥ 2 × the single-process "
               "figure of before (12 questions/s), p95 ≤ 1.5 s, no errors.\n\n" + table, rows)


def main() -> None:
    """Parse options and run the chosen sections."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="reduced scale: a sanity check")
    parser.add_argument("--only", nargs="+", choices=SECTIONS, help="run these sections only")
    parser.add_argument("--scales", nargs="+", type=int, help="index sizes (chunks)")
    parser.add_argument("--queries", type=int, help="questions per latency measurement")
    parser.add_argument("--out", type=Path, help="Markdown report (default: bench/results.md; "
                        "with --quick bench/results-quick.md, so a check never overwrites "
                        "the full results)")
    parser.add_argument("--ort-path", default=str(CACHE.parent / "vb-ort"),
                        help="extra sys.path entry holding onnxruntime/onnx/onnxscript "
                             "(pip install --target DIR ...), if not in the venv")
    args = parser.parse_args()
    sections = args.only or SECTIONS
    scales = tuple(args.scales or (QUICK_SCALES if args.quick else FULL_SCALES))
    n_queries = args.queries or (30 if args.quick else 100)
    out = args.out or Path(__file__).with_name("results-quick.md" if args.quick
                                               else "results.md")
    report = Report(out, args.quick)
    report.raw["_load"] = load_average()
    embedder, best = None, None
    if {"sweep", "build", "backends"} & set(sections):
        from rag.models.embed import load_embedder

        embedder = load_embedder(MODEL)
        embedder.embed_queries(["opwarmen"])  # model load is cold start, not throughput
    if "sweep" in sections:
        best = run_sweep(report, embedder, args.quick)
    if "build" in sections:
        run_build(report, embedder, args.quick, best)
    if "archive" in sections:
        run_archive(report, args.quick)
    if "int8" in sections:
        run_int8(report, args.quick)
    if "cluster" in sections:
        run_cluster(report)
    if "backends" in sections:
        run_backends(report, embedder, args.quick, best["batch_size"] if best else 16,
                     args.ort_path)
    if "scale" in sections:
        run_scale(report, scales, n_queries)
    if "million" in sections and args.quick:
        print("[million] skipped with --quick (it builds a 1,000,000-passage index)")
    elif "million" in sections:
        run_million(report, n_queries)
    if "ann" in sections:
        run_ann(report, scales, n_queries, args.quick,
                (scale.SIGMA,) if args.quick else (scale.SIGMA, 0.05))
    if "coldstart" in sections:
        run_coldstart(report, args.quick, scales)
    if "load" in sections:
        run_load(report, args.quick)
    print(f"\nWritten: {out}", flush=True)


if __name__ == "__main__":
    main()
