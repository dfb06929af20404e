"""Would a reranker put the right vraag first more often? Two measured answers.

    python eval/rerank_experiment.py --index index-shared --cache /tmp/vraagbaak-vectors

(a) Latency of a model reranker: a cross-encoder (or a fine-tuned e5 scoring question and
    passage together) runs the model once per (question, passage) pair. Timed here as what
    it cannot beat: multilingual-e5-small embedding the top-5 and top-10 passages of a
    question, median of repeated runs, beside the whole search (`Searcher.ask`) without it.
(b) A learned reranker over features (pairwise logistic regression, learning to rank):
    the top-20 numbered answers of the default hybrid search, each described by its hybrid
    score and the relevance features (`rag.search.relevance.feature_values`), and whether
    it is a right vraag. Trained and scored by 5-fold cross-validation by document on the
    Dutch gold questions (paraphrase and topical), optionally with the self-retrieval
    questions of the training folds' documents; printed: vraag R@1 and MRR@10 held out,
    reranked against the hybrid order, on the same questions.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rag.evaluation.embedcache import CachedEmbedder  # noqa: E402
from rag.evaluation.gold import GoldQuestion, load_gold, self_retrieval_questions  # noqa: E402
from rag.evaluation.logreg import fit_logistic  # noqa: E402
from rag.evaluation.metrics import retrieval_metrics  # noqa: E402
from rag.evaluation.run import relevant_units  # noqa: E402
from rag.evaluation.trustdata import fold_of  # noqa: E402
from rag.models.embed import load_embedder  # noqa: E402
from rag.models.registry import model_spec  # noqa: E402
from rag.search.judge import relevance_for  # noqa: E402
from rag.search.language import detect_language  # noqa: E402
from rag.search.relevance import feature_values  # noqa: E402
from rag.search.searcher import Searcher  # noqa: E402
from rag.store.index import load_index  # noqa: E402
from rag.types import Language  # noqa: E402

DEPTH = 20
FEATURES = ("score", "cos", "cos_z", "gap_best", "doc_margin", "bm25", "bm25_rel", "coverage",
            "idf_coverage", "dense_rank", "lex_rank", "agree", "anchor_coverage")
FOLDS = 5


def candidates(searcher: Searcher, q: GoldQuestion, units: set) -> tuple[np.ndarray, list, set]:
    """Feature rows of the top-DEPTH answers (hybrid order), their units, the right units."""
    ranking = searcher.rank(q.question, k=DEPTH)
    ev = searcher.evidence(ranking)
    rows, keys = [], []
    for row, score in ranking.rows:
        values = feature_values(ev, row, searcher.passage_tokens(row))
        values["score"] = score
        rows.append([values[f] for f in FEATURES])
        keys.append(searcher.index.chunks[row].unit)
    return np.array(rows), keys, relevant_units(q, units)


def pairwise(data: list) -> tuple[np.ndarray, np.ndarray]:
    """Differences (right − wrong) and (wrong − right) of every question's candidates."""
    x, y = [], []
    for feats, keys, right in data:
        good = [i for i, k in enumerate(keys) if k in right]
        bad = [i for i, k in enumerate(keys) if k not in right]
        for g in good:
            for b in bad:
                x += [feats[g] - feats[b], feats[b] - feats[g]]
                y += [1.0, 0.0]
    return np.array(x), np.array(y)


def latency(searcher: Searcher, embedder: CachedEmbedder, questions: list[GoldQuestion]) -> None:
    model = embedder.inner
    texts = [c.passage(searcher.index.manifest.chunking) for c in searcher.index.chunks]
    model.embed_documents(texts[:4])  # load and warm up
    ask, five, ten = [], [], []
    for i, q in enumerate(questions[:15]):
        start = time.perf_counter()
        searcher.ask(q.question + "!")  # a new text: the question is embedded again
        ask.append(time.perf_counter() - start)
        for k, out in ((5, five), (10, ten)):
            batch = texts[i * 10: i * 10 + k]
            start = time.perf_counter()
            model.embed_documents(batch)
            out.append(time.perf_counter() - start)
    print(f"(a) median over {len(ask)} questions: search (embed + rank + judge) "
          f"{statistics.median(ask) * 1000:.0f} ms; e5-small over 5 passages "
          f"{statistics.median(five) * 1000:.0f} ms, over 10 passages "
          f"{statistics.median(ten) * 1000:.0f} ms")


def main(argv: list[str] | None = None) -> int:
    """Measure (a) and (b) and print them."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--model", default="multilingual-e5-small")
    parser.add_argument("--cache", type=Path)
    parser.add_argument("--no-latency", action="store_true")
    args = parser.parse_args(argv)
    embedder = CachedEmbedder(load_embedder(args.model), args.cache)
    index = load_index(args.index, expected_model_id=embedder.model_id)
    relevance = relevance_for(model_spec(args.model), index.manifest.model_id)
    searcher = Searcher(index, embedder, relevance=relevance)
    dutch = [q for q in load_gold(ROOT / "eval" / "gold.jsonl")
             if q.answerable and detect_language(q.question) is Language.NL]
    own = self_retrieval_questions(index.chunks)
    embedder.embed_queries([q.question for q in dutch + own])
    units = {c.unit for c in index.chunks}
    gold_data = [candidates(searcher, q, units) for q in dutch]
    own_data = [candidates(searcher, q, units) for q in own]
    for with_self in (False, True):
        base_rank, new_rank, rel = [], [], []
        for k in range(FOLDS):
            train = [d for q, d in zip(dutch, gold_data, strict=True)
                     if fold_of(q.doc_id or "", FOLDS) != k]
            if with_self:
                train += [d for q, d in zip(own, own_data, strict=True)
                          if fold_of(q.doc_id or "", FOLDS) != k]
            x, y = pairwise(train)
            model = fit_logistic(x, y)
            for q, (feats, keys, right) in zip(dutch, gold_data, strict=True):
                if fold_of(q.doc_id or "", FOLDS) != k:
                    continue
                # A linear score: the pairwise model's weights on the standardised features.
                score = (feats / model.scale) @ model.weights
                order = np.argsort(-score, kind="stable")
                base_rank.append(keys)
                new_rank.append([keys[i] for i in order])
                rel.append(right)
        a, b = retrieval_metrics(base_rank, rel), retrieval_metrics(new_rank, rel)
        name = "gold + self-retrieval" if with_self else "gold only"
        print(f"(b) trained on {name}: {a.n} Dutch questions held out: hybrid R@1 "
              f"{a.recall_1:.3f} MRR@10 {a.mrr_10:.3f}; reranked R@1 {b.recall_1:.3f} "
              f"MRR@10 {b.mrr_10:.3f}")
    if not args.no_latency:
        latency(searcher, embedder, dutch)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
