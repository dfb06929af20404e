"""Compare feature sets of the relevance model held out (5-fold cross-validation by document).

    python eval/trust_features.py --index index-shared --cache /tmp/vraagbaak-vectors

Prints, per feature set, abstention per language and slice and the Brier score, each from
models fitted without the held-out fold (thresholds included).
"""
import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from rag.evaluation import calibration
from rag.evaluation.embedcache import CachedEmbedder
from rag.evaluation.gold import load_gold
from rag.evaluation.relevance_fit import MODEL_FEATURES, cross_validate
from rag.evaluation.trustdata import ExampleBuilder, build_examples, questions_to_embed
from rag.models.embed import load_embedder
from rag.store.index import load_index

parser = argparse.ArgumentParser()
parser.add_argument('--index', type=Path, required=True)
parser.add_argument('--cache', type=Path)
args = parser.parse_args()
emb = CachedEmbedder(load_embedder('multilingual-e5-small'), args.cache)
index = load_index(args.index, expected_model_id=emb.model_id)
gold = [(n, load_gold(ROOT / f'eval/{n}.jsonl')) for n in ('gold', 'english', 'unanswerable')]
b = ExampleBuilder(index, emb)
b.embedder.embed_queries(questions_to_embed(b, gold))
t = time.time()
ex = build_examples(b, gold)
print(len(ex), 'examples', time.time() - t, file=sys.stderr)
sets = {
 'base': MODEL_FEATURES,
 '+spread': MODEL_FEATURES + ('doc_spread',),
 '+gap10': MODEL_FEATURES + ('doc_gap10',),
 '+anchors': MODEL_FEATURES + ('anchor_coverage', 'anchor_known'),
 '+all': MODEL_FEATURES + ('doc_spread', 'doc_gap10', 'anchor_coverage', 'anchor_known'),
 '+spread+anchors': MODEL_FEATURES + ('doc_spread', 'anchor_coverage', 'anchor_known'),
}
for name, feats in sets.items():
    h = cross_validate(ex, emb.model_id, feats)
    rows = calibration.by_language_and_set(ex, h.refused)
    user = [i for i, e in enumerate(ex) if e.user]
    br = calibration.brier([h.probabilities[i] for i in user], [ex[i].answerable for i in user])
    print(f'## {name} brier {br:.3f}')
    for a in rows:
        print(f'  {a.name:45s} recall {a.recall:.3f} FR {a.false_refusal:.3f} (n {a.n_answerable}/{a.n_unanswerable})')
