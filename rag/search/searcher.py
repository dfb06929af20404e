"""The one search path: a question in, an `Answer` out, for `rag ask`, the chat and `rag eval`.

`Searcher.ask` cleans the question, embeds it, scores every passage (dense, BM25 or both
fused), applies the filters, keeps the best numbered answers (the parts of one split answer
become one hit) and decides whether anything is relevant enough. Evaluation calls the very
same method, so it measures exactly what users get.
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
from threadpoolctl import ThreadpoolController

from rag.config import Settings
from rag.errors import QueryError
from rag.models.embed import Embedder, load_embedder
from rag.models.registry import model_spec
from rag.search.candidates import candidate_dense
from rag.search.filters import Filter
from rag.search.judge import Judgement, evidence, fusion_for, judge, relevance_for
from rag.search.language import detect_language
from rag.search.query import clean_question
from rag.search.rank import (
    DEFAULT_FUSION,
    FusionSettings,
    Retriever,
    combine,
    confidence,
    dense_scores,
    top_rows,
)
from rag.search.relevance import Evidence, RelevanceModel
from rag.store.coarse import load_coarse
from rag.store.index import Index, load_index
from rag.store.lexical import LEXICAL_DIR, LexicalIndex, build_lexical, load_lexical
from rag.types import Answer, Chunk, Hit, Language, UnitKey

MAX_K = 100  # the evaluation ranks 100 answers deep; people ask for at most 50
@functools.cache
def _blas() -> ThreadpoolController:
    """The process's BLAS libraries, found once: `threadpool_limits` looks them up again at
    every use (1.7 ms a question)."""
    return ThreadpoolController()


_QUERY_CACHE = 256  # recent question vectors kept: the same question with other filters
_TOKEN_CACHE = 10_000  # passages whose stemmed words are kept for the relevance features


@dataclass(frozen=True)
class Ranking:
    """One question's scores over the index and its best rows (one per numbered answer)."""

    question: str  # as cleaned
    language: Language
    dense: np.ndarray
    lexical: np.ndarray | None
    keep: np.ndarray | None  # the rows the filters let through (None: all)
    rows: list[tuple[int, float]]


