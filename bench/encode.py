"""Build throughput against raw ``model.encode``, incremental rebuild, encoder settings, backends.

All timings here use the real default model, loaded once before any timing starts, so model
load time is not part of a build figure (cold start is measured separately).
"""

from __future__ import annotations

import contextlib
import shutil
import statistics
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import CACHE, MODEL, SHARED, load_average, timed

# Answer documents copied for --quick: a few files of each format, ~100 chunks.
QUICK_FILES = 10


@contextlib.contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Run the block with ``n`` intra-op threads, then restore the previous count."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def copy_corpus(dest: Path, quick: bool) -> Path:
    """The shared corpus (or, for --quick, a few answer files of it) copied to ``dest``."""
    src = SHARED / "corpus"
    if not quick:
        shutil.copytree(src, dest, ignore=shutil.ignore_patterns("*.jsonl"))
        return dest
    dest.mkdir(parents=True)
    files = sorted(p for p in (src / "antwoorden").iterdir() if p.is_file())
    pdfs = sorted((src / "pdf").glob("*.pdf"))[:2]
    for path in files[:QUICK_FILES - len(pdfs)] + pdfs:
        shutil.copy(path, dest / path.name)
    return dest


def edit_one_document(corpus: Path, answers: list[str]) -> Path:
    """Change the first words of one chunk's answer in its plain-text source file.

    ``answers`` are tried in order; the first whose opening words appear verbatim in a
    ``.txt`` or ``.md`` file of ``corpus`` is edited (cleaning may change text elsewhere).
    """
    texts = {path: path.read_text(encoding="utf-8", errors="replace")
             for path in sorted(corpus.rglob("*"))
             if path.suffix in (".txt", ".md") and path.is_file()}
    for answer in answers:
        head = " ".join(answer.split()[:8])
        for path, text in texts.items():
            if len(head) > 20 and head in text:
                path.write_text(text.replace(head, "Bij nader inzien: " + head, 1), "utf-8")
                return path
    raise RuntimeError("no plain-text file holds a chunk's opening words to edit")


def build_and_incremental(embedder: Any, quick: bool, batch_size: int) -> dict[str, Any]:
    """Full build throughput vs raw encode of the same passages, then a one-document rebuild."""
    from rag.build import build_index
    from rag.config import Settings
    from rag.models.embed import SentenceTransformerEmbedder
    from rag.models.registry import model_spec
    from rag.store.index import load_index

    model = embedder._loaded()
    # the same batch size as the raw encode
    embedder = SentenceTransformerEmbedder(model_spec(MODEL), batch_size=batch_size)
    embedder._model = model  # the loaded model, shared: loading is not build time
    with tempfile.TemporaryDirectory(prefix="vb-bench-") as tmp:
        corpus = copy_corpus(Path(tmp) / "corpus", quick)
        settings = Settings(index_dir=Path(tmp) / "index", batch_size=batch_size)
        # Raw encode before and after the build: the machine's load drifts, so the pipeline
        # is compared with the mean of the two raw runs around it.
        full = build_index(corpus, settings, embedder, full=True)
        index = load_index(settings.index_dir)
        passages = [c.passage(settings.chunking) for c in index.chunks]

        def raw() -> object:
            return model.encode(passages, prompt_name="passage", batch_size=batch_size,
                                normalize_embeddings=True, convert_to_numpy=True,
                                show_progress_bar=False)

        raw_before = timed(raw)[0]
        full2 = build_index(corpus, settings, embedder, full=True)
        raw_after = timed(raw)[0]
        pipeline = statistics.fmean([full.seconds, full2.seconds])
        raw_s = statistics.fmean([raw_before, raw_after])
        edited = edit_one_document(corpus, [c.answer for c in sorted(
            index.chunks, key=lambda c: -len(c.answer))])
        incremental = build_index(corpus, settings, embedder)
    n = full.chunks
    return {
        "chunks": n, "documents": full.documents, "batch_size": batch_size,
        "pipeline_s": pipeline, "raw_s": raw_s,
        "pipeline_cps": n / pipeline, "raw_cps": n / raw_s, "ratio": raw_s / pipeline,
        "full_runs_s": [full.seconds, full2.seconds], "raw_runs_s": [raw_before, raw_after],
        "incremental_s": incremental.seconds, "incremental_ratio": incremental.seconds / pipeline,
        "incremental_changes": incremental.changes, "edited": edited.name,
        "load": load_average(),
    }


def sweep(embedder: Any, passages: list[str], batch_sizes: list[int],
          threads: list[int]) -> list[dict[str, Any]]:
    """Raw passages/s by batch size (on the most threads), by thread count (at the fastest
    batch size), and for three batch orders (at the fastest setting)."""
    from rag.models.embed import SentenceTransformerEmbedder
    from rag.models.registry import model_spec

    model = embedder._loaded()
    rows = []

    def via_embedder(bs: int) -> object:
        # The project's embed_documents: global longest-first sort, groups of bs * 4.
        emb = SentenceTransformerEmbedder(model_spec(MODEL), batch_size=bs)
        emb._model = model
        return emb.embed_documents(passages)

    def one_call(bs: int) -> object:  # sentence-transformers sorts the whole list itself
        return model.encode(passages, prompt_name="passage", batch_size=bs,
                            normalize_embeddings=True, show_progress_bar=False)

    def unsorted(bs: int) -> object:  # corpus order: every batch padded to its longest text
        return [model.encode(passages[i:i + bs], prompt_name="passage", batch_size=bs,
                             normalize_embeddings=True, show_progress_bar=False)
                for i in range(0, len(passages), bs)]

    def measure(n_threads: int, bs: int) -> None:
        with torch_threads(n_threads):
            seconds = timed(lambda: via_embedder(bs))[0]
        rows.append({"threads": n_threads, "batch_size": bs, "order": "embedder",
                     "pps": len(passages) / seconds, "load": load_average()})

    # Every batch size on the most threads, then the other thread counts at the best size.
    for bs in batch_sizes:
        measure(max(threads), bs)
    fastest = max(rows, key=lambda r: r["pps"])["batch_size"]
    for n_threads in sorted(threads, reverse=True)[1:]:
        measure(n_threads, fastest)
    best = max(rows, key=lambda r: r["pps"])
    with torch_threads(best["threads"]):
        for name, fn in (("one encode call", one_call), ("unsorted", unsorted)):
            seconds = timed(lambda fn=fn: fn(best["batch_size"]))[0]
            rows.append({**best, "order": name, "pps": len(passages) / seconds,
                         "load": load_average()})
    return rows


