"""Examples for training and checking the relevance model, made from the project's own data.

Every example is one question searched over one *view* of an index (all of it, or part):

- ``full``: the whole index; gold questions with an answer are answerable, the
  ``unanswerable`` ones are not;
- ``leave-out``: the index without one document, searched with the questions about that
  document: the rest of the corpus is still on the subject, so these are unanswerable but
  on topic, the hard case for "nothing found";
- ``one`` / ``n<size>``: small indexes of one or a few documents (the bundled sample is one
  document), so the model also learns how margins behave when few documents compete.

The questions are the gold sets and, optionally, every parsed question as its own query
(self-retrieval) and the dev pairs (`pair_examples`: each question over an index of the
pairs' answers, with and without its own answer). Examples keep the top hit's features and
which document the question is about (``group``), so cross-validation can keep a
document's questions together.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rag.errors import QueryError
from rag.evaluation.beir import pairs_to_beir
from rag.evaluation.embedcache import CachedEmbedder
from rag.evaluation.gold import GoldQuestion, self_retrieval_questions
from rag.models.embed import Embedder
from rag.search.query import clean_question
from rag.search.rank import Retriever
from rag.search.relevance import feature_values
from rag.search.searcher import Searcher
from rag.store.index import Index, in_memory_index
from rag.store.lexical import LexicalIndex, LexicalSettings, tokenize
from rag.types import Chunk, ChunkSettings, DocRecord, DocumentMeta, Language

USER_KINDS = ("paraphrase", "topical", "crosslingual", "unanswerable")
PAIRS = "dev-pairs"  # source and kind of the examples `pair_examples` makes
PAIR_GROUPS = 20  # leave-out views of the pairs: each leaves out the answers of a 20th
HITS_KEPT = 5  # hits per example whose features train the per-hit relevance model
SUB_SIZES = (3, 10, 30)  # documents per random small index
SUB_REPEATS = {3: 6, 10: 6, 30: 4}


@dataclass(frozen=True)
class Example:
    """One question over one view, with its top hit's features and the truth."""

    id: str
    source: str  # gold file stem or "self-retrieval"
    kind: str
    language: Language
    view: str  # "full", "leave-out", "one", "n3", "n10", "n30"
    answerable: bool  # the view holds the answer
    group: str  # the question's document (or "u:<id>"): kept in one cross-validation fold
    features: dict[str, float]  # of the top hit
    top_right: bool  # the top hit is a vraag the gold answer names
    hits: tuple[tuple[dict[str, float], bool], ...] = ()  # (features, answers) of top hits

    @property
    def user(self) -> bool:
        """Written like a user's question (not a parsed Kamervraag used as its own query)."""
        return self.kind in USER_KINDS

    @property
    def leave_out(self) -> bool:
        """An answerable question searched without its own document."""
        return self.view == "leave-out" or (self.kind != "unanswerable" and not self.answerable)


def fold_of(group: str, folds: int) -> int:
    """The cross-validation fold of a group (stable across runs and machines)."""
    return zlib.crc32(group.encode("utf-8")) % folds


@dataclass(frozen=True)
class _Question:
    gold: GoldQuestion
    source: str

    @property
    def group(self) -> str:
        return self.gold.doc_id or f"u:{self.gold.id}"


