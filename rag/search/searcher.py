"""Asking: validate the question, embed it, retrieve, and shape the answer for people or tools.

The CLI and the chat both call `Searcher.ask`, so they can never disagree about an answer.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from rag.config import CALIBRATED_MIN_SCORE, Settings
from rag.models.embed import Embedder, load_embedder
from rag.errors import QueryError
from rag.search.filters import Filter
from rag.store.index import Index, load_index
from rag.store.lexical import LEXICAL_DIR, LexicalIndex, build_lexical, load_lexical
from rag.search.rank import (
    DEFAULT_FUSION,
    FusionSettings,
    Hit,
    Retriever,
    combine,
    confidence,
    dense_scores,
    to_hits,
    top_rows,
)

MAX_QUESTION_CHARS = 2000  # a Kamervraag is rarely longer; beyond this it is a paste accident
MAX_K = 50


@dataclass(frozen=True)
class Answer:
    """The question as searched and its hits, best first.

    ``abstained`` is true when even the best passage is too far from the question (its
    dense cosine is below the calibrated threshold, see `rag.config.CALIBRATED_MIN_SCORE`):
    the honest reply is then "no earlier answer found", not weak passages.
    """

    question: str
    hits: tuple[Hit, ...]
    abstained: bool = False


def clean_question(text: str) -> str:
    """Normalise a question, or raise `QueryError` with a polite reason."""
    if not isinstance(text, str):
        raise QueryError("Stel een vraag in tekst.")
    text = unicodedata.normalize("NFC", text).strip()
    if not text:
        raise QueryError("De vraag is leeg: typ een vraag, bijvoorbeeld "
                         "'Wat zei de minister over AI in het mkb?'")
    if len(text) > MAX_QUESTION_CHARS:
        raise QueryError(f"De vraag is te lang ({len(text)} tekens); houd het onder "
                         f"{MAX_QUESTION_CHARS} tekens.")
    controls = sum(1 for c in text if unicodedata.category(c) in ("Cc", "Cs", "Co", "Cn")
                   and c not in "\n\t\r")
    letters = sum(1 for c in text if c.isalnum())
    if controls or letters == 0:
        raise QueryError("De vraag bevat geen leesbare tekst.")
    return " ".join(text.split())


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

    def ask(self, question: str, k: int = 5, where: Filter | None = None,
            retriever: Retriever | str | None = None) -> Answer:
        """The ``k`` best passages for a question, among documents passing ``where``.

        ``retriever`` overrides the searcher's default (``bm25``, ``dense`` or ``hybrid``).
        """
        question = clean_question(question)
        if not 1 <= k <= MAX_K:
            raise QueryError(f"k must be between 1 and {MAX_K}")
        try:
            chosen = Retriever(retriever) if retriever is not None else self.retriever
        except ValueError:
            raise QueryError(f"unknown retriever {retriever!r}: use one of "
                             f"{', '.join(r.value for r in Retriever)}") from None
        query_vector = self.embedder.embed_queries([question])[0]
        # One BLAS thread for a matrix-vector product: idle BLAS threads spin for a while
        # after it and steal the CPU the model needs for the next question (2 cores).
        with threadpool_limits(limits=1, user_api="blas"):
            dense = dense_scores(self._all_vectors(), query_vector)
        lexical = self.lexical.scores(question) if chosen is not Retriever.DENSE else None
        keep = self._rows_passing(where) if where is not None and where.active else None
        ranked = top_rows(combine(chosen, dense, lexical, self.fusion), k, keep)
        hits = tuple(to_hits(self.index, ranked))
        abstained = bool(self.min_score is not None and (
            not hits or confidence(dense, keep) < self.min_score))
        return Answer(question, hits, abstained)

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
                 else CALIBRATED_MIN_SCORE.get(settings.model))
    return Searcher(index, embedder, min_score=min_score)


def answer_to_json(answer: Answer) -> dict[str, Any]:
    """The documented machine-readable form of an answer (field names are a contract)."""
    return {
        "question": answer.question,
        "hits": [
            {
                "rank": hit.rank,
                "score": round(hit.score, 6),
                "doc_id": hit.chunk.doc_id,
                "vraag": list(hit.chunk.vraag),
                "citation": hit.citation,
                "quote": hit.chunk.answer,
                "source": hit.doc.source,
            }
            for hit in answer.hits
        ],
    }
