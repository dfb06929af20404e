"""Measurements for the dossier (`rag dossier-eval`): context, own-answer alignment, duplicates.

**Does the set's context help?** Every answer document of a corpus becomes a question set
(its vragen, its subject as context, as `rag.dossier.questions` makes them). The passages
searched hold the *answers only*: an earlier answer that matters for a new vraag answers
another question on the same subject, so the vraag's own words are not in it, and a passage
that repeats the question would make the task trivial. Each vraag is asked under every
`ContextMode`; the target is its own numbered answer (vraag level) and its document
(document level). Documents are split in two halves by a hash of their id: the choice of
mode is made on ``tune``, the figures that count are those on ``test``.

**Own-answer alignment.** Question documents whose answer document is in the corpus (paired
by zaak number), and every answer document turned into question-only text by dropping its
answers, three ways: with its identifiers, without them (the question texts must do), and
without them in the kv-form PDFs give (glued words, hyphenation, «» quotes, footnote marks).
A vraag is right when `own_answer` names the document and a numbered answer holding its
number.

The context figure measures finding the set's **own** answer among answers only; that
the context also helps the standing line find *other* answers on the subject is measured
by `rag.evaluation.subjects` on hand labels. Next to the averages come the paired counts
(`ContextPair`): on how many vragen `rerank` puts the right answer first where the vraag
alone does not, and the reverse, so a small average difference can be read for what it is.

**Near-identical questions.** The similarity of every pair of questions from different
documents: the cut `rag.dossier.text.NEAR_IDENTICAL` is chosen from it.

**Subjects.** The standing line and the group of passages on the set's subject, on hand
labels of which earlier answer documents are on each set's subject (`rag.evaluation.subjects`).
"""

from __future__ import annotations

import hashlib
import random
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from itertools import combinations
from pathlib import Path

from rag.chunk import chunk_document
from rag.dossier.query import ContextMode, queries, search_vraag
from rag.dossier.questions import (
    context_of,
    question_set_from_text,
    subject_of,
    vraag_text,
)
from rag.dossier.standing import DEFAULT_SUBJECT_CUT, DossierMaker
from rag.dossier.text import dice, is_procedural, shingles, similarity
from rag.errors import QueryError
from rag.evaluation.embedcache import CachedEmbedder
from rag.evaluation.metrics import RetrievalMetrics, dedupe, retrieval_metrics
from rag.evaluation.subjects import (
    LABELS_FILE,
    SubjectReport,
    context_finds_subjects,
    figures_line,
    load_subject_labels,
    run_cases,
    subject_cases,
    subject_report,
)
from rag.ingest.corpus import load_corpus
from rag.models.embed import Embedder, load_embedder
from rag.models.registry import model_spec
from rag.search.judge import relevance_for
from rag.search.searcher import Searcher
from rag.store.index import in_memory_index
from rag.store.lexical import build_lexical
from rag.types import ChunkSettings, DocKind, DocRecord, Document, UnitKey

SPLITS = ("tune", "test")
DEPTH = 10
_BATCH = 60  # vragen embedded together (two queries each; the searcher keeps 256)


def split_of(doc_id: str) -> str:
    """``tune`` or ``test``: a fixed half of the documents, by a hash of the id."""
    return SPLITS[hashlib.sha1(doc_id.encode("utf-8")).digest()[0] % 2]


# -- context ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ContextCase:
    """One vraag of an answer document, searched as if it came in a new set."""

    doc_id: str
    vraag: tuple[int, ...]
    question: str
    context: str
    split: str


def context_cases(documents: Iterable[Document]) -> list[ContextCase]:
    """Every substantive vraag (not procedural) of every answer document, with its set's
    context, as `rag.dossier.questions` derives it from the document's metadata."""
    cases = []
    for doc in documents:
        if doc.kind is not DocKind.ANSWERS:
            continue
        questions = [b.question for b in doc.blocks]
        context = context_of(subject_of(doc.meta, ""), questions)
        for block in doc.blocks:
            if block.question.strip() and block.answer.strip() and not is_procedural(
                    block.question):
                cases.append(ContextCase(doc.doc_id, block.vraag, block.question, context,
                                         split_of(doc.doc_id)))
    return cases