class Searcher:
    """An index with its embedder and BM25 index, loaded once and asked many times.

    ``retriever`` is the default ranking (hybrid, fused per question language: for a question
    that is not Dutch the BM25 part is weighted out, `rag.search.judge.fusion_for`; or as
    ``fusions`` says). ``relevance`` judges every hit
    and decides abstention; ``min_score``, when given, decides abstention instead by the
    best dense cosine. Neither: never abstain. An index with a coarse index (large ones,
    `rag.store.coarse`) is searched through candidates unless ``exact``.
    """

    def __init__(self, index: Index, embedder: Embedder, min_score: float | None = None,
                 lexical: LexicalIndex | None = None,
                 retriever: Retriever = Retriever.HYBRID,
                 fusion: FusionSettings = DEFAULT_FUSION,
                 relevance: RelevanceModel | None = None,
                 fusions: Mapping[Language, FusionSettings] | None = None,
                 exact: bool = False) -> None:
        self.index = index
        self.embedder = embedder
        self.min_score = min_score
        self.relevance = relevance
        self.lexical = lexical if lexical is not None else lexical_for(index)
        self.retriever = retriever
        self.fusions = fusions or {lang: fusion_for(lang, fusion) for lang in Language}
        # Worked out here, not on first use: many chat sessions ask one searcher at once.
        # A view is safe: this Searcher keeps its Index, and so FAISS's storage, alive.
        self._vectors = (index.vectors_view() if index.chunks
                         else np.zeros((0, 1), dtype=np.float32))
        # Large indexes only: candidates instead of every passage (rag.store.coarse).
        # ``exact`` scores every passage anyway: the reference candidates are measured by.
        self._coarse = None if exact else load_coarse(index.generation, len(index.chunks))
        position = {doc_id: i for i, doc_id in enumerate(index.documents)}
        self._doc_of_row = np.array([position[c.doc_id] for c in index.chunks], dtype=np.int64)
        self._parts = _split_answers(index.chunks)
        self._query_vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_lock = threading.Lock()
        self._tokens: dict[int, set[str]] = {}

    @property
    def uses_candidates(self) -> bool:
        """Whether questions score candidates (a large index's coarse index), not all rows."""
        return self._coarse is not None

    def rank(self, question: object, k: int = 5, where: Filter | None = None,
             retriever: Retriever | str | None = None) -> Ranking:
        """Score every passage for a question and keep the ``k`` best numbered answers: the
        ranking `ask` answers from, and the one the relevance model is trained on.

        ``retriever`` overrides the searcher's default (``bm25``, ``dense`` or ``hybrid``).
        A question that cannot be searched raises `QueryError` with a polite reason.
        """
        text = clean_question(question)
        if not 1 <= k <= MAX_K:
            raise QueryError(f"k must be between 1 and {MAX_K}")
        try:
            chosen = Retriever(retriever) if retriever is not None else self.retriever
        except ValueError:
            raise QueryError(f"unknown retriever {retriever!r}: use one of "
                             f"{', '.join(r.value for r in Retriever)}") from None
        language = detect_language(text)
        filtered = where is not None and where.active
        keep = self._rows_passing(where) if where is not None and filtered else None
        vector = self._query_vector(text)
        needs_lexical = (chosen is not Retriever.DENSE or self.relevance is not None
                         or self._coarse is not None)
        lexical = self.lexical.scores(text) if needs_lexical else None
        # One BLAS thread for a matrix-vector product: idle BLAS threads spin for a while
        # after it and steal the CPU the model needs for the next question (2 cores).
        with _blas().limit(limits=1, user_api="blas"):
            dense = (dense_scores(self._vectors, vector) if self._coarse is None
                     else candidate_dense(self._vectors, self._coarse, vector, lexical, keep))
        fusion = self.fusions[language]
        rows = self._best_answers(combine(chosen, dense, lexical, fusion), k, keep)
        return Ranking(text, language, dense, lexical, keep, rows)

    def ask(self, question: object, k: int = 5, where: Filter | None = None,
            retriever: Retriever | str | None = None) -> Answer:
        """The ``k`` best numbered answers for a question, among documents passing ``where``,
        each judged by the relevance model, and whether to say "nothing found" instead.

        Abstention: below ``min_score`` on the best dense cosine when that is set (models
        without a relevance model, or ``--min-score``), else by the relevance model.
        """
        ranking = self.rank(question, k, where, retriever)
        judged = self._judge(ranking)
        hits = tuple(self._hit(n, row, score, judged.probabilities[n - 1] if judged else None)
                     for n, (row, score) in enumerate(ranking.rows, start=1))
        cosine = confidence(ranking.dense, ranking.keep)
        if self.min_score is not None:
            abstained, signal = not hits or cosine < self.min_score, cosine
        elif judged is not None:
            abstained, signal = judged.abstain, judged.confidence
        else:
            abstained, signal = False, cosine
        return Answer(ranking.question, hits, bool(abstained), signal,
                      ranking.keep is not None, ranking.language)

    def evidence(self, ranking: Ranking) -> Evidence:
        """What the relevance features of a ranking's hits are computed from."""
        lexical = (ranking.lexical if ranking.lexical is not None
                   else self.lexical.scores(ranking.question))
        return evidence(self.lexical, ranking.question, ranking.dense, lexical,
                        self._doc_of_row, ranking.keep)

    def passage_tokens(self, row: int) -> set[str]:
        """A passage's stemmed words as BM25 sees them (kept for the passages judged)."""
        tokens = self._tokens.get(row)
        if tokens is None:
            if len(self._tokens) > _TOKEN_CACHE:
                self._tokens.clear()
            chunk = self.index.chunks[row]
            tokens = set(self.lexical.tokenize(chunk.passage(self.index.manifest.chunking)))
            self._tokens[row] = tokens
        return tokens

    def _judge(self, ranking: Ranking) -> Judgement | None:
        if self.relevance is None or not len(ranking.dense):
            return None
        return judge(self.relevance, self.evidence(ranking), [r for r, _ in ranking.rows],
                     ranking.language, self.passage_tokens)

    def _best_answers(self, scores: np.ndarray, k: int,
                      keep: np.ndarray | None) -> list[tuple[int, float]]:
        """The ``k`` best rows, one per numbered answer (its best-scoring part)."""
        want = k
        while True:
            rows = top_rows(scores, want, keep)
            seen: set[UnitKey] = set()
            best = []
            for row, score in rows:
                unit = self.index.chunks[row].unit
                if unit not in seen:
                    seen.add(unit)
                    best.append((row, score))
            if len(best) >= k or len(rows) < want:
                return best[:k]
            want *= 2  # parts of split answers took places: look deeper

    def _hit(self, rank: int, row: int, score: float, relevance: float | None) -> Hit:
        chunk = self.index.chunks[row]
        return Hit(rank, score, chunk, self.index.documents[chunk.doc_id],
                   tuple(self._parts.get(chunk.unit, ())), relevance)

    def embed_ahead(self, questions: list[str]) -> None:
        """Embed many questions in one model call, so that asking them next finds their
        vectors ready (an evaluation asks hundreds); unsearchable ones are left out."""
        texts = []
        for question in questions:
            try:
                texts.append(clean_question(question))
            except QueryError:
                continue
        with self._cache_lock:
            texts = [t for t in dict.fromkeys(texts) if t not in self._query_vectors]
        if texts:
            for text, vector in zip(texts, self.embedder.embed_queries(texts), strict=True):
                self._remember(text, vector)

    def _query_vector(self, text: str) -> np.ndarray:
        with self._cache_lock:
            vector = self._query_vectors.get(text)
        if vector is None:
            vector = self.embedder.embed_queries([text])[0]
        self._remember(text, vector)
        return vector

    def _remember(self, text: str, vector: np.ndarray) -> None:
        with self._cache_lock:
            self._query_vectors[text] = vector
            self._query_vectors.move_to_end(text)
            if len(self._query_vectors) > _QUERY_CACHE:
                self._query_vectors.popitem(last=False)

    def _rows_passing(self, where: Filter) -> np.ndarray:
        """Mask of the chunk rows whose document passes ``where``: the filter runs once per
        document, not once per chunk (300k chunks, a few thousand documents)."""
        passing = np.array([where.matches(doc) for doc in self.index.documents.values()],
                           dtype=bool)
        return passing[self._doc_of_row]