class ExampleBuilder:
    """Searches questions over views (all or part) of one index with `Searcher.rank`, the
    very ranking `rag ask` answers from; ``embedder`` gives the question vectors (a
    `rag.evaluation.embedcache.CachedEmbedder` with a folder keeps them between runs)."""

    def __init__(self, index: Index, embedder: Embedder,
                 lexical: LexicalSettings | None = None) -> None:
        self.index = index
        self.chunks = list(index.chunks)
        # One memory of question vectors for all views: a question searched over the whole
        # index, its leave-out view and a small index is embedded once.
        self.embedder = embedder if isinstance(embedder, CachedEmbedder) else (
            CachedEmbedder(embedder))
        self.vectors = index.vectors()
        self.settings = lexical or LexicalSettings()
        self.tokens = tokenize([c.passage(index.manifest.chunking) for c in self.chunks],
                               self.settings)
        docs = sorted({c.doc_id for c in self.chunks})
        position = {d: i for i, d in enumerate(docs)}
        self.doc_ids = docs
        self.doc_of_row = np.array([position[c.doc_id] for c in self.chunks], dtype=np.int64)

    def searcher_over(self, rows: np.ndarray) -> Searcher:
        """A searcher over the passages ``rows`` only (BM25 built from the stored tokens)."""
        import bm25s

        model = bm25s.BM25(k1=self.settings.k1, b=self.settings.b, method="lucene")
        model.index([self.tokens[i] for i in rows], show_progress=False)
        chunks = [self.chunks[i] for i in rows]
        documents = [self.index.documents[d] for d in dict.fromkeys(c.doc_id for c in chunks)]
        view = in_memory_index(chunks, documents, self.vectors[rows],
                               self.index.manifest.model_id, self.index.manifest.chunking)
        return Searcher(view, self.embedder, lexical=LexicalIndex(model, self.settings))

    def run(self, view: str, rows: np.ndarray, questions: Sequence[tuple[_Question, bool]]
            ) -> list[Example]:
        """Search each (question, answerable) over the view made of ``rows``."""
        if not questions:
            return []
        searcher = self.searcher_over(rows)
        out = []
        for q, answerable in questions:
            try:
                ranking = searcher.rank(q.gold.question, k=HITS_KEPT, retriever=Retriever.HYBRID)
            except QueryError:
                continue
            if not ranking.rows:
                continue
            ev = searcher.evidence(ranking)
            hits = []
            for row, _ in ranking.rows:
                chunk = searcher.index.chunks[row]
                right = (answerable and chunk.doc_id == q.gold.doc_id
                         and bool(set(chunk.vraag) & set(q.gold.vraag)))
                hits.append((feature_values(ev, row, searcher.passage_tokens(row)), right))
            out.append(Example(q.gold.id, q.source, q.gold.kind, ranking.language, view,
                               answerable, q.group, hits[0][0], hits[0][1], tuple(hits)))
        return out


def build_examples(builder: ExampleBuilder,
                   gold_sets: Sequence[tuple[str, Sequence[GoldQuestion]]],
                   self_retrieval: bool = True, small_indexes: bool = True,
                   seed: int = 11) -> list[Example]:
    """Examples over the full index, leave-document-out views and (optionally) small indexes.

    Every question is read in the language the searcher detects, as a user's would be.
    """
    questions = [_Question(q, name) for name, qs in gold_sets for q in qs]
    if self_retrieval:
        questions += [_Question(q, "self-retrieval")
                      for q in self_retrieval_questions(builder.chunks)]
    known = set(builder.doc_ids)
    questions = [q for q in questions if q.gold.doc_id is None or q.gold.doc_id in known]
    every = np.arange(len(builder.chunks))
    out = builder.run("full", every, [(q, q.gold.answerable) for q in questions])
    by_doc: dict[str, list[_Question]] = {}
    for q in questions:
        if q.gold.doc_id is not None:
            by_doc.setdefault(q.gold.doc_id, []).append(q)
    for doc, qs in sorted(by_doc.items()):
        rows = np.flatnonzero(builder.doc_of_row != builder.doc_ids.index(doc))
        if len(rows):
            out += builder.run("leave-out", rows, [(q, False) for q in qs])
    if small_indexes:
        out += _small_index_examples(builder, questions, seed)
    return out