def answers_only_searcher(documents: Iterable[Document], embedder: Embedder,
                          settings: ChunkSettings | None = None) -> Searcher:
    """A searcher over the answers of ``documents`` without their questions, in memory."""
    settings = settings or ChunkSettings()
    docs = [d for d in documents if d.kind is DocKind.ANSWERS]
    chunks = [replace(c, question="") for d in docs for c in chunk_document(d, settings)]
    passages = [c.passage(settings) for c in chunks]
    vectors = embedder.embed_documents(passages)
    index = in_memory_index(chunks, [DocRecord(d.doc_id, d.source, d.meta) for d in docs],
                            vectors, embedder.model_id, settings)
    return Searcher(index, embedder, lexical=build_lexical(passages))


@dataclass(frozen=True)
class ContextRow:
    """The figures of one mode on one split."""

    split: str
    mode: str
    vraag: RetrievalMetrics
    document: RetrievalMetrics


@dataclass(frozen=True)
class ContextPair:
    """`rerank` against the vraag alone on one split and level (``vraag`` or
    ``document``), case by case at rank 1: ``wins`` where only `rerank` is right,
    ``losses`` where only the vraag alone is, each with the answer documents they fall in."""

    split: str
    level: str
    cases: int
    wins: int
    losses: int
    win_documents: int
    loss_documents: int


def paired(cases: Sequence[ContextCase], base: Sequence[Sequence[UnitKey]],
           other: Sequence[Sequence[UnitKey]]) -> list[ContextPair]:
    """Per split and level, where ``other`` is right at rank 1 and ``base`` is not, and the
    reverse."""
    out = []
    for split in SPLITS:
        idx = [i for i, c in enumerate(cases) if c.split == split]
        for level in ("vraag", "document"):
            wins: list[str] = []
            losses: list[str] = []
            for i in idx:
                case = cases[i]
                def first(ranking: Sequence[UnitKey], level: str = level) -> object:
                    if not ranking:
                        return None
                    return ranking[0] if level == "vraag" else ranking[0][0]
                want: object = (case.doc_id, case.vraag) if level == "vraag" else case.doc_id
                first_base, first_other = first(base[i]), first(other[i])
                if first_other == want and first_base != want:
                    wins.append(case.doc_id)
                elif first_base == want and first_other != want:
                    losses.append(case.doc_id)
            out.append(ContextPair(split, level, len(idx), len(wins), len(losses),
                                   len(set(wins)), len(set(losses))))
    return out


def context_report(searcher: Searcher, cases: Sequence[ContextCase],
                   modes: Sequence[ContextMode] = tuple(ContextMode)
                   ) -> tuple[list[ContextRow], list[ContextPair]]:
    """R@1/5/10 and MRR@10 at vraag and document level, per split and mode; and the paired
    counts of `rerank` against the vraag alone (when both modes are measured)."""
    rows = []
    by_mode: dict[ContextMode, list[list[UnitKey]]] = {}
    for mode in modes:
        rankings: list[list[UnitKey]] = []
        for start in range(0, len(cases), _BATCH):
            batch = cases[start:start + _BATCH]
            searcher.embed_ahead([q for c in batch for q in queries(c.question, c.context, mode)])
            for case in batch:
                try:
                    answer = search_vraag(searcher, case.question, case.context, DEPTH, mode)
                except QueryError:
                    rankings.append([])
                    continue
                rankings.append([h.chunk.unit for h in answer.hits])
        by_mode[mode] = rankings
        for split in SPLITS:
            idx = [i for i, c in enumerate(cases) if c.split == split]
            if not idx:
                continue
            units = [rankings[i] for i in idx]
            rows.append(ContextRow(
                split, mode.value,
                retrieval_metrics(units, [{(cases[i].doc_id, cases[i].vraag)} for i in idx]),
                retrieval_metrics([dedupe(d for d, _ in r) for r in units],
                                  [{cases[i].doc_id} for i in idx])))
    pairs = (paired(cases, by_mode[ContextMode.NONE], by_mode[ContextMode.RERANK])
             if ContextMode.NONE in by_mode and ContextMode.RERANK in by_mode else [])
    return rows, pairs


