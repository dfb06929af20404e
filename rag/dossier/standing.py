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
4. earlier questions near-identical to the vraag (`rag.dossier.text.NEAR_IDENTICAL`);
5. apart from the standing line, the passages of the documents on the set's subject that
   the relevance model does not call an answer to this vraag (`on_subject`, see
   :class:`SubjectCut`): the relevance model judges whether a passage answers the vraag
   exactly, and scores an earlier answer on the same subject in other words low.

Formal vragen get no search: procedural ones ("Kunt u deze vragen afzonderlijk
beantwoorden?") and acknowledgements ("Bent u bekend met het bericht …?"): every set asks
them, and their earlier "answers" ("Ja.") say nothing about the subject; for the same reason
such earlier answers never enter a standing line (`rag.dossier.text`).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace

import numpy as np

from rag.dossier.align import Library, own_answers
from rag.dossier.query import (
    DEFAULT_MODE,
    ContextMode,
    combine,
    depth_for,
    queries,
    search_each,
)
from rag.dossier.text import NEAR_IDENTICAL, is_content_free, is_procedural, similarity
from rag.errors import QueryError
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
    OwnAnswer,
    QuestionSet,
    UnitKey,
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
STARTING_POINT = "resultaat"  # OwnAnswer.matched of the chat result a set was made from


@dataclass(frozen=True)
class SubjectCut:
    """Which documents are on the set's subject, and how many of their passages each vraag
    shows apart from its standing line.

    A document is on the subject when its best passage stands out in dense similarity to
    the set's context (subject and news item): at least ``min_z`` standard deviations above
    the mean passage of the index. At most ``documents`` of them (the most similar first),
    and per vraag at most ``per_vraag`` of their passages, best-ranked for that vraag first.
    The figures are chosen and measured with `rag dossier-eval` on hand-labelled subjects
    (eval/dossier_subjects.jsonl; eval/README.md "The dossier"): measured on an index of
    718 passages, where the best of hundreds of unrelated passages reaches about 3 standard
    deviations; on a much larger index more unrelated passages reach it by chance.
    ``documents=0`` shows none.
    """

    min_z: float = 4.0
    documents: int = 2
    per_vraag: int = 2


DEFAULT_SUBJECT_CUT = SubjectCut()


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


def worth_quoting(hit: Hit) -> bool:
    """Whether an earlier answer can take a place on a standing line: not the answer to a
    procedural vraag, and not a bare "Ja." (`rag.dossier.text.is_content_free`)."""
    return not is_procedural(hit.chunk.question) and not is_content_free(hit.whole_answer)


def subject_scores(searcher: Searcher, context: str, where: Filter | None = None
                   ) -> dict[str, float]:
    """Per document how far its best passage stands out in dense similarity to ``context``:
    standard deviations above the mean over the passages searched (``where``). Empty when
    the context cannot be searched."""
    try:
        ranking = searcher.rank(context, k=1, where=where, retriever="dense")
    except QueryError:
        return {}
    dense = np.asarray(ranking.dense, dtype=np.float64)
    rows = np.flatnonzero(ranking.keep) if ranking.keep is not None else np.arange(len(dense))
    if len(rows) < 2:
        return {}
    values = dense[rows]
    spread = float(values.std())
    if not spread or not math.isfinite(spread):
        return {}
    mean = float(values.mean())
    chunks = searcher.index.chunks
    best: dict[str, float] = {}
    for row, value in zip(rows.tolist(), values.tolist(), strict=True):
        doc_id = chunks[row].doc_id
        if value > best.get(doc_id, -math.inf):
            best[doc_id] = value
    return {doc_id: (value - mean) / spread for doc_id, value in best.items()}


def subject_documents(scores: Mapping[str, float], cut: SubjectCut = DEFAULT_SUBJECT_CUT,
                      given: Collection[str] = ()) -> tuple[str, ...]:
    """The documents on the set's subject: ``given`` ones (the chat result's own document)
    first, then those `subject_scores` puts at least ``cut.min_z`` out, most similar first,
    ``cut.documents`` in all."""
    if cut.documents <= 0:
        return ()
    found = [d for d, z in sorted(scores.items(), key=lambda item: -item[1])
             if z >= cut.min_z and d not in given]
    return tuple([*given, *found][:cut.documents])


def on_subject_hits(searched: Answer, subjects: Collection[str], shown: Collection[UnitKey],
                    excluded: Collection[UnitKey] = (), per_vraag: int = 2
                    ) -> tuple[Hit, ...]:
    """A vraag's best-ranked passages of the subject documents that are not on its standing
    line already (``shown``) nor ``excluded``."""
    return tuple(h for h in searched.hits
                 if h.doc.doc_id in subjects and h.chunk.unit not in shown
                 and h.chunk.unit not in excluded and worth_quoting(h))[:per_vraag]


def subject_line(hits: tuple[Hit, ...], vraag: str) -> tuple[EarlierAnswer, ...]:
    """Passages on the subject newest first, each with its cabinet; no best hit among them
    (the relevance model called none an answer), so nothing is flagged more recent."""
    return tuple(replace(e, top=False, newer_than_top=False)
                 for e in standing_line(hits, vraag))


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

    def __init__(self, searcher: Searcher, mode: ContextMode = DEFAULT_MODE,
                 subject: SubjectCut = DEFAULT_SUBJECT_CUT) -> None:
        self.searcher = searcher
        self.mode = mode
        self.subject = subject
        self.library = Library(searcher.index.documents, searcher.index.chunks)

    def make(self, qset: QuestionSet, k: int = DEFAULT_K, start: Hit | None = None) -> Dossier:
        """The dossier of a question set: per vraag its own answer, its standing line and the
        passages on the set's subject.

        ``start`` is the chat result a one-vraag set was made from ("Meer over dit
        onderwerp"): it is that vraag's own answer and stays out of the hits, while the
        rest of its document, the most on-subject earlier answers there are, stays in.
        """
        k = max(1, min(int(k), MAX_K))
        # One model call for every query text of the set.
        self.searcher.embed_ahead([qset.context, *(q for v in qset.vragen
                                                   for q in queries(v.text, qset.context,
                                                                    self.mode))])
        if start is not None:
            own = {0: OwnAnswer(start.doc, start.chunk.vraag, STARTING_POINT, 1.0)}
            excluded_units: frozenset[UnitKey] = frozenset({start.chunk.unit})
            where = None
            given: tuple[str, ...] = (start.doc.doc_id,)
        else:
            own = self._own_answers(qset)
            excluded_docs = frozenset(o.doc.doc_id for o in own.values())
            excluded_units = frozenset()
            where = Filter(exclude_docs=excluded_docs) if excluded_docs else None
            given = ()
        subjects = subject_documents(subject_scores(self.searcher, qset.context, where),
                                     self.subject, given)
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
            searched = replace(searched, hits=tuple(h for h in searched.hits
                                                    if h.chunk.unit not in excluded_units))
            # The cut is made on each search's own scores (combined scores mean nothing
            # alone): an answer stays when it is relevant in any of the searches.
            allowed = {h.chunk.unit for answer in each for h in relevant(answer)
                       if worth_quoting(h)}
            kept = [h for h in searched.hits if h.chunk.unit in allowed][:k]
            chosen = tuple(replace(h, rank=i) for i, h in enumerate(kept, start=1))
            extra = on_subject_hits(searched, subjects, {h.chunk.unit for h in kept},
                                    excluded_units, self.subject.per_vraag)
            sections.append(VraagDossier(
                vraag, own.get(i), standing_line(chosen, vraag.text),
                _near_duplicates(vraag.text, searched), searched,
                subject_line(extra, vraag.text)))
        return Dossier(qset, tuple(sections))

    def _own_answers(self, qset: QuestionSet) -> dict[int, OwnAnswer]:
        """Per vraag its answer in the index, when the set's own answer document is there."""
        candidates = []
        for vraag in qset.vragen:
            found = self.searcher.ask(queries(vraag.text, "", ContextMode.NONE)[0],
                                      k=CANDIDATE_DEPTH)
            candidates += [h.doc.doc_id for h in found.hits]
        return own_answers(qset, self.library, candidates)


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