def questions_to_embed(builder: ExampleBuilder,
                       gold_sets: Sequence[tuple[str, Sequence[GoldQuestion]]],
                       self_retrieval: bool = True) -> list[str]:
    """Every question `build_examples` will search, as the searcher cleans it, without
    repeats (to embed them in one go)."""
    texts = [q.question for _, qs in gold_sets for q in qs]
    if self_retrieval:
        texts += [q.question for q in self_retrieval_questions(builder.chunks)]
    cleaned = []
    for text in texts:
        try:
            cleaned.append(clean_question(text))
        except QueryError:
            continue
    return list(dict.fromkeys(cleaned))


def _small_index_examples(builder: ExampleBuilder, questions: Sequence[_Question],
                          seed: int) -> list[Example]:
    """Indexes of one document (each document a user question is about) and of a few
    random documents; a sample of the other questions becomes unanswerable there."""
    rng = random.Random(seed)
    user_docs = sorted({q.gold.doc_id for q in questions
                        if q.gold.doc_id and q.source != "self-retrieval"})
    views: list[tuple[str, list[str]]] = [("one", [d]) for d in user_docs]
    for size in SUB_SIZES:
        for _ in range(SUB_REPEATS[size]):
            if size >= len(builder.doc_ids):
                continue
            anchors = rng.sample(user_docs, min(len(user_docs), max(1, size // 3)))
            rest = rng.sample([d for d in builder.doc_ids if d not in anchors], size - len(anchors))
            views.append((f"n{size}", anchors + rest))
    out = []
    for name, docs in views:
        chosen = set(docs)
        rows = np.flatnonzero(np.isin(builder.doc_of_row,
                                      [builder.doc_ids.index(d) for d in docs]))
        picked = []
        for q in questions:
            inside = q.gold.doc_id in chosen
            self_q = q.source == "self-retrieval"
            # A sample keeps the views small; the thresholds keep each kind represented.
            share = (0.15 if inside else 0.01) if self_q else (1.0 if inside else 0.15)
            if not q.gold.answerable:
                share = 0.35
            if rng.random() < share:
                picked.append((q, inside))
        out += builder.run(name, rows, picked)
    return out


def pair_examples(pairs_file: Path, embedder: Embedder, limit: int | None = None
                  ) -> list[Example]:
    """The dev pairs as examples: each question searched over an index of every pair's
    answer (and negative answer), answerable; and over the same index without its own
    answer, unanswerable but on the subject. A pair's group is its answer, so questions
    sharing an answer stay in one cross-validation fold; the leave-out views each leave out
    the answers of one of ``PAIR_GROUPS`` groups (by the same hash as the folds).

    The passages are answers only (no question text before them, unlike the corpus): the
    model learns from them how an answer that fits, and one that does not, scores.
    """
    dataset = pairs_to_beir(pairs_file, limit)
    settings = ChunkSettings()
    chunks = [Chunk(pid, pid, (1,), 1, 1, "", text) for pid, (_, text) in dataset.corpus.items()]
    vectors = embedder.embed_documents([c.passage(settings) for c in chunks])
    documents = [DocRecord(c.doc_id, c.doc_id, DocumentMeta()) for c in chunks]
    index = in_memory_index(chunks, documents, vectors, embedder.model_id, settings)
    builder = ExampleBuilder(index, embedder)
    questions = [_Question(GoldQuestion(qid, text, next(iter(dataset.qrels[qid])), (1,), PAIRS),
                           PAIRS) for qid, text in dataset.queries.items()]
    builder.embedder.embed_queries(questions_to_embed(builder, [(PAIRS, [q.gold for q in
                                                                         questions])], False))
    out = builder.run("full", np.arange(len(chunks)), [(q, True) for q in questions])
    for g in range(PAIR_GROUPS):
        mine = [q for q in questions if fold_of(q.group, PAIR_GROUPS) == g]
        gone = {q.gold.doc_id for q in mine}
        rows = np.array([i for i, c in enumerate(chunks) if c.doc_id not in gone])
        out += builder.run("leave-out", rows, [(q, False) for q in mine])
    return out
