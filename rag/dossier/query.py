"""How a vraag is searched with its set's context: four ways, all through `Searcher.ask`.

A vraag is often short and leans on its set ("Wat is uw reactie op dit bericht?"); the set's
subject and the news item it refers to say what it is about. The ways to use them:

- ``none``: the vraag alone;
- ``append``: the vraag followed by the context, as one query;
- ``fused``: both queries asked, their rankings fused by reciprocal rank (k = 60);
- ``rerank`` (the default): the vraag alone finds the passages, and the context query's
  ranking of *documents* reorders them: a passage scores ``1/(60 + its rank for the vraag)
  + 4/(60 + its document's rank for the vraag with context)``. The context says which
  earlier sets are about the same subject; the vraag's own words say which of their
  answers fits.

Measured with `rag dossier-eval` on the answer documents of ../shared/corpus, answers only
as passages, documents split in halves (eval/README.md): appending the context finds the
right document more often but the right vraag less often; reranking was the only way that
improved both on the tuning half (weight 4 chosen there from 0.5–6), and on the held-out
half it raised vraag R@1 0.522 -> 0.534 and document R@1 0.870 -> 0.910.
"""

from __future__ import annotations

from dataclasses import replace
from enum import StrEnum

from rag.search.filters import Filter
from rag.search.query import MAX_QUESTION_CHARS
from rag.search.searcher import MAX_K, Searcher
from rag.types import Answer, Hit, UnitKey


class ContextMode(StrEnum):
    """How the set's context enters the search for one vraag."""

    NONE = "none"
    APPEND = "append"
    FUSED = "fused"
    RERANK = "rerank"


DEFAULT_MODE = ContextMode.RERANK
RRF_K = 60.0
DOCUMENT_WEIGHT = 4.0  # rerank: weight of the context query's document ranking
_SEPARATOR = " — "


def with_context(vraag: str, context: str) -> str:
    """The vraag followed by the context, cut at a word so the whole stays searchable
    (the searcher takes at most 2,000 characters); the context is kept whole."""
    vraag, context = " ".join(vraag.split()), " ".join(context.split())
    if not context:
        return plain(vraag)
    room = MAX_QUESTION_CHARS - len(context) - len(_SEPARATOR)
    if room < 40:  # an absurdly long context: the vraag goes first, the context is cut
        return f"{vraag}{_SEPARATOR}{context}"[:MAX_QUESTION_CHARS].rsplit(" ", 1)[0]
    if len(vraag) > room:
        vraag = vraag[:room].rsplit(" ", 1)[0]
    return f"{vraag}{_SEPARATOR}{context}"


def plain(vraag: str) -> str:
    """The vraag alone, cut at a word to what the searcher takes."""
    vraag = " ".join(vraag.split())
    return vraag if len(vraag) <= MAX_QUESTION_CHARS else (
        vraag[:MAX_QUESTION_CHARS].rsplit(" ", 1)[0])


def queries(vraag: str, context: str, mode: ContextMode) -> list[str]:
    """The query texts ``mode`` asks (to embed them ahead in one model call)."""
    if mode is ContextMode.NONE:
        return [plain(vraag)]
    if mode is ContextMode.APPEND:
        return [with_context(vraag, context)]
    return [plain(vraag), with_context(vraag, context)]


def depth_for(k: int, mode: ContextMode) -> int:
    """How deep each search goes for ``k`` combined answers (combining needs room)."""
    return k if mode in (ContextMode.NONE, ContextMode.APPEND) else min(MAX_K, max(4 * k, 40))


def search_each(searcher: Searcher, vraag: str, context: str, depth: int,
                mode: ContextMode = DEFAULT_MODE, where: Filter | None = None) -> list[Answer]:
    """Every search ``mode`` makes for one vraag, ``depth`` answers deep; each answer's
    ``question`` is the vraag's own text (quotes are chosen for it)."""
    return [replace(searcher.ask(text, k=depth, where=where), question=plain(vraag))
            for text in queries(vraag, context, mode)]


def search_vraag(searcher: Searcher, vraag: str, context: str, k: int,
                 mode: ContextMode = DEFAULT_MODE, where: Filter | None = None) -> Answer:
    """The ``k`` best earlier answers for one vraag of a set, ranked as ``mode`` says."""
    return combine(search_each(searcher, vraag, context, depth_for(k, mode), mode, where),
                   mode, k)


def combine(answers: list[Answer], mode: ContextMode, k: int) -> Answer:
    """One ranking of ``k`` answers from the searches of `search_each`.

    Nothing counts as found only when every search abstained; a hit's ``relevance`` is the
    best estimate any search gave it.
    """
    if len(answers) == 1:
        return replace(answers[0], hits=answers[0].hits[:k])
    scores: dict[UnitKey, float] = {}
    if mode is ContextMode.RERANK:
        found, context = answers
        documents = list(dict.fromkeys(h.doc.doc_id for h in context.hits))
        doc_rank = {doc_id: r for r, doc_id in enumerate(documents, start=1)}
        for hit in found.hits:
            prior = doc_rank.get(hit.doc.doc_id)
            scores[hit.chunk.unit] = 1.0 / (RRF_K + hit.rank) + (
                DOCUMENT_WEIGHT / (RRF_K + prior) if prior else 0.0)
    else:
        for answer in answers:
            for hit in answer.hits:
                unit = hit.chunk.unit
                scores[unit] = scores.get(unit, 0.0) + 1.0 / (RRF_K + hit.rank)
    first: dict[UnitKey, Hit] = {}
    relevance: dict[UnitKey, float] = {}
    for answer in answers:
        for hit in answer.hits:
            first.setdefault(hit.chunk.unit, hit)
            if hit.relevance is not None:
                relevance[hit.chunk.unit] = max(relevance.get(hit.chunk.unit, 0.0),
                                                hit.relevance)
    order = sorted(scores, key=lambda u: -scores[u])[:k]  # stable: ties keep found order
    hits = tuple(replace(first[u], rank=i, score=scores[u], relevance=relevance.get(u))
                 for i, u in enumerate(order, start=1))
    confidences = [a.confidence for a in answers if a.confidence is not None]
    return Answer(answers[0].question, hits, abstained=all(a.abstained for a in answers),
                  confidence=max(confidences) if confidences else None,
                  filtered=any(a.filtered for a in answers))
