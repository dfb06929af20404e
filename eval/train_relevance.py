r"""Train the relevance model behind "nothing found" and the relevance labels, and check it.

    rag build --corpus ../shared/corpus --index index-shared
    python eval/train_relevance.py --index index-shared --out rag/data/relevance.json \
        --cache /tmp/vraagbaak-vectors
    rag build --corpus ../shared/corpus --index index-int8 --model multilingual-e5-small-int8
    python eval/train_relevance.py --index index-int8 --model multilingual-e5-small-int8 \
        --out rag/data/relevance-int8.json --cache /tmp/vraagbaak-vectors-int8

Examples are the gold questions (eval/gold.jsonl, english.jsonl, unanswerable.jsonl) and
every parsed question (self-retrieval), searched over the whole index, over the index
without the question's own document (unanswerable but on topic) and over small indexes of
one to thirty documents (see rag/evaluation/trustdata.py), each through `Searcher.rank`, the
ranking `rag ask` answers from (other features and the dev pairs as more training data
were measured with eval/trust_features.py and left out; eval/README.md). The script prints
abstention and calibration in-sample and held-out (5-fold cross-validation by document)
side by side and writes the model file; the same index and gold files give a
byte-identical file. ``--cache DIR`` keeps question vectors between runs.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rag.evaluation import calibration  # noqa: E402
from rag.evaluation.embedcache import CachedEmbedder  # noqa: E402
from rag.evaluation.gold import load_gold  # noqa: E402
from rag.evaluation.relevance_fit import FOLDS, cross_validate, fit_model, predict  # noqa: E402
from rag.evaluation.trustdata import (  # noqa: E402
    ExampleBuilder,
    build_examples,
    questions_to_embed,
)
from rag.models.embed import load_embedder  # noqa: E402
from rag.models.registry import DEFAULT_MODEL  # noqa: E402
from rag.search.relevance import question_key  # noqa: E402
from rag.store.index import load_index  # noqa: E402
from rag.types import RELEVANCE_BANDS, relevance_band  # noqa: E402

DEFAULT_GOLD = ("eval/gold.jsonl", "eval/english.jsonl", "eval/unanswerable.jsonl")


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, train, print the figures, write the model."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", type=Path, required=True, help="index over ../shared/corpus")
    parser.add_argument("--out", type=Path, default=ROOT / "rag" / "data" / "relevance.json")
    parser.add_argument("--gold", action="append", help="gold file (repeatable); default: "
                        + ", ".join(DEFAULT_GOLD))
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--cache", type=Path, help="folder for cached question vectors")
    parser.add_argument("--folds", type=int, default=FOLDS)
    parser.add_argument("--report", type=Path, help="also write the tables to this Markdown file")
    args = parser.parse_args(argv)

    embedder = CachedEmbedder(load_embedder(args.model), args.cache)
    index = load_index(args.index, expected_model_id=embedder.model_id)
    gold_files = [Path(g) for g in (args.gold or DEFAULT_GOLD)]
    gold_sets = [(p.stem, load_gold(p if p.is_absolute() else ROOT / p)) for p in gold_files]
    builder = ExampleBuilder(index, embedder)
    texts = questions_to_embed(builder, gold_sets)
    print(f"Embedding {len(texts)} questions …", file=sys.stderr)
    builder.embedder.embed_queries(texts)  # every question once, in one batch
    examples = build_examples(builder, gold_sets)
    print(f"{len(examples)} examples over {len(builder.doc_ids)} documents", file=sys.stderr)

    command = (f"python eval/train_relevance.py --index INDEX --out {_rel(args.out)}"
               + (f" --model {args.model}" if args.model != DEFAULT_MODEL else "")
               + "".join(f" --gold {g}" for g in (args.gold or [])))
    trained_questions = tuple(sorted({question_key(q.question) for _, qs in gold_sets
                                      for q in qs}))
    trained_with = (f"{command}; INDEX = rag build --corpus ../shared/corpus (corpus hash "
                    f"{index.manifest.corpus_hash[:16]}); gold: "
                    + ", ".join(str(g) for g in gold_files))
    model = replace(fit_model(examples, embedder.model_id, folds=args.folds,
                              trained_with=trained_with), trained_questions=trained_questions)
    inside = predict(model, examples)
    held_out = cross_validate(examples, embedder.model_id, folds=args.folds)

    report = side_by_side(examples, inside, held_out)
    la = calibration.label_table(examples, inside.hits, relevance_band)
    lb = calibration.label_table(examples, held_out.hits, relevance_band)
    report += ("\n| label (top 5 hits, user questions) | hits in / held-out | share that answer "
               "in / held-out |\n|---|---:|---:|\n")
    for k, _ in RELEVANCE_BANDS:
        a, b = la.get(k, (0, float("nan"))), lb.get(k, (0, float("nan")))
        report += f"| {k} | {a[0]} / {b[0]} | {_f(a[1])} / {_f(b[1])} |\n"
    report += "\n" + calibration.markdown(examples, held_out.probabilities, held_out.refused,
                                          f"Held-out ({args.folds}-fold by document) in full")
    print(report)
    thresholds = ", ".join(f"{lang.value} {m.threshold:.3f}" for lang, m in model.languages.items())
    print(f"Thresholds: {thresholds}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(model.to_json(), indent=2, ensure_ascii=False) + "\n",
                        encoding="utf-8")
    print(f"Written: {args.out}")
    if args.report is not None:
        args.report.write_text(report, encoding="utf-8")
    return 0


def side_by_side(examples, inside, held_out) -> str:  # type: ignore[no-untyped-def]
    """In-sample and held-out abstention per language and set, and refusals per kind."""
    a = calibration.by_language_and_set(examples, inside.refused)
    b = calibration.by_language_and_set(examples, held_out.refused)
    lines = ["| slice | answerable | unanswerable | recall in / held-out | false refusals "
             "in / held-out | precision in / held-out |", "|---|---:|---:|---:|---:|---:|"]
    for x, y in zip(a, b, strict=True):
        lines.append(f"| {x.name} | {x.n_answerable} | {x.n_unanswerable} | "
                     f"{_f(x.recall)} / {_f(y.recall)} | {_f(x.false_refusal)} / "
                     f"{_f(y.false_refusal)} | {_f(x.precision)} / {_f(y.precision)} |")
    ka = calibration.by_kind(examples, inside.refused)
    kb = calibration.by_kind(examples, held_out.refused)
    lines += ["", "| kind (full index and leave-out) | n | refused in / held-out |",
              "|---|---:|---:|"]
    lines += [f"| {k} | {n} | {_f(s)} / {_f(kb[k][1])} |" for k, (n, s) in ka.items()]
    user = [i for i, e in enumerate(examples) if e.user]
    truth = [examples[i].answerable for i in user]
    lines += ["", "Brier score, user questions: in-sample "
              f"{_f(calibration.brier([inside.probabilities[i] for i in user], truth))}, "
              f"held-out {_f(calibration.brier([held_out.probabilities[i] for i in user], truth))}"]
    return "\n".join(lines) + "\n"


def _f(value: float) -> str:
    return "–" if value != value else f"{value:.3f}"


def _rel(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


if __name__ == "__main__":
    raise SystemExit(main())