def _split_answers(chunks: list[Chunk]) -> dict[UnitKey, list[Chunk]]:
    """The parts of every split answer, in order; built once per index so that a hit's whole
    answer does not scan every chunk (300k in a large index)."""
    parts: dict[UnitKey, list[Chunk]] = {}
    for chunk in chunks:
        if chunk.n_parts > 1:
            parts.setdefault(chunk.unit, []).append(chunk)
    for group in parts.values():
        group.sort(key=lambda c: c.part)
    return parts


def lexical_for(index: Index) -> LexicalIndex:
    """The BM25 index stored with ``index``; rebuilt in memory for an index without one."""
    folder = index.generation / LEXICAL_DIR if index.generation else None
    if folder is not None and folder.is_dir():
        return load_lexical(folder)
    return build_lexical([c.passage(index.manifest.chunking) for c in index.chunks])


def open_searcher(settings: Settings, notify: Callable[[str], None] | None = None,
                  embedder: Embedder | None = None) -> Searcher:
    """Load the index and the model it was built with; refuse a model mismatch.

    ``embedder`` reuses one already made (and perhaps loaded) for ``settings.model``.
    Abstention: by the cosine threshold ``settings.min_score`` when one is given; else by
    the relevance model trained for the model (`rag.search.judge.relevance_for`); else by
    the model's calibrated cosine threshold, if it has one.
    """
    if embedder is None:
        embedder = load_embedder(settings.model, batch_size=settings.batch_size, notify=notify)
    # The embedder is lazy: a missing or mismatched index fails here before any model load.
    index = load_index(settings.index_dir, expected_model_id=embedder.model_id)
    spec = model_spec(settings.model)
    relevance = relevance_for(spec, index.manifest.model_id)
    min_score = settings.min_score
    if min_score is None and relevance is None:
        min_score = spec.min_score
    return Searcher(index, embedder, min_score=min_score, relevance=relevance)