# -- alignment ----------------------------------------------------------------------------

VARIANTS = ("kv-document", "with identifiers", "text only", "text only, kv-form",
            "text only, kv-form, edited")


@dataclass(frozen=True)
class AlignmentCase:
    """A question set whose own answer is known: per vraag the numbers it must map to."""

    variant: str
    name: str
    text: str  # the question document's text (for the kv-documents: their path)
    answer_doc: str
    path: Path | None = None


@dataclass(frozen=True)
class AlignmentReport:
    """How often `own_answer` named the right numbered answer, per variant, and the misses."""

    counts: dict[str, tuple[int, int]]  # variant -> (right, vragen)
    misses: tuple[str, ...]

    @property
    def total(self) -> tuple[int, int]:
        """Right and all vragen over every variant."""
        return (sum(r for r, _ in self.counts.values()), sum(n for _, n in self.counts.values()))


def questions_only(doc: Document, identifiers: bool, kv_form: bool = False,
                   edited: bool = False) -> str:
    """An answer document as the question document it answered: introduction and vragen,
    the answers dropped. Without ``identifiers`` no zaak or Aanhangsel number is left;
    ``kv_form`` writes the questions as the Kamer's PDFs come out of text extraction;
    ``edited`` also leaves out one word in ten (a question retyped with small changes)."""
    meta = doc.meta
    lines = []
    if identifiers:
        if meta.zaak_nr:
            lines.append(meta.zaak_nr)
        if meta.vergaderjaar and meta.ah_nr is not None:
            lines.append(f"Zie ook Aanhangsel Handelingen, vergaderjaar {meta.vergaderjaar}, "
                         f"nr. {meta.ah_nr}.")
    subject = subject_of(meta, "het onderwerp")
    lines.append(f"Vragen van {meta.asked_by or 'het lid'} aan {meta.asked_to or 'de minister'}"
                 f" over {subject}.")
    rng = random.Random(doc.doc_id)
    for block in doc.blocks:
        lines.append(f"Vraag {' en '.join(str(n) for n in block.vraag)}")
        question = _edited(block.question, rng) if edited else block.question
        lines.append(_kv_form(question, rng) if kv_form else question)
    return "\n".join(lines) + "\n"


def _kv_form(text: str, rng: random.Random) -> str:
    """Extraction damage as in the kv-PDFs: a glued word every ten or so, a word hyphenated
    at a line end, «» for “”, a footnote mark after the first question mark."""
    words = text.split(" ")
    out: list[str] = []
    for i, word in enumerate(words):
        if i and rng.random() < 0.1:
            out[-1] += word
        elif len(word) > 12 and rng.random() < 0.3:
            cut = len(word) // 2
            out.append(f"{word[:cut]}-\n{word[cut:]}")
        else:
            out.append(word)
    text = " ".join(out).replace("“", "«").replace("”", "»")
    return re.sub(r"\?", "?1", text, count=1)


def _edited(text: str, rng: random.Random) -> str:
    words = text.split(" ")
    kept = [w for i, w in enumerate(words) if i == 0 or rng.random() >= 0.1]
    return " ".join(kept)


def alignment_cases(documents: Sequence[Document],
                    question_files: Sequence[tuple[Path, Document]] = ()
                    ) -> list[AlignmentCase]:
    """The cases of every variant over the answer documents of a corpus; ``question_files``
    are question documents (path, parsed) paired with their answer by zaak number."""
    answers = [d for d in documents if d.kind is DocKind.ANSWERS and d.blocks]
    by_zaak = {d.meta.zaak_nr: d.doc_id for d in answers if d.meta.zaak_nr}
    cases = [AlignmentCase(VARIANTS[0], q.doc_id, "", by_zaak[q.meta.zaak_nr], path)
             for path, q in question_files if q.meta.zaak_nr in by_zaak]
    for doc in answers:
        cases.append(AlignmentCase(VARIANTS[1], doc.doc_id, questions_only(doc, True),
                                   doc.doc_id))
        cases.append(AlignmentCase(VARIANTS[2], doc.doc_id, questions_only(doc, False),
                                   doc.doc_id))
        cases.append(AlignmentCase(VARIANTS[3], doc.doc_id, questions_only(doc, False, True),
                                   doc.doc_id))
        cases.append(AlignmentCase(VARIANTS[4], doc.doc_id,
                                   questions_only(doc, False, True, True), doc.doc_id))
    return cases


