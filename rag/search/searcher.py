"""The one search path: a question in, an `Answer` out, for `rag ask`, the chat and `rag eval`.

`Searcher.ask` cleans the question, embeds it, scores every passage (dense, BM25 or both
fused), applies the filters, keeps the best numbered answers (the parts of one split answer
become one hit) and decides whether anything is relevant enough. Evaluation calls the very
same method, so it measures exactly what users get.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable

import numpy as np
from threadpoolctl import threadpool_limits

from rag.config import Settings
from rag.errors import QueryError
from rag.models.embed import Embedder, load_embedder
from rag.models.registry import model_spec
from rag.search.filters import Filter
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
from rag.store.index import Index, load_index
from rag.store.lexical import LEXICAL_DIR, LexicalIndex, build_lexical, load_lexical
from rag.types import Answer, Chunk, Hit, UnitKey

MAX_K = 100  # the evaluation ranks 100 answers deep; people ask for at most 50
_QUERY_CACHE = 256  # recent question vectors kept: the same question with other filters


class Searcher:
    """An index with its embedder and BM25 index, loaded once and asked many times.

    ``retriever`` is the default ranking (hybrid); ``min_score`` the abstention threshold on
    the best dense cosine (None: never abstain).
    """

    def __init__(self, index: Index, embedder: Embedder, min_score: float | None = None,
                 lexical: LexicalIndex | None = None,
                 retriever: Retriever = Retriever.HYBRID,
                 fusion: FusionSettings = DEFAULT_FUSION) -> None:
        self.index = index
        self.embedder = embedder
        self.min_score = min_score
        self.lexical = lexical if lexical is not None else lexical_for(index)
        self.retriever = retriever
        self.fusion = fusion
        self._vectors: np.ndarray | None = None
        self._doc_of_row: np.ndarray | None = None
        self._parts = _split_answers(index.chunks)
        self._query_vectors: OrderedDict[str, np.ndarray] = OrderedDict()

    def ask(self, question: object, k: int = 5, where: Filter | None = None,
            retriever: Retriever | str | None = None) -> Answer:
        """The ``k`` best numbered answers for a question, among documents passing ``where``.

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
        # One BLAS thread for a matrix-vector product: idle BLAS threads spin for a while
        # after it and steal the CPU the model needs for the next question (2 cores).
        with threadpool_limits(limits=1, user_api="blas"):
            dense = dense_scores(self._all_vectors(), self._query_vector(text))
        lexical = self.lexical.scores(text) if chosen is not Retriever.DENSE else None
        filtered = where is not None and where.active
        keep = self._rows_passing(where) if where is not None and filtered else None
        ranked = self._best_answers(combine(chosen, dense, lexical, self.fusion), k, keep)
        hits = tuple(self._hit(rank, row, score)
                     for rank, (row, score) in enumerate(ranked, start=1))
        signal = confidence(dense, keep)
        abstained = bool(self.min_score is not None and (not hits or signal < self.min_score))
        return Answer(text, hits, abstained, signal, filtered)

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

    def _hit(self, rank: int, row: int, score: float) -> Hit:
        chunk = self.index.chunks[row]
        return Hit(rank, score, chunk, self.index.documents[chunk.doc_id],
                   tuple(self._parts.get(chunk.unit, ())))

    def embed_ahead(self, questions: list[str]) -> None:
        """Embed many questions in one model call, so that asking them next finds their
        vectors ready (an evaluation asks hundreds); unsearchable ones are left out."""
        texts = []
        for question in questions:
            try:
                texts.append(clean_question(question))
            except QueryError:
                continue
        texts = [t for t in dict.fromkeys(texts) if t not in self._query_vectors]
        if texts:
            for text, vector in zip(texts, self.embedder.embed_queries(texts), strict=True):
                self._remember(text, vector)

    def _query_vector(self, text: str) -> np.ndarray:
        vector = self._query_vectors.get(text)
        if vector is None:
            vector = self.embedder.embed_queries([text])[0]
        self._remember(text, vector)
        return vector

    def _remember(self, text: str, vector: np.ndarray) -> None:
        self._query_vectors[text] = vector
        self._query_vectors.move_to_end(text)
        if len(self._query_vectors) > _QUERY_CACHE:
            self._query_vectors.popitem(last=False)

    def _rows_passing(self, where: Filter) -> np.ndarray:
        """Mask of the chunk rows whose document passes ``where``: the filter runs once per
        document, not once per chunk (300k chunks, a few thousand documents)."""
        if self._doc_of_row is None:
            position = {doc_id: i for i, doc_id in enumerate(self.index.documents)}
            self._doc_of_row = np.array([position[c.doc_id] for c in self.index.chunks],
                                        dtype=np.int64)
        passing = np.array([where.matches(doc) for doc in self.index.documents.values()],
                           dtype=bool)
        return passing[self._doc_of_row]

    def _all_vectors(self) -> np.ndarray:
        if self._vectors is None:
            # A view is safe here: this Searcher keeps its Index, and so FAISS's storage, alive.
            self._vectors = (self.index.vectors_view() if self.index.chunks
                             else np.zeros((0, 1), dtype=np.float32))
        return self._vectors


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
    The threshold is ``settings.min_score``, else the model's calibrated one.
    """
    if embedder is None:
        embedder = load_embedder(settings.model, batch_size=settings.batch_size, notify=notify)
    # The embedder is lazy: a missing or mismatched index fails here before any model load.
    index = load_index(settings.index_dir, expected_model_id=embedder.model_id)
    min_score = (settings.min_score if settings.min_score is not None
                 else model_spec(settings.model).min_score)
    return Searcher(index, embedder, min_score=min_score)
