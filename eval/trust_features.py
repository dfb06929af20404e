"""Compare feature sets and training data of the relevance model, held out.

    python eval/trust_features.py --index index-shared --cache /tmp/vraagbaak-vectors \\
        [--pairs ../shared/qa_pairs/dev.jsonl]

For each feature set (and, with ``--pairs``, with and without the dev pairs as training
examples) prints abstention per language and slice of the user questions and the Brier
score, all from 5-fold cross-validation by document (the dev pairs split by pair): every
fold is scored by a model, threshold included, fitted on the other folds only. Then the
adopted model abstaining also when none of the top five hits reaches a floor (the hits'
own probability; "redelijk" starts at 0.2), and, for
the adopted features, the recall an ideal threshold on those held-out probabilities would
reach at 5, 10 and 20 % false refusals of English questions (the most any threshold can
get from these features).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rag.evaluation import calibration  # noqa: E402
from rag.evaluation.embedcache import CachedEmbedder  # noqa: E402
from rag.evaluation.gold import load_gold  # noqa: E402
from rag.evaluation.relevance_fit import MODEL_FEATURES, cross_validate  # noqa: E402
from rag.evaluation.trustdata import (  # noqa: E402
    PAIRS,
    Example,
    ExampleBuilder,
    build_examples,
    pair_examples,
    questions_to_embed,
)
from rag.models.embed import load_embedder  # noqa: E402
from rag.store.index import load_index  # noqa: E402
from rag.types import Language  # noqa: E402

BASE = tuple(f for f in MODEL_FEATURES if not f.startswith("anchor"))
FEATURE_SETS = {
    "without anchors": BASE,
    "adopted (anchors)": MODEL_FEATURES,
    "adopted + bm25": (*MODEL_FEATURES, "bm25"),
    "adopted + dense_rank, lex_rank": (*MODEL_FEATURES, "dense_rank", "lex_rank"),
}
GOLD = ("gold", "english", "unanswerable")


def main(argv: list[str] | None = None) -> int:
    """Build the examples once, then cross-validate every variant."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", type=Path, required=True, help="index over ../shared/corpus")
    parser.add_argument("--model", default="multilingual-e5-small")
    parser.add_argument("--cache", type=Path, help="folder for cached vectors")
    parser.add_argument("--pairs", type=Path, help="also try the dev pairs as training data")
    args = parser.parse_args(argv)
    embedder = CachedEmbedder(load_embedder(args.model), args.cache)
    index = load_index(args.index, expected_model_id=embedder.model_id)
    gold = [(name, load_gold(ROOT / "eval" / f"{name}.jsonl")) for name in GOLD]
    builder = ExampleBuilder(index, embedder)
    builder.embedder.embed_queries(questions_to_embed(builder, gold))
    examples = build_examples(builder, gold)
    variants: list[tuple[str, Sequence[Example], tuple[str, ...]]] = [
        (name, examples, features) for name, features in FEATURE_SETS.items()]
    if args.pairs is not None:
        pairs = pair_examples(args.pairs, builder.embedder)
        variants.append(("adopted, with the dev pairs", [*examples, *pairs], MODEL_FEATURES))
    for name, data, features in variants:
        held = cross_validate(data, embedder.model_id, features)
        user = [i for i, e in enumerate(data) if e.user]
        brier = calibration.brier([held.probabilities[i] for i in user],
                                  [data[i].answerable for i in user])
        print(f"\n## {name}: {len(data)} examples, Brier (user questions) {brier:.3f}\n")
        print("| slice | recall | false refusals |\n|---|---:|---:|")
        for a in calibration.by_language_and_set(data, held.refused):
            print(f"| {a.name} | {a.recall:.3f} | {a.false_refusal:.3f} |")
        kinds = calibration.by_kind(data, held.refused)
        for kind in (PAIRS, f"{PAIRS} (leave-out)"):
            if kind in kinds:
                print(f"| {kind}: refused | {kinds[kind][1]:.3f} (n {kinds[kind][0]}) | |")
    held = cross_validate(examples, embedder.model_id, MODEL_FEATURES)
    print("\n## adopted, abstaining also when none of the top 5 hits reaches a floor\n")
    print("| floor (both languages) | nl whole index (recall / false refusals) | nl leave-out "
          "| nl small | en whole index | en leave-out | en small |\n|---|---|---|---|---|---|---|")
    for floor in (0.0, 0.05, 0.1, 0.15, 0.2):
        refused = [r or max((hp for hp, _ in hits[:5]), default=0.0) < floor
                   for r, hits in zip(held.refused, held.hits, strict=True)]
        cells = [f"{a.recall:.3f} / {a.false_refusal:.3f}"
                 for a in calibration.by_language_and_set(examples, refused)]
        print(f"| {floor:.2f} | " + " | ".join(cells) + " |")
    p = np.array(held.probabilities)
    english = [i for i, e in enumerate(examples) if e.user and e.language is Language.EN
               and e.view in ("full", "leave-out")]
    answerable = p[[i for i in english if examples[i].answerable]]
    unanswerable = p[[i for i in english if not examples[i].answerable]]
    print("\nEnglish, whole index and leave-out, ideal cut on held-out probabilities:")
    for share in (0.05, 0.10, 0.20):
        cut = np.quantile(answerable, share)
        print(f"  {share:.0%} false refusals: recall {(unanswerable < cut).mean():.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
