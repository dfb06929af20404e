"""Does the dossier show the earlier answers on the set's subject? Measured on hand labels.

The labels (``eval/dossier_subjects.jsonl``, ids only) say, for every question set of
``../shared/corpus/vragen`` and every answer document of the corpus, which other answer
documents are **on its subject** (the same policy matter: a drafter would take the
government's earlier position from them) and which are only **related** (near it: neither
required nor an error when shown). Lines of three kinds:

- ``{"kind": "question set", "set": "kv-tk-…", "on": [...], "related": [...], "why": …}``;
- ``{"kind": "subject", "group": [...], "why": …}``: answer documents on one subject, each on
  the subject of the others;
- ``{"kind": "related", "group": [a, b]}``: two answer documents near each other.

Cases: every question set with a line, and every answer document turned into the question
set it answered (`rag.evaluation.dossier.questions_only`, identifiers kept, so its own
answer is recognised and left out as in real use). Figures, per half of the cases (split by
a hash of the set id) and with each choice made on the other half:

- **standing line**: its passages, the share from documents on the subject or related
  (precision), and the on-subject documents it shows at all (recall);
- **on the subject** (`VraagDossier.on_subject`): the same for that group, the recall of
  both together, and how many substantive vragen show any earlier answer.

The subject cut's similarity bound (`rag.dossier.standing.SubjectCut.min_z`) is chosen per
fold on one half and reported on the other: the bound whose group gains the most, counting
each passage from a document on the subject or related as +1 and each other as
−`WRONG_PASSAGE_COST` (an off-subject passage costs staff more than a right one gains),
against showing no group at all (0).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rag.dossier.query import ContextMode, search_vraag
from rag.dossier.questions import DossierError, question_set_from_text, read_question_set
from rag.dossier.standing import (
    DossierMaker,
    SubjectCut,
    on_subject_hits,
    subject_documents,
    subject_scores,
)
from rag.errors import ParseError, QueryError
from rag.search.filters import Filter
from rag.search.searcher import Searcher
from rag.types import DocKind, Document, Dossier, QuestionSet, UnitKey

LABELS_FILE = Path(__file__).resolve().parents[2] / "eval" / "dossier_subjects.jsonl"
WRONG_PASSAGE_COST = 2.0
GRID = tuple(SubjectCut(min_z=z) for z in (3.0, 3.5, 4.0, 4.5))
NO_GROUP = SubjectCut(documents=0)


@dataclass(frozen=True)
class SubjectLabels:
    """Per set (a question set's or answer document's id) its on-subject and related
    documents."""

    on: dict[str, frozenset[str]]
    related: dict[str, frozenset[str]]
    question_sets: frozenset[str]


def load_subject_labels(path: Path = LABELS_FILE) -> SubjectLabels:
    """Read the label lines (see the module docstring)."""
    on: dict[str, set[str]] = {}
    related: dict[str, set[str]] = {}
    sets = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        item = json.loads(line)
        if item["kind"] == "question set":
            sets.add(item["set"])
            on.setdefault(item["set"], set()).update(item["on"])
            related.setdefault(item["set"], set()).update(item["related"])
        else:
            group = item["group"]
            target = on if item["kind"] == "subject" else related
            for doc_id in group:
                target.setdefault(doc_id, set()).update(d for d in group if d != doc_id)
    return SubjectLabels({k: frozenset(v) for k, v in on.items()},
                         {k: frozenset(v) for k, v in related.items()}, frozenset(sets))


@dataclass(frozen=True)
class SubjectCase:
    """One set whose on-subject documents are labelled."""

    set_id: str
    kind: str  # "question set" or "answer document"
    qset: QuestionSet


def subject_cases(corpus_dir: Path, documents: Sequence[Document],
                  labels: SubjectLabels) -> list[SubjectCase]:
    """The labelled question sets of ``corpus_dir`` and every answer document as the set
    it answered."""
    from rag.evaluation.dossier import questions_only

    cases = []
    for doc in documents:
        if doc.kind is DocKind.QUESTIONS and doc.doc_id in labels.question_sets:
            try:
                qset = read_question_set(corpus_dir / doc.source)
            except (DossierError, ParseError):
                continue
            cases.append(SubjectCase(doc.doc_id, "question set", qset))
    for doc in documents:
        if doc.kind is DocKind.ANSWERS and doc.blocks:
            cases.append(SubjectCase(doc.doc_id, "answer document", question_set_from_text(
                questions_only(doc, identifiers=True), f"{doc.doc_id}.txt")))
    return cases


@dataclass(frozen=True)
class CaseResult:
    """A case's dossier (made once) and its documents' subject scores, from which any
    subject cut's group follows (`SubjectCut` is applied afterwards, exactly as
    `DossierMaker` applies it)."""

    case: SubjectCase
    dossier: Dossier
    scores: dict[str, float]


def run_cases(maker: DossierMaker, cases: Iterable[SubjectCase], k: int = 5
              ) -> list[CaseResult]:
    """Make every case's dossier once and score its documents' subject similarity."""
    results = []
    for case in cases:
        dossier = maker.make(case.qset, k=k)
        own = frozenset(s.own_answer.doc.doc_id for s in dossier.vragen if s.own_answer)
        where = Filter(exclude_docs=own) if own else None
        results.append(CaseResult(case, dossier,
                                  subject_scores(maker.searcher, case.qset.context, where)))
    return results


@dataclass
class SubjectFigures:
    """Counts over a group of cases (see the module docstring)."""

    sets: int = 0
    vragen: int = 0
    covered_line: int = 0
    covered: int = 0
    line: int = 0
    line_good: int = 0
    group: int = 0
    group_good: int = 0
    on_docs: int = 0
    found_line: int = 0
    found: int = 0

    def ratios(self) -> dict[str, float | None]:
        """Precision of the line, of the group and of both; recall of on-subject documents."""
        def share(a: int, b: int) -> float | None:
            return round(a / b, 3) if b else None
        return {"line_precision": share(self.line_good, self.line),
                "group_precision": share(self.group_good, self.group),
                "precision": share(self.line_good + self.group_good, self.line + self.group),
                "line_recall": share(self.found_line, self.on_docs),
                "recall": share(self.found, self.on_docs)}


def score(results: Iterable[CaseResult], labels: SubjectLabels, cut: SubjectCut
          ) -> SubjectFigures:
    """The figures of ``cut`` over ``results``."""
    figures = SubjectFigures()
    for result in results:
        on = labels.on.get(result.case.set_id, frozenset())
        fine = on | labels.related.get(result.case.set_id, frozenset())
        subjects = subject_documents(result.scores, cut)
        seen_line: set[str] = set()
        seen: set[str] = set()
        figures.sets += 1
        for section in result.dossier.vragen:
            if section.vraag.procedural:
                continue
            line = [e.hit for e in section.earlier]
            shown: set[UnitKey] = {h.chunk.unit for h in line}
            group = on_subject_hits(section.searched, subjects, shown, (), cut.per_vraag)
            figures.vragen += 1
            figures.covered_line += bool(line)
            figures.covered += bool(line or group)
            figures.line += len(line)
            figures.line_good += sum(h.doc.doc_id in fine for h in line)
            figures.group += len(group)
            figures.group_good += sum(h.doc.doc_id in fine for h in group)
            seen_line |= {h.doc.doc_id for h in line}
            seen |= {h.doc.doc_id for h in (*line, *group)}
        figures.on_docs += len(on)
        figures.found_line += len(on & seen_line)
        figures.found += len(on & seen)
    return figures


def gain(figures: SubjectFigures) -> float:
    """What the group is worth to staff: +1 per passage on the subject or related,
    −`WRONG_PASSAGE_COST` per other passage."""
    wrong = figures.group - figures.group_good
    return figures.group_good - WRONG_PASSAGE_COST * wrong


def choose(results: Sequence[CaseResult], labels: SubjectLabels,
           grid: Sequence[SubjectCut] = GRID) -> SubjectCut:
    """The cut of ``grid`` with the highest `gain` on ``results`` (the first of equals), or
    no group when none gains anything."""
    best = max(grid, key=lambda cut: gain(score(results, labels, cut)))
    return best if gain(score(results, labels, best)) > 0 else NO_GROUP


@dataclass(frozen=True)
class SubjectReport:
    """Per half ("tune", "test"): the figures before (no group) and with the cut chosen on
    the other half; and those of the shipped default on each half."""

    chosen: dict[str, SubjectCut]  # held-out half -> the cut chosen on the other half
    before: dict[str, SubjectFigures]
    after: dict[str, SubjectFigures]
    default: dict[str, SubjectFigures]
    question_sets: dict[str, tuple[SubjectFigures, SubjectFigures]] = field(
        default_factory=dict)  # half -> (before, default) over the question sets only


def subject_report(results: Sequence[CaseResult], labels: SubjectLabels,
                   default: SubjectCut, split_of: Callable[[str], str]) -> SubjectReport:
    """Two folds: choose on one half, report on the other, both ways."""
    halves = {h: [r for r in results if split_of(r.case.set_id) == h] for h in ("tune", "test")}
    chosen, before, after, shipped, kv = {}, {}, {}, {}, {}
    for held, fit in (("test", "tune"), ("tune", "test")):
        cut = choose(halves[fit], labels)
        chosen[held] = cut
        before[held] = score(halves[held], labels, NO_GROUP)
        after[held] = score(halves[held], labels, cut)
        shipped[held] = score(halves[held], labels, default)
        sets = [r for r in halves[held] if r.case.kind == "question set"]
        kv[held] = (score(sets, labels, NO_GROUP), score(sets, labels, default))
    return SubjectReport(chosen, before, after, shipped, kv)


def context_finds_subjects(searcher: Searcher, results: Sequence[CaseResult],
                           labels: SubjectLabels, depth: int = 5
                           ) -> dict[str, tuple[int, int]]:
    """On-subject documents among any vraag's first ``depth`` passages, out of all
    on-subject documents, with the vraag alone and with the set's context (`rerank`, as the
    dossiers in ``results`` were searched): does the context help find *other* documents
    on the subject, not only the set's own answer?"""
    alone = total = reranked = 0
    for result in results:
        on = labels.on.get(result.case.set_id, frozenset())
        if not on:
            continue
        own = frozenset(s.own_answer.doc.doc_id for s in result.dossier.vragen if s.own_answer)
        where = Filter(exclude_docs=own) if own else None
        seen_alone: set[str] = set()
        seen: set[str] = set()
        for section in result.dossier.vragen:
            if section.vraag.procedural:
                continue
            seen |= {h.doc.doc_id for h in section.searched.hits[:depth]}
            try:
                answer = search_vraag(searcher, section.vraag.text, "", depth,
                                      ContextMode.NONE, where)
            except QueryError:
                continue
            seen_alone |= {h.doc.doc_id for h in answer.hits}
        total += len(on)
        alone += len(on & seen_alone)
        reranked += len(on & seen)
    return {ContextMode.NONE.value: (alone, total), ContextMode.RERANK.value: (reranked, total)}


def figures_line(f: SubjectFigures) -> str:
    """One line of a report table."""
    r = f.ratios()

    def show(x: float | None) -> str:
        return "–" if x is None else f"{x:.2f}"
    return (f"| {f.sets} | {f.vragen} | {f.line} | {show(r['line_precision'])} | {f.group} | "
            f"{show(r['group_precision'])} | {f.found_line}/{f.on_docs} | "
            f"{f.found}/{f.on_docs} | {f.covered_line} → {f.covered} |")