def query_threads(embedder: Any, questions: list[str], threads: list[int],
                  rounds: int = 2) -> list[dict[str, Any]]:
    """Single-question embedding latency per torch thread count (the chat's per-query cost).

    Thread counts alternate over ``rounds`` so that a change in machine load hits each alike.
    """
    from bench.common import stats_ms

    times: dict[int, list[float]] = {n: [] for n in threads}
    for _ in range(rounds):
        for n in threads:
            with torch_threads(n):
                for q in questions:
                    times[n].append(timed(lambda q=q: embedder.embed_queries([q]))[0])
    return [{"threads": n, **stats_ms(t).__dict__, "load": load_average()}
            for n, t in times.items()]


def backend_comparison(embedder: Any, passages: list[str], batch_size: int,
                       gold: list[dict] | None, chunks: list | None,
                       ort_path: str | None) -> list[dict[str, Any]]:
    """Speed and quality of torch int8, ONNX fp32 and ONNX int8 against torch fp32.

    Quality: cosine with the fp32 vectors on ``passages``, and, when ``gold`` and ``chunks``
    are given, dense recall@10 on the gold questions over all chunks (each backend embeds
    both the passages and the questions).
    """
    import sys

    from bench import backends

    model = embedder._loaded()

    def fp32(texts: list[str], prompt: str) -> np.ndarray:
        return np.asarray(model.encode(texts, prompt=prompt, batch_size=batch_size,
                                       normalize_embeddings=True, show_progress_bar=False))

    encoders: dict[str, Any] = {"torch fp32": fp32}
    notes: dict[str, str] = {}
    encoders["torch int8 (dynamic)"] = backends.torch_int8(model, batch_size)
    if ort_path and ort_path not in sys.path:
        sys.path.append(ort_path)
    try:
        from rag.models.onnx import export_query_model

        onnx_dir = CACHE / "onnx"
        onnx_dir.mkdir(parents=True, exist_ok=True)
        fp32_path = export_query_model(model, onnx_dir)  # the graph the chat's questions use
        encoders["onnx fp32"] = backends.onnx_encoder(model, fp32_path, batch_size, 2)
        encoders["onnx int8 (dynamic)"] = backends.onnx_encoder(
            model, backends.quantise_onnx(fp32_path), batch_size, 2)
    except ImportError as exc:
        notes["onnx"] = f"not installed ({exc.name}): pip install onnxruntime onnx onnxscript"
    reference = fp32(passages, "passage: ")
    rows = []
    for name, encode in encoders.items():
        encode(passages[:2], "passage: ")  # warm-up: first-call allocations are not speed
        seconds, vectors = timed(lambda encode=encode: encode(passages, "passage: "))
        cos = np.sum(np.asarray(vectors) * reference, axis=1)
        row = {"backend": name, "pps": len(passages) / seconds, "cos_min": float(cos.min()),
               "cos_mean": float(cos.mean()), "load": load_average()}
        if gold and chunks:
            row["recall10"] = gold_recall(encode, gold, chunks)
        rows.append(row)
    for name, note in notes.items():
        rows.append({"backend": name, "note": note})
    return rows


def gold_recall(encode: Any, gold: list[dict], chunks: list, k: int = 10) -> float:
    """Dense recall@k on answerable gold questions: a hit is a chunk of the right vraag."""
    from rag.types import ChunkSettings

    settings = ChunkSettings()
    answerable = [g for g in gold if g.get("doc_id")]
    passages = [c.passage(settings) for c in chunks]
    docs = np.asarray(encode(passages, "passage: "))
    queries = np.asarray(encode([g["question"] for g in answerable], "query: "))
    top = np.argsort(-(queries @ docs.T), axis=1)[:, :k]
    found = 0
    for g, rows in zip(answerable, top, strict=True):
        want = set(g["vraag"])
        found += any(chunks[r].doc_id == g["doc_id"] and want & set(chunks[r].vraag)
                     for r in rows)
    return found / len(answerable)


def quick_sample(passages: list[str], n: int) -> list[str]:
    """``n`` passages spread evenly over the length distribution, in a fixed shuffled order
    (so that "unsorted" batches mix lengths as a corpus does)."""
    import random

    by_length = sorted(passages, key=len)
    step = max(len(by_length) / n, 1)
    sample = [by_length[int(i * step)] for i in range(min(n, len(by_length)))]
    random.Random(0).shuffle(sample)
    return sample


def best_settings(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The fastest embedder-order row of a sweep."""
    return max((r for r in rows if r["order"] == "embedder"), key=lambda r: r["pps"])


def changes_text(changes: Any) -> str:
    """``embedded/reused`` of a build's changes."""
    return f"{changes.embedded} embedded, {changes.reused} reused"