def score_alignment(maker: DossierMaker, cases: Sequence[AlignmentCase]) -> AlignmentReport:
    """Make each case's dossier and check every vraag's `own_answer`; also that the own
    answer document never appears among the hits."""
    from rag.dossier.questions import read_question_set

    counts: dict[str, list[int]] = {}
    misses = []
    for case in cases:
        qset = (read_question_set(case.path) if case.path is not None
                else question_set_from_text(case.text, "vragen-zonder-nummer"))
        dossier = maker.make(qset, k=3)
        tally = counts.setdefault(case.variant, [0, 0])
        for section in dossier.vragen:
            tally[1] += 1
            own = section.own_answer
            leaked = [e.hit.doc.doc_id for e in section.earlier
                      if e.hit.doc.doc_id == case.answer_doc]
            right = (own is not None and own.doc.doc_id == case.answer_doc
                     and bool(set(own.vraag) & set(section.vraag.numbers)) and not leaked)
            if right:
                tally[0] += 1
            else:
                got = f"{own.doc.doc_id} {list(own.vraag)}" if own else "none"
                misses.append(f"{case.variant}: {case.name} vraag "
                              f"{list(section.vraag.numbers)} -> {got}"
                              + (" (own answer among the hits)" if leaked else ""))
    return AlignmentReport({v: (r, n) for v, (r, n) in counts.items()}, tuple(misses))


# -- near-identical questions ---------------------------------------------------------------


@dataclass(frozen=True)
class DuplicateStats:
    """Similarity of question pairs from different documents."""

    pairs: int
    histogram: dict[float, int]  # lower bound of a 0.05-wide bin -> pairs (bins > 0.3)
    max_substantive: float  # the most alike pair of which neither question is procedural
    top: tuple[tuple[float, str, str], ...]  # (similarity, question A, question B)
    same_question: tuple[float, ...]  # a kv-vraag and its ah-version (documents of one zaak)


def duplicate_stats(documents: Iterable[Document], shown: int = 10) -> DuplicateStats:
    """How alike questions of different documents are (Dice of character 5-grams), and the
    two versions of one question (a question document and its answer, one zaak number)."""
    documents = list(documents)
    zaak = {d.doc_id: d.meta.zaak_nr for d in documents}
    items = [(d.doc_id, b.question, shingles(b.question), is_procedural(b.question))
             for d in documents for b in d.blocks if b.question.strip()]
    scored = []
    for a, b in combinations(items, 2):
        if a[0] != b[0] and a[2] & b[2] and not (zaak[a[0]] and zaak[a[0]] == zaak[b[0]]):
            scored.append((dice(a[2], b[2]), a, b))
    same = []
    for q in (d for d in documents if d.kind is DocKind.QUESTIONS and d.meta.zaak_nr):
        for answer in (d for d in documents
                       if d.kind is DocKind.ANSWERS and d.meta.zaak_nr == q.meta.zaak_nr):
            same += [round(max(similarity(vraag_text(v.question), b.question)
                               for b in answer.blocks), 3)
                     for v in q.blocks if v.question.strip()]
    bins = Counter(round(int(s * 20) / 20, 2) for s, _, _ in scored if s > 0.3)
    substantive = max((s for s, a, b in scored if not (a[3] or b[3])), default=0.0)
    scored.sort(key=lambda t: -t[0])
    top = tuple((round(s, 3), a[1][:90], b[1][:90]) for s, a, b in scored[:shown])
    return DuplicateStats(len(scored), dict(sorted(bins.items(), reverse=True)),
                          round(substantive, 3), top, tuple(same))


