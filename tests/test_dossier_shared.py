"""The dossier on the real documents of ../shared (skipped without them): own-answer
alignment on every question set whose answer is known, and every real question document."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.dossier.questions import DossierError, read_question_set
from rag.dossier.standing import DossierMaker
from rag.dossier.text import NEAR_IDENTICAL, is_content_free
from rag.evaluation.dossier import (
    VARIANTS,
    alignment_cases,
    duplicate_stats,
    full_searcher,
    score_alignment,
)
from rag.ingest.corpus import load_corpus
from rag.models.embed import HashingEmbedder
from rag.types import DocKind, Document
from tests.conftest import shared_dir


@pytest.fixture(scope="module")
def corpus() -> tuple[Path, list[Document]]:
    shared = shared_dir()
    if shared is None:
        pytest.skip("../shared is not available")
    folder = shared / "corpus"
    return folder, list(load_corpus(folder).documents)


@pytest.fixture(scope="module")
def maker(corpus: tuple[Path, list[Document]]) -> DossierMaker:
    return DossierMaker(full_searcher(corpus[1], HashingEmbedder(256), "hash:256"))


def test_own_answer_alignment_on_real_question_sets(corpus: tuple[Path, list[Document]],
                                                    maker: DossierMaker) -> None:
    folder, documents = corpus
    files = [(folder / d.source, d) for d in documents if d.kind is DocKind.QUESTIONS]
    report = score_alignment(maker, alignment_cases(documents, files))
    right, total = report.total
    print(f"own-answer alignment: {right}/{total} ({right / total:.1%}); per variant "
          f"{report.counts}; misses: {list(report.misses)}")
    assert set(report.counts) == set(VARIANTS)
    assert report.counts["kv-document"][1] >= 5  # kv-tk-2024Z18792 and its answer
    for variant, (r, n) in report.counts.items():
        assert r / n >= 0.95, (variant, report.misses)


def test_the_real_kv_set_points_at_its_combined_answer(corpus: tuple[Path, list[Document]],
                                                       maker: DossierMaker) -> None:
    folder, _ = corpus
    made = maker.make(read_question_set(folder / "vragen" / "kv-tk-2024Z18792.txt"))
    assert [(v.own_answer.doc.doc_id, v.own_answer.vraag) for v in made.vragen
            if v.own_answer] == [("ah-tk-20242025-605", (1, 2, 3, 4, 5))] * 5
    assert all(e.hit.doc.doc_id != "ah-tk-20242025-605" for v in made.vragen
               for e in v.earlier)


def test_every_real_question_document_reads_or_is_refused_clearly(
        corpus: tuple[Path, list[Document]]) -> None:
    folder, _ = corpus
    read, refused = 0, []
    for path in sorted((folder / "vragen").iterdir()):
        try:
            qset = read_question_set(path)
        except DossierError as exc:
            refused.append(path.name)
            assert "no vragen found" in str(exc)
            continue
        read += 1
        assert qset.vragen and qset.subject
        assert [v.numbers[0] for v in qset.vragen] == list(range(1, len(qset.vragen) + 1))
    # the three announcements of oral questions hold no vragen
    assert refused == ["kv-tk-2024Z18775.txt", "kv-tk-2024Z18776.txt", "kv-tk-2024Z18777.txt"]
    assert read == 36


def test_real_sets_keep_formalities_and_bare_yes_off_the_lines(
        corpus: tuple[Path, list[Document]], maker: DossierMaker) -> None:
    """"Bent u bekend met het bovenstaande artikel?" (the Sabic set) and "Wat is uw reactie op
    dit bericht?" (the police data set) get no earlier answers, and no line anywhere quotes
    a bare "Ja." or "Ja, ik ben bekend met dit artikel"."""
    folder, _ = corpus
    formal = {}
    for path in sorted((folder / "vragen").iterdir()):
        try:
            made = maker.make(read_question_set(path))
        except DossierError:
            continue
        for section in made.vragen:
            shown = (*section.earlier, *section.on_subject)
            assert not (section.vraag.procedural and shown), (path.name, section.vraag.numbers)
            assert all(not is_content_free(e.hit.whole_answer) for e in shown), path.name
        formal[path.stem] = [s.vraag.numbers[0] for s in made.vragen if s.vraag.procedural]
    assert formal["kv-tk-2024Z18893"] == [1, 2]  # the article, the environmental report
    assert formal["kv-tk-2024Z18559"][:2] == [1, 2]  # the news item, "your reaction to it"


@pytest.mark.slow
def test_the_grid_answers_are_on_the_subject_of_the_grid_set(
        corpus: tuple[Path, list[Document]]) -> None:
    """The real model: kv-tk-2024Z18442 (waiting times for grid connections) gets the
    passages of ah-tk-20232024-1108 (the waiting list for grid capacity) on its subject,
    which the relevance model scores far below "redelijk" for each single vraag."""
    from rag.config import DEFAULT_MODEL
    from rag.models.embed import load_embedder

    folder, documents = corpus
    searcher = full_searcher(documents, load_embedder(DEFAULT_MODEL), DEFAULT_MODEL)
    made = DossierMaker(searcher).make(read_question_set(folder / "vragen" /
                                                         "kv-tk-2024Z18442.txt"))
    on_subject = {e.hit.doc.doc_id for s in made.vragen for e in s.on_subject}
    assert on_subject == {"ah-tk-20232024-1108"}
    assert sum(bool(s.on_subject) for s in made.vragen) >= 4


def test_near_identical_cut_sits_above_every_substantive_pair(
        corpus: tuple[Path, list[Document]]) -> None:
    stats = duplicate_stats(corpus[1])
    assert stats.max_substantive < NEAR_IDENTICAL
    assert stats.same_question and all(s >= 0.95 for s in stats.same_question)


@pytest.mark.slow
def test_context_helps_on_held_out_documents(corpus: tuple[Path, list[Document]]) -> None:
    """The real model: reranking by the set's context beats the vraag alone on the held-out
    half at both levels (floors just under the figures in eval/README.md)."""
    from rag.dossier.query import ContextMode
    from rag.evaluation.dossier import answers_only_searcher, context_cases, context_report
    from rag.models.embed import load_embedder

    documents = corpus[1]
    searcher = answers_only_searcher(documents, load_embedder("multilingual-e5-small"))
    measured, pairs = context_report(searcher, context_cases(documents),
                                     [ContextMode.NONE, ContextMode.RERANK])
    rows = {r.mode: r for r in measured if r.split == "test"}
    none, rerank = rows["none"], rows["rerank"]
    assert rerank.document.recall_1 > none.document.recall_1
    assert rerank.vraag.recall_1 >= none.vraag.recall_1
    assert rerank.document.recall_1 >= 0.89 and rerank.vraag.recall_1 >= 0.51
    # the paired counts account exactly for the difference of the averages
    for pair in (p for p in pairs if p.split == "test"):
        level = "vraag" if pair.level == "vraag" else "document"
        gained = getattr(rerank, level).recall_1 - getattr(none, level).recall_1
        assert pair.wins - pair.losses == round(gained * pair.cases)
