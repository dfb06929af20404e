"""Choose the hybrid fusion per language by cross-validation by document, and report it.

    python eval/tune_fusion.py --index index-shared

Every setting of the grid (weighted sums with dense weight 0.5-1.0, reciprocal rank fusion)
is run through `Searcher.rank`, the ranking `rag ask` answers from. For every fold (the gold
questions of a fifth of the documents), the setting with the best vraag-level MRR@10 on the
other folds is chosen and scored on the held-out fold. Printed per language: in-sample
figures of every setting, the settings chosen per fold and the held-out figures of that
choice next to the default's.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rag.evaluation.embedcache import CachedEmbedder  # noqa: E402
from rag.evaluation.gold import load_gold  # noqa: E402
from rag.evaluation.metrics import retrieval_metrics  # noqa: E402
from rag.evaluation.run import relevant_units  # noqa: E402
from rag.evaluation.trustdata import fold_of  # noqa: E402
from rag.models.embed import load_embedder  # noqa: E402
from rag.search.judge import fusion_for  # noqa: E402
from rag.search.language import detect_language  # noqa: E402
from rag.search.rank import DEFAULT_FUSION, Fusion, FusionSettings, Retriever  # noqa: E402
from rag.search.searcher import Searcher, lexical_for  # noqa: E402
from rag.store.index import load_index  # noqa: E402
from rag.types import Language  # noqa: E402

GRID = ([FusionSettings(Fusion.WEIGHTED, dense_weight=w) for w in (0.5, 0.6, 0.7, 0.8, 0.9, 1.0)]
        + [FusionSettings(Fusion.RRF, rrf_k=k, dense_weight=w)
           for k in (10.0, 60.0) for w in (0.5, 0.7)])
DEFAULT_GOLD = ("eval/gold.jsonl", "eval/english.jsonl")
DEPTH = 10


def main(argv: list[str] | None = None) -> int:
    """Run the grid and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--gold", action="append")
    parser.add_argument("--model", default="multilingual-e5-small")
    parser.add_argument("--cache", type=Path)
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args(argv)
    embedder = CachedEmbedder(load_embedder(args.model), args.cache)
    index = load_index(args.index, expected_model_id=embedder.model_id)
    lexical = lexical_for(index)
    questions = [q for g in (args.gold or DEFAULT_GOLD) for q in load_gold(ROOT / g)
                 if q.answerable]
    embedder.embed_queries([q.question for q in questions])  # once, in one batch
    units = {}
    for setting in GRID:
        searcher = Searcher(index, embedder, lexical=lexical,
                            fusions=dict.fromkeys(Language, setting))
        units[setting] = [_units(searcher, q.question) for q in questions]
    known = {c.unit for c in index.chunks}
    relevant = [relevant_units(q, known) for q in questions]
    for language in Language:
        mine = [i for i, q in enumerate(questions) if detect_language(q.question) is language]
        if not mine:
            continue
        print(f"\n## {language.value}: {len(mine)} questions\n")
        print("| fusion | R@1 | R@5 | MRR@10 |\n|---|---:|---:|---:|")
        for setting in GRID:
            m = _metrics(units[setting], relevant, mine)
            print(f"| {_name(setting)} | {m[0]:.3f} | {m[1]:.3f} | {m[2]:.3f} |")
        fold = {i: fold_of(questions[i].doc_id or "", args.folds) for i in mine}
        chosen: list[FusionSettings] = []
        held: dict[int, FusionSettings] = {}
        for k in range(args.folds):
            train = [i for i in mine if fold[i] != k]
            test = [i for i in mine if fold[i] == k]
            if not train or not test:
                continue
            best = max(GRID, key=lambda s: _metrics(units[s], relevant, train)[2])
            chosen.append(best)
            held.update(dict.fromkeys(test, best))
        picked = [i for i in mine if i in held]
        cv = _metrics([units[held[i]][i] if i in held else [] for i in range(len(questions))],
                      relevant, picked)
        default = fusion_for(language, DEFAULT_FUSION)
        base = _metrics(units[default], relevant, picked)
        counts = Counter(_name(s) for s in chosen)
        print(f"\nChosen per fold: {dict(counts)}; held-out R@1 / R@5 / MRR@10 "
              f"{cv[0]:.3f} / {cv[1]:.3f} / {cv[2]:.3f}; the default ({_name(default)}) "
              f"{base[0]:.3f} / {base[1]:.3f} / {base[2]:.3f}")
    return 0


def _units(searcher: Searcher, question: str) -> list[tuple[str, tuple[int, ...]]]:
    ranking = searcher.rank(question, k=DEPTH, retriever=Retriever.HYBRID)
    return [searcher.index.chunks[row].unit for row, _ in ranking.rows]


def _metrics(rankings, relevant, rows):  # type: ignore[no-untyped-def]
    m = retrieval_metrics([rankings[i] for i in rows], [relevant[i] for i in rows])
    return m.recall_1, m.recall_5, m.mrr_10


def _name(s: FusionSettings) -> str:
    if s.method is Fusion.RRF:
        return f"rrf k={s.rrf_k:g} w={s.dense_weight:g}"
    return f"weighted w={s.dense_weight:g}"


if __name__ == "__main__":
    raise SystemExit(main())
