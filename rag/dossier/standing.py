"""The standing line (staande lijn) of every vraag: the relevant earlier answers, newest first.

For each vraag of a set (`rag.dossier.questions`):

1. its own answer, when the index holds the set's answer document (`rag.dossier.align`);
   that document is left out of every vraag's search, so the dossier shows what *else* was
   said before;
2. the earlier answers the search finds for the vraag with the set's context
   (`rag.dossier.query`), cut to the relevant ones, see :func:`relevant`;
3. those answers ordered newest first (date received; undated last), each with the cabinet
   in office on that date, the best-ranked one marked, and the ones received after it
   flagged ("recenter antwoord beschikbaar": where the position may have moved on);
4. earlier questions near-identical to the vraag (`rag.dossier.text.NEAR_IDENTICAL`).

Procedural vragen ("Kunt u deze vragen afzonderlijk beantwoorden?") get no search: every
set asks them, and their earlier "answers" ("Ja.") say nothing about the subject; for the
same reason such earlier answers never enter another vraag's standing line.
"""

from __future__ import annotations

from dataclasses import replace

from rag.dossier.align import Library, own_answers
from rag.dossier.query import (
    DEFAULT_MODE,
    ContextMode,
    combine,
    depth_for,
    queries,
    search_each,
)
from rag.dossier.text import NEAR_IDENTICAL, is_procedural, similarity
from rag.government import cabinet_on
from rag.render import relevance_label
from rag.search.filters import Filter
from rag.search.searcher import Searcher
from rag.types import (
    RELEVANCE_BANDS,
    Answer,
    Dossier,
    EarlierAnswer,
    Hit,
    NearDuplicate,
    QuestionSet,
    VraagDossier,
)

DEFAULT_K = 5
MAX_K = 20
# With a calibrated relevance (`Hit.relevance`, the relevance model's probability that a hit
# answers the question): the lower bound of the "redelijk" band (`rag.types.RELEVANCE_BANDS`),
# so the dossier keeps what the chat labels "hoog" or "redelijk" and never a "laag" hit. A
# standing line wants the earlier answers on the subject, not only the one that answers the
# vraag exactly, and staff untick what they do not need.
RELEVANCE_CUT = dict(RELEVANCE_BANDS)["redelijk"]
CANDIDATE_DEPTH = 10  # hits per vraag searched for the set's own answer document
NEAR_DUPLICATE_DEPTH = 20  # hits per vraag whose questions are compared with the vraag


def relevant(answer: Answer) -> tuple[Hit, ...]:
    """The hits worth showing: nothing when the searcher abstained ("Geen eerder antwoord
    gevonden": by the relevance model, or by the best cosine for a model without one), else
    the hits whose relevance label is not "laag" (`rag.render.relevance_label`): a
    calibrated probability of at least `RELEVANCE_CUT`, or without one (``relevance``
    None) at least 30 % of the vraag's content words found in the earlier vraag and
    antwoord."""
    if answer.abstained:
        return ()
    return tuple(h for h in answer.hits if relevance_label(h, answer.question) != "laag")


def standing_line(hits: tuple[Hit, ...], vraag: str) -> tuple[EarlierAnswer, ...]:
    """Relevant hits newest first, each with its cabinet, the best-ranked one marked and the
    ones received after it flagged."""
    if not hits:
        return ()
    top = min(hits, key=lambda h: h.rank)
    top_date = top.doc.meta.date_received
    dated = sorted((h for h in hits if h.doc.meta.date_received),
                   key=lambda h: (h.doc.meta.date_received or "", -h.rank), reverse=True)
    undated = sorted((h for h in hits if not h.doc.meta.date_received), key=lambda h: h.rank)
    out = []
    for hit in [*dated, *undated]:
        day = hit.doc.meta.date_received
        sim = similarity(vraag, hit.chunk.question)
        out.append(EarlierAnswer(
            hit=hit, cabinet=cabinet_on(day), top=hit is top,
            newer_than_top=bool(day and top_date and day > top_date),
            near_duplicate=round(sim, 4) if sim >= NEAR_IDENTICAL else None))
    return tuple(out)


class DossierMaker:
    """Makes dossiers over one searcher's index (the lookups are built once)."""

    def __init__(self, searcher: Searcher, mode: ContextMode = DEFAULT_MODE) -> None:
        self.searcher = searcher
        self.mode = mode
        self.library = Library(searcher.index.documents, searcher.index.chunks)

    def make(self, qset: QuestionSet, k: int = DEFAULT_K) -> Dossier:
        """The dossier of a question set: per vraag its own answer and its standing line."""
        k = max(1, min(int(k), MAX_K))
        # One model call for every query text of the set.
        self.searcher.embed_ahead([q for v in qset.vragen
                                   for q in queries(v.text, qset.context, self.mode)])
        candidates = []
        for vraag in qset.vragen:
            found = self.searcher.ask(queries(vraag.text, "", ContextMode.NONE)[0],
                                      k=CANDIDATE_DEPTH)
            candidates += [h.doc.doc_id for h in found.hits]
        own = own_answers(qset, self.library, candidates)
        excluded = frozenset(o.doc.doc_id for o in own.values())
        where = Filter(exclude_docs=excluded) if excluded else None
        sections = []
        for i, vraag in enumerate(qset.vragen):
            if vraag.procedural:
                searched = Answer(vraag.text, ())
                sections.append(VraagDossier(vraag, own.get(i), (), (), searched))
                continue
            depth = max(k, NEAR_DUPLICATE_DEPTH)
            each = search_each(self.searcher, vraag.text, qset.context,
                               depth_for(depth, self.mode), self.mode, where)
            searched = combine(each, self.mode, depth)
            # The cut is made on each search's own scores (combined scores mean nothing
            # alone): an answer stays when it is relevant in any of the searches. Answers
            # to earlier procedural vragen ("Ja.") say nothing about the subject.
            allowed = {h.chunk.unit for answer in each for h in relevant(answer)
                       if not is_procedural(h.chunk.question)}
            kept = [h for h in searched.hits if h.chunk.unit in allowed][:k]
            chosen = tuple(replace(h, rank=i) for i, h in enumerate(kept, start=1))
            sections.append(VraagDossier(vraag, own.get(i), standing_line(chosen, vraag.text),
                                         _near_duplicates(vraag.text, searched), searched))
        return Dossier(qset, tuple(sections))


def _near_duplicates(vraag: str, searched: Answer) -> tuple[NearDuplicate, ...]:
    """Earlier questions among the searched hits that are near-identical to the vraag,
    most alike first (whatever their relevance: the same question asked before counts)."""
    found = []
    for hit in searched.hits:
        sim = similarity(vraag, hit.chunk.question)
        if sim >= NEAR_IDENTICAL:
            found.append(NearDuplicate(hit.doc, hit.chunk.vraag, hit.chunk.question,
                                       round(sim, 4)))
    return tuple(sorted(found, key=lambda d: -d.similarity))