# -- the whole run ------------------------------------------------------------------------


def full_searcher(documents: Iterable[Document], embedder: Embedder, model: str,
                  settings: ChunkSettings | None = None) -> Searcher:
    """A searcher over the answer documents as `rag build` indexes them, in memory, deciding
    as `rag dossier` does: with the relevance model trained for the model when there is
    one, else with the model's calibrated abstention threshold."""
    settings = settings or ChunkSettings()
    docs = [d for d in documents if d.kind is DocKind.ANSWERS]
    chunks = [c for d in docs for c in chunk_document(d, settings)]
    passages = [c.passage(settings) for c in chunks]
    index = in_memory_index(chunks, [DocRecord(d.doc_id, d.source, d.meta) for d in docs],
                            embedder.embed_documents(passages), embedder.model_id, settings)
    spec = model_spec(model)
    relevance = relevance_for(spec, embedder.model_id)
    return Searcher(index, embedder, min_score=None if relevance else spec.min_score,
                    lexical=build_lexical(passages), relevance=relevance)


@dataclass(frozen=True)
class DossierEvaluation:
    """Everything `rag dossier-eval` measured."""

    corpus: str
    model: str
    context: list[ContextRow]
    alignment: AlignmentReport
    duplicates: DuplicateStats
    pairs: list[ContextPair] = field(default_factory=list)
    subjects: SubjectReport | None = None
    context_subjects: dict[str, tuple[int, int]] = field(default_factory=dict)

    def text(self) -> str:
        """The report for a terminal (Markdown tables)."""
        out = [f"Dossier evaluation: {self.corpus}, model {self.model}", "",
               "Context (answers-only passages; vraag and document level; "
               "choose on tune, report test):", "",
               "| split | mode | n | vraag R@1 | R@5 | MRR@10 | doc R@1 | R@5 | MRR@10 |",
               "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
        for row in self.context:
            v, d = row.vraag, row.document
            out.append(f"| {row.split} | {row.mode} | {v.n} | {v.recall_1:.3f} | {v.recall_5:.3f} "
                       f"| {v.mrr_10:.3f} | {d.recall_1:.3f} | {d.recall_5:.3f} "
                       f"| {d.mrr_10:.3f} |")
        if self.pairs:
            out += ["", "Rerank against the vraag alone, case by case at rank 1 (what the "
                    "context figure measures: finding the set's OWN answer):", "",
                    "| split | level | cases | rerank wins | in documents | rerank loses | "
                    "in documents |", "|---|---|---:|---:|---:|---:|---:|"]
            out += [f"| {p.split} | {p.level} | {p.cases} | {p.wins} | {p.win_documents} | "
                    f"{p.losses} | {p.loss_documents} |" for p in self.pairs]
        right, total = self.alignment.total
        out += ["", f"Own-answer alignment: {right}/{total} vragen right "
                f"({right / total:.1%})" if total else "Own-answer alignment: no cases", ""]
        for variant, (r, n) in self.alignment.counts.items():
            out.append(f"  {variant}: {r}/{n} ({r / n:.1%})")
        out += ["", f"Misses ({len(self.alignment.misses)}):"]
        out += [f"  {m}" for m in self.alignment.misses] or ["  none"]
        dup = self.duplicates
        out += ["", f"Question pairs from different documents sharing a 5-gram: {dup.pairs}; "
                f"most alike substantive pair (neither procedural): {dup.max_substantive}",
                "  similarity bins above 0.3: "
                + ", ".join(f"{b:.2f}+: {n}" for b, n in dup.histogram.items())]
        out += [f"  {sim:.3f}  {a!r}  ~  {b!r}" for sim, a, b in dup.top]
        out.append(f"The same question as kv- and ah-version: {list(dup.same_question)}")
        out += self._subject_text()
        return "\n".join(out)

    def _subject_text(self) -> list[str]:
        report = self.subjects
        if report is None:
            return ["", "Subjects: no labelled sets in this corpus "
                    "(eval/dossier_subjects.jsonl names ../shared/corpus)."]
        out = ["", "Subjects (hand labels, eval/dossier_subjects.jsonl): the standing line "
               "and the group on the set's subject, per half, the bound chosen on the "
               "other half:", "",
               "| half | cut | sets | vragen | line | precision | group | precision | "
               "on-subject documents: line | with group | vragen with an answer |",
               "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for half in ("tune", "test"):
            cut = report.chosen[half]
            out.append(f"| {half} | none {figures_line(report.before[half])}")
            out.append(f"| {half} | z ≥ {cut.min_z} ({cut.documents} documents) "
                       f"{figures_line(report.after[half])}" if cut.documents
                       else f"| {half} | (no group chosen) {figures_line(report.after[half])}")
        for half, (before, after) in report.question_sets.items():
            out.append(f"| {half}, question sets only | none {figures_line(before)}")
            out.append(f"| {half}, question sets only | shipped default "
                       f"{figures_line(after)}")
        if self.context_subjects:
            out += ["", "On-subject documents among any vraag's first 5 passages: " + ", ".join(
                f"{mode} {found}/{total}" for mode, (found, total)
                in self.context_subjects.items())]
        return out

    def to_json(self) -> dict:
        """The report as one JSON object."""
        from dataclasses import asdict

        subjects = None
        if self.subjects is not None:
            subjects = {half: {"chosen": asdict(self.subjects.chosen[half]),
                               "before": asdict(self.subjects.before[half]),
                               "after": asdict(self.subjects.after[half]),
                               "default": asdict(self.subjects.default[half]),
                               "question_sets": [asdict(f) for f in
                                                 self.subjects.question_sets[half]]}
                        for half in self.subjects.chosen}
        return {"corpus": self.corpus, "model": self.model,
                "context": [asdict(r) for r in self.context],
                "context_pairs": [asdict(p) for p in self.pairs],
                "alignment": {"counts": {k: list(v) for k, v in self.alignment.counts.items()},
                              "misses": list(self.alignment.misses)},
                "duplicates": {"pairs": self.duplicates.pairs,
                               "histogram": {str(k): v for k, v in
                                             self.duplicates.histogram.items()},
                               "max_substantive": self.duplicates.max_substantive,
                               "top": [list(t) for t in self.duplicates.top],
                               "same_question": list(self.duplicates.same_question)},
                "subjects": subjects,
                "context_subjects": {k: list(v) for k, v in self.context_subjects.items()}}


def run_all(corpus_dir: Path, model: str, cache_dir: Path | None = None,
            notify: Callable[[str], None] | None = None,
            labels_file: Path = LABELS_FILE) -> DossierEvaluation:
    """Read a corpus and make every measurement of this module over it (the subject
    measurements when ``labels_file`` exists and names sets of this corpus)."""
    say = notify or (lambda _message: None)
    corpus = load_corpus(corpus_dir)
    embedder: Embedder = load_embedder(model, notify=notify)
    if cache_dir is not None:
        embedder = CachedEmbedder(embedder, cache_dir)
    documents = list(corpus.documents)
    say("Embedding the answers (without their questions) …")
    rows, pairs = context_report(answers_only_searcher(documents, embedder),
                                 context_cases(documents))
    say("Embedding the passages as the index holds them …")
    searcher = full_searcher(documents, embedder, model)
    maker = DossierMaker(searcher)
    files = [(corpus_dir / d.source, d) for d in documents if d.kind is DocKind.QUESTIONS]
    say("Aligning own answers …")
    report = score_alignment(maker, alignment_cases(documents, files))
    subjects, found = None, {}
    labels = load_subject_labels(labels_file) if labels_file.is_file() else None
    cases = subject_cases(corpus_dir, documents, labels) if labels else []
    if labels and any(labels.on.get(c.set_id) for c in cases):
        say(f"Standing lines of {len(cases)} labelled sets …")
        results = run_cases(maker, cases)
        subjects = subject_report(results, labels, DEFAULT_SUBJECT_CUT, split_of)
        found = context_finds_subjects(searcher, results, labels)
    return DossierEvaluation(str(corpus_dir), model, rows, report, duplicate_stats(documents),
                             pairs, subjects, found)
