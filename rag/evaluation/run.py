"""Evaluation runs: every question through the one searcher users get, scored per retriever.

The question staff ask of the assistant is "does the right earlier answer come first?", so
every set is scored at two levels: the document (right Aanhangsel) and the vraag (right
numbered answer in it), per kind of question, plus how well abstention ("no earlier answer
found") singles out the questions the corpus cannot answer. Questions go through
`Searcher.ask` exactly as `rag ask` and the chat send them (cleaning, ranking, merging the
parts of one answer, abstention), so the figures are the figures users get.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass

from rag.errors import QueryError
from rag.evaluation.beir import BeirDataset
from rag.evaluation.gold import EvalError, GoldQuestion, beir_questions, self_retrieval_questions
from rag.evaluation.metrics import (
    AbstentionMetrics,
    RetrievalMetrics,
    abstention_metrics,
    abstention_of,
    calibrate_threshold,
    dedupe,
    first_relevant_rank,
    recall_curve,
    retrieval_metrics,
)
from rag.models.embed import Embedder
from rag.search.rank import Retriever
from rag.search.searcher import MAX_K, Searcher
from rag.store.index import in_memory_index
from rag.store.lexical import build_lexical
from rag.types import Answer, Chunk, DocRecord, DocumentMeta, UnitKey

DEPTH = MAX_K  # numbered answers ranked per question
HITS_SHOWN = 10
_BATCH = 128  # questions embedded together (the searcher keeps 256 recent vectors)


@dataclass(frozen=True)
class QuestionResult:
    """One question's outcome under one retriever (for ``--json`` and error analysis)."""

    id: str
    kind: str
    retriever: str
    hits: tuple[tuple[str, tuple[int, ...], float], ...]  # (doc_id, vraag, score), best first
    doc_rank: int | None
    vraag_rank: int | None
    confidence: float
    abstained: bool


@dataclass(frozen=True)
class SetReport:
    """Metrics of one question set under one retriever."""

    name: str
    retriever: str
    metrics: dict[str, dict[str, RetrievalMetrics]]  # level -> kind ("all", …) -> metrics
    curve: tuple[float, ...]  # vraag-level Recall@1..10 over answerable questions
    abstention: AbstentionMetrics | None
    questions: tuple[QuestionResult, ...]


def ask_all(searcher: Searcher, questions: Sequence[GoldQuestion],
            retrievers: Sequence[Retriever]) -> dict[Retriever, list[Answer | None]]:
    """Every question through `Searcher.ask` under every retriever, ``DEPTH`` answers deep;
    None where the searcher refuses the question (as it would refuse a user)."""
    answers: dict[Retriever, list[Answer | None]] = {r: [] for r in retrievers}
    for start in range(0, len(questions), _BATCH):
        batch = questions[start : start + _BATCH]
        searcher.embed_ahead([q.question for q in batch])  # one model call per batch
        for q in batch:
            for retriever in retrievers:
                try:
                    answer: Answer | None = searcher.ask(q.question, k=DEPTH, where=q.where,
                                                         retriever=retriever)
                except QueryError:
                    answer = None
                answers[retriever].append(answer)
    return answers


def _units(answer: Answer | None) -> list[UnitKey]:
    return [hit.chunk.unit for hit in answer.hits] if answer else []


def score_set(name: str, questions: Sequence[GoldQuestion], searcher: Searcher,
              retrievers: Sequence[Retriever], calibrate: bool = False) -> list[SetReport]:
    """Ask and score gold questions, per retriever, level and kind.

    Abstention is the searcher's own decision; with ``calibrate`` the threshold on its
    confidence is instead chosen on these questions (reported as such).
    """
    units = {c.unit for c in searcher.index.chunks}
    relevant = [relevant_units(q, units) for q in questions]
    reports = []
    asked = ask_all(searcher, questions, retrievers)
    for retriever in retrievers:
        answers = asked[retriever]
        unit_rankings = [_units(a) for a in answers]
        doc_rankings = [dedupe(doc for doc, _ in ranking) for ranking in unit_rankings]
        metrics: dict[str, dict[str, RetrievalMetrics]] = {"document": {}, "vraag": {}}
        kinds = ["all", *sorted({q.kind for q in questions if q.answerable})]
        for kind in kinds:
            idx = [i for i, q in enumerate(questions)
                   if q.answerable and (kind == "all" or q.kind == kind)]
            metrics["document"][kind] = retrieval_metrics(
                [doc_rankings[i] for i in idx], [{str(questions[i].doc_id)} for i in idx])
            metrics["vraag"][kind] = retrieval_metrics(
                [unit_rankings[i] for i in idx], [relevant[i] for i in idx])
        answerable = [i for i, q in enumerate(questions) if q.answerable]
        curve = recall_curve([unit_rankings[i] for i in answerable],
                             [relevant[i] for i in answerable])
        confidences = [_confidence(a) for a in answers]
        abstained = [a is None or a.abstained for a in answers]
        truth = [not q.answerable for q in questions]
        abstention = None
        if any(truth) and not all(truth):
            if calibrate:
                threshold = calibrate_threshold(confidences, truth)
                abstention = abstention_metrics(confidences, truth, threshold)
                abstained = [c < threshold for c in confidences]
            else:
                cut = searcher.min_score if searcher.min_score is not None else math.nan
                abstention = abstention_of(abstained, truth, cut, abstention_rule(searcher))
        results = _results(questions, answers, retriever, abstained,
                           [first_relevant_rank(doc_rankings[i], {str(q.doc_id)})
                            if q.answerable else None for i, q in enumerate(questions)],
                           [first_relevant_rank(unit_rankings[i], relevant[i])
                            if q.answerable else None for i, q in enumerate(questions)])
        reports.append(SetReport(name, retriever.value, metrics, tuple(curve), abstention,
                                 results))
    return reports


