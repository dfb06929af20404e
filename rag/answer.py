"""Asking: validate the question, embed it, retrieve, and shape the answer for people or tools.

The CLI and the chat both call `Searcher.ask`, so they can never disagree about an answer.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rag.config import Settings
from rag.embed import Embedder, load_embedder
from rag.errors import QueryError
from rag.filters import Filter
from rag.index import Index, load_index
from rag.retrieve import Hit, dense_search, to_hits

MAX_QUESTION_CHARS = 2000  # a Kamervraag is rarely longer; beyond this it is a paste accident
MAX_K = 50


@dataclass(frozen=True)
class Answer:
    """The question as searched and its hits, best first.

    ``abstained`` is true when even the best hit scores below the index's relevance
    threshold: the honest reply is then "no earlier answer found", not weak passages.
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
    """An index with its embedder, loaded once and asked many times."""

    def __init__(self, index: Index, embedder: Embedder, min_score: float | None = None) -> None:
        self.index = index
        self.embedder = embedder
        self.min_score = min_score

    def ask(self, question: str, k: int = 5, where: Filter | None = None) -> Answer:
        """The ``k`` best passages for a question, among documents passing ``where``."""
        question = clean_question(question)
        if not 1 <= k <= MAX_K:
            raise QueryError(f"k must be between 1 and {MAX_K}")
        vectors = self.embedder.embed_queries([question])
        if where is not None and where.active:
            # Filtering after search: rank everything, then keep the first k that pass.
            ranked = [(row, score) for row, score in dense_search(
                self.index, vectors, len(self.index.chunks))[0]
                if where.matches(self.index.documents[self.index.chunks[row].doc_id])][:k]
        else:
            ranked = dense_search(self.index, vectors, k)[0]
        hits = tuple(to_hits(self.index, ranked))
        abstained = bool(self.min_score is not None and (not hits or
                                                         hits[0].score < self.min_score))
        return Answer(question, hits, abstained)


def open_searcher(settings: Settings, notify: Callable[[str], None] | None = None) -> Searcher:
    """Load the index and the model it was built with; refuse a model mismatch."""
    embedder = load_embedder(settings.model, batch_size=settings.batch_size, notify=notify)
    # The embedder is lazy: a missing or mismatched index fails here before any model load.
    index = load_index(settings.index_dir, expected_model_id=embedder.model_id)
    return Searcher(index, embedder)


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
