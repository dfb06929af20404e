"""Evaluation: gold questions, self-retrieval and BEIR sets, scored per retriever.

The question staff ask of the assistant is "does the right earlier answer come first?", so
every set is scored at two levels: the document (right Aanhangsel) and the vraag (right
numbered answer in it), per kind of question, plus how well abstention ("no earlier answer
found") singles out the questions the corpus cannot answer.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rag.evaluation.beir import BeirDataset
from rag.chunk import Chunk
from rag.models.embed import Embedder
from rag.errors import RagError
from rag.store.index import Index
from rag.store.lexical import LexicalIndex, build_lexical
from rag.evaluation.metrics import (
    AbstentionMetrics,
    RetrievalMetrics,
    abstention_metrics,
    calibrate_threshold,
    dedupe,
    first_relevant_rank,
    recall_curve,
    retrieval_metrics,
)
from rag.search.rank import (
    DEFAULT_FUSION,
    FusionSettings,
    Retriever,
    combine,
    confidence,
    dense_scores,
    top_rows,
)

KINDS = ("paraphrase", "topical", "crosslingual", "unanswerable")
SELF_KIND = "self"
DEPTH = 100  # chunks ranked per query before collapsing into documents / vragen
HITS_SHOWN = 10


class EvalError(RagError):
    """A gold file is malformed or does not fit the index."""


@dataclass(frozen=True)
class GoldQuestion:
    """A question with the document and vraag numbers whose answers hold the information."""

    id: str
    question: str
    doc_id: str | None
    vraag: tuple[int, ...]
    kind: str

    @property
    def answerable(self) -> bool:
        """False for the questions the corpus has no answer to."""
        return self.doc_id is not None


def load_gold(path: Path) -> list[GoldQuestion]:
    """Read and validate a gold JSON Lines file; raise `EvalError` naming the bad line."""
    out: list[GoldQuestion] = []
    seen: set[str] = set()
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise EvalError(f"cannot read gold file {path}: {exc}") from None
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{path} line {n}"
        try:
            row = json.loads(line)
            q = GoldQuestion(str(row["id"]), str(row["question"]), row["doc_id"],
                             tuple(int(v) for v in row["vraag"]), str(row["kind"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise EvalError(f"{where}: needs id, question, doc_id, vraag, kind ({exc})") from None
        if q.kind not in KINDS:
            raise EvalError(f"{where}: kind must be one of {', '.join(KINDS)}")
        if (q.kind == "unanswerable") != (q.doc_id is None) or (q.doc_id is None) != (not q.vraag):
            raise EvalError(f"{where}: unanswerable questions have doc_id null and vraag [], "
                            f"the others a doc_id and vraag numbers")
        if q.id in seen:
            raise EvalError(f"{where}: duplicate id {q.id!r}")
        seen.add(q.id)
        out.append(q)
    return out


def self_retrieval_questions(chunks: Sequence[Chunk]) -> list[GoldQuestion]:
    """Every parsed question as its own query, its own vraag as the answer."""
    out: dict[str, GoldQuestion] = {}
    for chunk in chunks:
        key = unit_key(chunk.doc_id, chunk.vraag)
        text = " ".join(chunk.question.split())[:2000]
        if key not in out and text:
            out[key] = GoldQuestion(key, text, chunk.doc_id, chunk.vraag, SELF_KIND)
    return list(out.values())


def unit_key(doc_id: str, vraag: Sequence[int]) -> str:
    """The key of one numbered answer (``doc#v4-5``): what vraag-level metrics rank."""
    return f"{doc_id}#v{'-'.join(str(v) for v in vraag)}"


@dataclass(frozen=True)
class Passages:
    """What retrieval runs over: one row per passage, with its document and unit keys."""

    doc_keys: tuple[str, ...]
    unit_keys: tuple[str, ...]
    vraag: tuple[tuple[int, ...], ...]
    vectors: np.ndarray
    lexical: LexicalIndex

    @staticmethod
    def from_chunks(chunks: Sequence[Chunk], vectors: np.ndarray,
                    lexical: LexicalIndex) -> Passages:
        """Index chunks: documents and vragen as units."""
        return Passages(tuple(c.doc_id for c in chunks),
                        tuple(unit_key(c.doc_id, c.vraag) for c in chunks),
                        tuple(c.vraag for c in chunks), vectors, lexical)

    @staticmethod
    def from_beir(dataset: BeirDataset, embedder: Embedder,
                  progress: Callable[[int], None] | None = None) -> Passages:
        """BEIR passages: each passage is its own unit at both levels."""
        ids = tuple(dataset.corpus)
        texts = [dataset.passage_text(pid) for pid in ids]
        vectors = embedder.embed_documents(texts, progress=progress)
        return Passages(ids, ids, tuple(() for _ in ids), vectors, build_lexical(texts))


@dataclass(frozen=True)
class QueryRun:
    """One query under one retriever: ranked passage rows, and the abstention signal."""

    rows: tuple[tuple[int, float], ...]
    confidence: float


def run_queries(passages: Passages, queries: Sequence[str], embedder: Embedder,
                retrievers: Sequence[Retriever],
                fusion: FusionSettings = DEFAULT_FUSION,
                depth: int = DEPTH) -> dict[Retriever, list[QueryRun]]:
    """Rank the passages for every query under every retriever."""
    query_vectors = embedder.embed_queries(list(queries)) if queries else np.zeros((0, 1))
    runs: dict[Retriever, list[QueryRun]] = {r: [] for r in retrievers}
    for i, query in enumerate(queries):
        dense = dense_scores(passages.vectors, query_vectors[i])
        lexical = passages.lexical.scores(query)
        for retriever in retrievers:
            ranked = top_rows(combine(retriever, dense, lexical, fusion), depth)
            runs[retriever].append(QueryRun(tuple(ranked), confidence(dense)))
    return runs


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


def score_set(name: str, questions: Sequence[GoldQuestion], passages: Passages,
              runs: dict[Retriever, list[QueryRun]],
              threshold: float | None = None) -> list[SetReport]:
    """Score ranked runs against gold questions, per retriever, level and kind.

    ``threshold`` is the abstention threshold on the confidence; None calibrates one on
    these questions (reported as such) when the set has unanswerable questions.
    """
    relevant = [_relevant_units(q, passages) for q in questions]
    reports = []
    for retriever, query_runs in runs.items():
        doc_rankings = [dedupe(passages.doc_keys[r] for r, _ in run.rows) for run in query_runs]
        unit_rankings = [dedupe(passages.unit_keys[r] for r, _ in run.rows)
                         for run in query_runs]
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
        confidences = [run.confidence for run in query_runs]
        truth = [not q.answerable for q in questions]
        abstention = None
        if any(truth) and not all(truth):
            t = threshold if threshold is not None else calibrate_threshold(confidences, truth)
            abstention = abstention_metrics(confidences, truth, t)
        cut = abstention.threshold if abstention else -math.inf
        results = tuple(
            QuestionResult(
                q.id, q.kind, retriever.value,
                tuple((passages.doc_keys[r], passages.vraag[r], s)
                      for r, s in run.rows[:HITS_SHOWN]),
                first_relevant_rank(doc_rankings[i], {str(q.doc_id)}) if q.answerable else None,
                first_relevant_rank(unit_rankings[i], relevant[i]) if q.answerable else None,
                run.confidence, run.confidence < cut)
            for i, (q, run) in enumerate(zip(questions, query_runs, strict=True)))
        reports.append(SetReport(name, retriever.value, metrics, tuple(curve), abstention,
                                 results))
    return reports


def beir_questions(dataset: BeirDataset) -> tuple[list[GoldQuestion], list[dict[str, float]]]:
    """BEIR queries as questions (kind ``paraphrase``) with their graded judgements."""
    questions = [GoldQuestion(qid, " ".join(text.split()), "beir", (), "paraphrase")
                 for qid, text in dataset.queries.items()]
    return questions, [dataset.qrels[q.id] for q in questions]


def score_beir(name: str, dataset: BeirDataset, passages: Passages,
               runs: dict[Retriever, list[QueryRun]]) -> list[SetReport]:
    """Score runs over a BEIR dataset (passage level only, graded nDCG)."""
    questions, grades = beir_questions(dataset)
    reports = []
    for retriever, query_runs in runs.items():
        rankings = [dedupe(passages.unit_keys[r] for r, _ in run.rows) for run in query_runs]
        m = retrieval_metrics(rankings, grades)
        curve = recall_curve(rankings, [set(g) for g in grades])
        results = tuple(
            QuestionResult(q.id, q.kind, retriever.value,
                           tuple((passages.doc_keys[r], (), s) for r, s in run.rows[:HITS_SHOWN]),
                           first_relevant_rank(rankings[i], set(grades[i])),
                           first_relevant_rank(rankings[i], set(grades[i])),
                           run.confidence, False)
            for i, (q, run) in enumerate(zip(questions, query_runs, strict=True)))
        reports.append(SetReport(name, retriever.value, {"passage": {"all": m}}, tuple(curve),
                                 None, results))
    return reports


def _relevant_units(q: GoldQuestion, passages: Passages) -> set[str]:
    """Unit keys of the index whose vraag numbers meet the gold ones; placeholders for vragen
    the index lacks (a parse error then counts as a miss, as it should)."""
    if not q.answerable:
        return set()
    wanted = set(q.vraag)
    found = {key for doc, key, vraag in zip(passages.doc_keys, passages.unit_keys,
                                            passages.vraag, strict=True)
             if doc == q.doc_id and wanted.intersection(vraag)}
    covered = {v for key in found for v in _vraag_of(key)}
    return found | {unit_key(q.doc_id or "", (v,)) for v in wanted - covered}


def _vraag_of(key: str) -> tuple[int, ...]:
    return tuple(int(v) for v in key.rsplit("#v", 1)[1].split("-"))


def index_reports(index: Index, embedder: Embedder, lexical: LexicalIndex,
                  gold_sets: Sequence[tuple[str, list[GoldQuestion]]], self_retrieval: bool,
                  retrievers: Sequence[Retriever], threshold: float | None) -> list[SetReport]:
    """Score gold sets (and optionally self-retrieval) over a loaded index."""
    passages = Passages.from_chunks(index.chunks, index.vectors(), lexical)
    known = set(index.documents)
    sets = list(gold_sets)
    for name, questions in sets:
        missing = sorted({q.doc_id for q in questions if q.doc_id and q.doc_id not in known})
        if missing:
            raise EvalError(f"gold set {name} refers to documents not in the index: "
                            f"{', '.join(missing[:5])}; build the index over their corpus")
    if self_retrieval:
        sets.append(("self-retrieval", self_retrieval_questions(index.chunks)))
    reports: list[SetReport] = []
    for name, questions in sets:
        runs = run_queries(passages, [q.question for q in questions], embedder, retrievers)
        reports += score_set(name, questions, passages, runs, threshold)
    return reports


def beir_reports(name: str, dataset: BeirDataset, embedder: Embedder,
                 retrievers: Sequence[Retriever],
                 progress: Callable[[int], None] | None = None) -> list[SetReport]:
    """Embed and index a BEIR corpus, run its queries and score them."""
    passages = Passages.from_beir(dataset, embedder, progress)
    questions, _ = beir_questions(dataset)
    runs = run_queries(passages, [q.question for q in questions], embedder, retrievers)
    return score_beir(name, dataset, passages, runs)