def abstention_rule(searcher: Searcher) -> str:
    """What decides "nothing found" for ``searcher``, in words (for the report)."""
    if searcher.min_score is not None:
        return f"best cosine < {searcher.min_score:.4f}"
    if searcher.relevance is not None:
        cuts = ", ".join(f"{lang.value} {m.threshold:.3f}"
                         for lang, m in searcher.relevance.languages.items())
        return f"relevance model, P(answer) below {cuts}"
    return "never"


def _confidence(answer: Answer | None) -> float:
    return answer.confidence if answer and answer.confidence is not None else -math.inf


def _results(questions: Sequence[GoldQuestion], answers: Sequence[Answer | None],
             retriever: Retriever, abstained: Sequence[bool], doc_ranks: Sequence[int | None],
             vraag_ranks: Sequence[int | None]) -> tuple[QuestionResult, ...]:
    """Every question's outcome: its top hits, where the right answer ranked, the decision."""
    return tuple(
        QuestionResult(q.id, q.kind, retriever.value,
                       tuple((h.doc.doc_id, h.chunk.vraag, h.score)
                             for h in (a.hits[:HITS_SHOWN] if a else ())),
                       doc_ranks[i], vraag_ranks[i], _confidence(a), abstained[i])
        for i, (q, a) in enumerate(zip(questions, answers, strict=True)))


def relevant_units(q: GoldQuestion, units: set[UnitKey]) -> set[UnitKey]:
    """Units of the index whose vraag numbers meet the gold ones; placeholders for vragen
    the index lacks (a parse error then counts as a miss, as it should)."""
    if not q.answerable or q.doc_id is None:
        return set()
    wanted = set(q.vraag)
    found = {(doc, vraag) for doc, vraag in units if doc == q.doc_id and wanted & set(vraag)}
    covered = {v for _, vraag in found for v in vraag}
    return found | {(q.doc_id, (v,)) for v in wanted - covered}


def index_reports(searcher: Searcher, gold_sets: Sequence[tuple[str, list[GoldQuestion]]],
                  self_retrieval: bool, retrievers: Sequence[Retriever],
                  calibrate: bool = False) -> list[SetReport]:
    """Score gold sets (and optionally self-retrieval) over the searcher's index."""
    known = set(searcher.index.documents)
    sets = list(gold_sets)
    for name, questions in sets:
        missing = sorted({q.doc_id for q in questions if q.doc_id and q.doc_id not in known})
        if missing:
            raise EvalError(f"gold set {name} refers to documents not in the index: "
                            f"{', '.join(missing[:5])}; build the index over their corpus")
    if self_retrieval:
        sets.append(("self-retrieval", self_retrieval_questions(searcher.index.chunks)))
    reports: list[SetReport] = []
    for name, questions in sets:
        reports += score_set(name, questions, searcher, retrievers, calibrate)
    return reports


def beir_searcher(dataset: BeirDataset, embedder: Embedder,
                  progress: Callable[[int], None] | None = None) -> Searcher:
    """A searcher over a BEIR corpus held in memory: each passage is its own document."""
    ids = list(dataset.corpus)
    texts = [dataset.passage_text(pid) for pid in ids]
    vectors = embedder.embed_documents(texts, progress=progress)
    chunks = [Chunk(pid, pid, (), 1, 1, "", text) for pid, text in zip(ids, texts, strict=True)]
    documents = [DocRecord(pid, pid, DocumentMeta()) for pid in ids]
    index = in_memory_index(chunks, documents, vectors, embedder.model_id)
    return Searcher(index, embedder, lexical=build_lexical(texts))


def beir_reports(name: str, dataset: BeirDataset, embedder: Embedder,
                 retrievers: Sequence[Retriever],
                 progress: Callable[[int], None] | None = None) -> list[SetReport]:
    """Embed and index a BEIR corpus, ask its queries and score them (passage level)."""
    searcher = beir_searcher(dataset, embedder, progress)
    questions, grades = beir_questions(dataset)
    reports = []
    asked = ask_all(searcher, questions, retrievers)
    for retriever in retrievers:
        answers = asked[retriever]
        rankings: list[list[Hashable]] = [[h.doc.doc_id for h in a.hits] if a else []
                                          for a in answers]
        m = retrieval_metrics(rankings, grades)
        curve = recall_curve(rankings, [set(g) for g in grades])
        ranks = [first_relevant_rank(r, set(g)) for r, g in zip(rankings, grades, strict=True)]
        results = _results(questions, answers, retriever, [False] * len(answers), ranks, ranks)
        reports.append(SetReport(name, retriever.value, {"passage": {"all": m}}, tuple(curve),
                                 None, results))
    return reports
