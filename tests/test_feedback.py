"""Staff judgements: stored safely by many writers, kept across restarts and rebuilds,
exported as a gold file `rag eval` reads, and counted."""

from __future__ import annotations

import json
import multiprocessing
import sqlite3
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from rag.build import build_index
from rag.chat import Chat, Turn, turn_of, verdict_of
from rag.cli import main as rag
from rag.config import Settings
from rag.evaluation.gold import load_gold
from rag.feedback import (
    FEEDBACK_FILE,
    FeedbackError,
    FeedbackStore,
    Judgement,
    Verdict,
    gold_lines,
    stats,
)
from rag.models.embed import HashingEmbedder
from rag.search.searcher import Searcher
from rag.store.index import load_index
from tests.conftest import SAMPLE_DIR
from tests.test_app import ADVIESRAAD, HASH_MIN_SCORE, build_test_index

Q1 = "Komt er een AI-adviesraad?"
Q2 = "Wat kost digitale weerbaarheid?"
Q3 = "Hoeveel kost een AI-fabriek?"


def _j(verdict: Verdict, question: str = Q1, doc_id: str | None = "ah-tk-20232024-2096",
       vraag: tuple[int, ...] = (11,), rank: int | None = 1, session: str = "s1",
       user: str | None = None, filters: dict | None = None, reason: str | None = None,
       time: str = "") -> Judgement:
    if verdict is Verdict.NONE:
        doc_id, vraag, rank = None, (), None
    return Judgement(verdict, question, filters or {}, doc_id, vraag, rank, 0.9, None, reason,
                     "hash:256", "gen-1", user, session, time)


def test_a_judgement_is_stored_whole_and_survives_reopening(tmp_path: Path) -> None:
    path = tmp_path / "sub" / FEEDBACK_FILE
    store = FeedbackStore(path)
    row = Judgement(Verdict.DOWN, Q1, {"ministry": "SZW"}, "ah-tk-20232024-2096", (4, 5), 2,
                    0.75, 0.31, "verouderd", "e5-small", "gen-abc", "anna", "sess")
    assert store.record(row) == 1
    again = FeedbackStore(path).judgements()  # a new process would open it like this
    assert len(again) == 1
    got = again[0]
    assert got.time.endswith("+00:00") and got.time[:2] == "20"
    assert got == Judgement(**{**row.__dict__, "time": got.time})
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_long_free_text_reason_is_cut(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / FEEDBACK_FILE)
    store.record(_j(Verdict.DOWN, reason="x" * 5000))
    assert len(store.judgements()[0].reason or "") == 500


def test_reading_a_missing_database_creates_nothing(tmp_path: Path) -> None:
    with pytest.raises(FeedbackError, match="no feedback database"):
        FeedbackStore(tmp_path / FEEDBACK_FILE, create=False)
    assert not (tmp_path / FEEDBACK_FILE).exists()


def test_an_unusable_place_is_a_feedback_error(tmp_path: Path) -> None:
    (tmp_path / "taken").mkdir()
    with pytest.raises(FeedbackError, match="--feedback FILE"):
        FeedbackStore(tmp_path / "taken")  # a folder, not a file


def test_many_threads_write_at_once(tmp_path: Path) -> None:
    path = tmp_path / FEEDBACK_FILE
    FeedbackStore(path)
    errors: list[BaseException] = []

    def write(n: int) -> None:
        store = FeedbackStore(path)  # every session its own object, as chat processes do
        try:
            for i in range(40):
                store.record(_j(Verdict.UP, question=f"vraag {n}-{i}", session=f"s{n}"))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    questions = [j.question for j in FeedbackStore(path).judgements()]
    assert len(questions) == len(set(questions)) == 12 * 40


def _write_from_process(path: str, n: int) -> None:
    store = FeedbackStore(Path(path))
    for i in range(40):
        store.record(_j(Verdict.DOWN, question=f"proces {n}-{i}", session=f"p{n}"))


def test_many_processes_write_at_once(tmp_path: Path) -> None:
    path = tmp_path / FEEDBACK_FILE
    FeedbackStore(path)
    spawn = multiprocessing.get_context("spawn")
    procs = [spawn.Process(target=_write_from_process, args=(str(path), n)) for n in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    assert [p.exitcode for p in procs] == [0] * 4
    assert len({j.question for j in FeedbackStore(path).judgements()}) == 4 * 40


def test_gold_lines_follow_the_rules() -> None:
    judgements = [
        # Q1: two people give 👍 to vraag 11, one to vraag 2; one takes theirs back
        _j(Verdict.UP, session="a", time="2024-01-01T10:00"),
        _j(Verdict.UP, session="b", user="bob", time="2024-01-01T10:01"),
        _j(Verdict.UP, vraag=(2,), rank=3, session="c", time="2024-01-01T10:02"),
        _j(Verdict.UP, vraag=(3,), rank=2, session="d", time="2024-01-01T10:03"),
        _j(Verdict.WITHDRAWN, vraag=(3,), rank=2, session="d", time="2024-01-01T10:04"),
        _j(Verdict.NONE, session="e", time="2024-01-01T10:05"),  # 👍 of others win
        # Q2: "geen van deze" without filters: unanswerable
        _j(Verdict.NONE, question=Q2, session="a", time="2024-01-02T09:00"),
        _j(Verdict.DOWN, question=Q2, reason="niet relevant", time="2024-01-02T09:01"),
        # Q3: a 👍 changed into a 👎 counts as 👎; "geen van deze" under a filter counts not
        _j(Verdict.UP, question=Q3, session="a", time="2024-01-03T09:00"),
        _j(Verdict.DOWN, question=Q3, session="a", time="2024-01-03T09:01"),
        _j(Verdict.NONE, question=Q3, session="b", filters={"vergaderjaar": "2023–2024"},
           time="2024-01-03T09:02"),
        # the same question typed differently is the same question
        _j(Verdict.UP, question="  komt ER een ai-adviesraad? ", session="f",
           time="2024-01-04T09:00"),
    ]
    lines = gold_lines(judgements)
    assert [(line["question"], line["doc_id"], line["vraag"], line["kind"]) for line in lines] == [
        (Q1, "ah-tk-20232024-2096", [11], "topical"),
        (Q2, None, [], "unanswerable"),
    ]
    assert all(line["id"].startswith("fb-") for line in lines)
    assert gold_lines([_j(Verdict.DOWN, reason="verouderd")]) == []  # 👎 alone: no line


def test_ties_go_to_the_hit_shown_highest() -> None:
    lines = gold_lines([_j(Verdict.UP, vraag=(4,), rank=3, session="a"),
                        _j(Verdict.UP, vraag=(2,), rank=2, session="b")])
    assert lines[0]["vraag"] == [2]


def test_stats_count_judgements_and_a_first_hit_liked() -> None:
    counts = stats([
        _j(Verdict.UP, time="1"), _j(Verdict.DOWN, question=Q2, reason="verouderd", time="2"),
        _j(Verdict.DOWN, question=Q2, reason="verouderd", session="x", time="3"),
        _j(Verdict.UP, question=Q3, vraag=(2,), rank=2, time="4"),
        _j(Verdict.NONE, question=Q3, session="y", time="5"),
        _j(Verdict.UP, question="Nog een", time="6"),
        _j(Verdict.WITHDRAWN, question="Nog een", time="7"),
    ])
    assert counts.judgements == 7
    assert counts.by_verdict == {"up": 3, "down": 2, "none": 1, "withdrawn": 1}
    assert counts.by_reason == {"verouderd": 2}
    assert counts.questions == 4 and counts.up_at_rank_1 == 1
    assert counts.share_up_at_rank_1 == 0.25


@pytest.mark.parametrize(("liked", "expected"), [
    (True, (Verdict.UP, None)), (False, (Verdict.DOWN, None)), ("", (Verdict.WITHDRAWN, None)),
    (None, (Verdict.WITHDRAWN, None)), ("Verkeerde vraag", (Verdict.DOWN, "verkeerde vraag")),
    ("Verouderd", (Verdict.DOWN, "verouderd")), ("Iets anders", (Verdict.DOWN, "Iets anders")),
])
def test_what_gradio_sends_becomes_a_verdict(liked: object, expected: tuple) -> None:
    assert verdict_of(liked) == expected


@pytest.fixture
def chat_with_feedback(tmp_path: Path) -> Chat:
    index_dir = build_test_index(tmp_path)
    embedder = HashingEmbedder(256)
    searcher = Searcher(load_index(index_dir, embedder.model_id), embedder, HASH_MIN_SCORE)
    return Chat(searcher, FeedbackStore(index_dir / FEEDBACK_FILE))


def test_the_chat_stores_what_the_judgement_was_about(chat_with_feedback: Chat) -> None:
    chat = chat_with_feedback
    reply = chat.reply(ADVIESRAAD, k=3, ministry="Sociale Zaken en Werkgelegenheid")
    turn = Turn(reply.question, reply.filters, reply.hits, first_message=5)
    assert turn_of([turn], 4) is None and turn_of([turn], 8) is None
    found = turn_of([turn], 6)
    assert found is not None and found[1] is reply.hits[1]
    assert chat.judge(turn, found[1], Verdict.UP, user="anna", session="s")
    assert not chat.judge(turn, found[1], Verdict.UP, user="anna", session="s")  # a repeat
    assert chat.judge(turn, None, Verdict.NONE, session="s")
    assert chat.feedback is not None
    up, none = chat.feedback.judgements()
    index = chat.searcher.index
    assert (up.verdict, up.question, up.filters, up.doc_id, up.vraag, up.rank) == (
        Verdict.UP, ADVIESRAAD, {"ministry": "Sociale Zaken en Werkgelegenheid"},
        reply.hits[1].doc.doc_id, reply.hits[1].chunk.vraag, 2)
    assert up.score == reply.hits[1].score and up.relevance is None
    assert (up.model, up.user, up.session) == ("hash:256", "anna", "s")
    assert index.generation is not None and up.generation == index.generation.name
    assert (none.verdict, none.doc_id, none.rank) == (Verdict.NONE, None, None)


def test_a_chat_without_a_store_says_so() -> None:
    chat = Chat(Searcher.__new__(Searcher))
    with pytest.raises(FeedbackError):
        chat.judge(Turn("q", {}, (), 1), None, Verdict.NONE)


def test_rebuilds_keep_the_feedback(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    sample = next(SAMPLE_DIR.iterdir())
    (corpus / sample.name).write_bytes(sample.read_bytes())
    settings = Settings(index_dir=tmp_path / "index", model="hash:256")
    build_index(corpus, settings, HashingEmbedder(256))
    store = FeedbackStore(settings.index_dir / FEEDBACK_FILE)
    store.record(_j(Verdict.UP))
    (corpus / sample.name).write_text(sample.read_text(encoding="utf-8") + "\n",
                                      encoding="utf-8")
    build_index(corpus, settings, HashingEmbedder(256))  # incremental
    build_index(corpus, settings, HashingEmbedder(256), full=True)  # everything again
    store.record(_j(Verdict.DOWN, question=Q2))  # the chat keeps writing meanwhile
    build_index(corpus, settings, HashingEmbedder(256))
    assert [j.verdict for j in FeedbackStore(settings.index_dir / FEEDBACK_FILE).judgements()] \
        == [Verdict.UP, Verdict.DOWN]
    load_index(settings.index_dir)  # and the index is fine beside it


def test_cli_exports_a_gold_file_rag_eval_reads_and_prints_stats(tmp_path: Path) -> None:
    index_dir = build_test_index(tmp_path)
    store = FeedbackStore(index_dir / FEEDBACK_FILE)
    store.record(_j(Verdict.UP, question=ADVIESRAAD, time="2024-01-01T10:00"))
    store.record(_j(Verdict.NONE, question="xylofoon quokka", time="2024-01-01T10:01"))
    store.record(_j(Verdict.DOWN, question=Q2, reason="verouderd", time="2024-01-01T10:02"))
    runner = CliRunner()
    out = tmp_path / "gold" / "feedback.jsonl"
    result = runner.invoke(rag, ["feedback", "export", "--out", str(out), "--index",
                                 str(index_dir)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"Wrote 2 gold questions to {out} (1 with a relevant vraag, "
                                    "1 unanswerable) from 3 judgements.")
    gold = load_gold(out)
    assert [(g.question, g.doc_id, g.vraag, g.answerable) for g in gold] == [
        (ADVIESRAAD, "ah-tk-20232024-2096", (11,), True), ("xylofoon quokka", None, (), False)]
    evaluated = runner.invoke(rag, ["eval", "--gold", str(out), "--index", str(index_dir),
                                    "--model", "hash:256", "--retriever", "hybrid", "--no-plot",
                                    "--json", "--out", str(tmp_path / "results")])
    assert evaluated.exit_code == 0, evaluated.output
    assert json.loads(evaluated.stdout.strip().splitlines()[-1])
    result = runner.invoke(rag, ["feedback", "stats", "--index", str(index_dir)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        f"3 judgements in {index_dir / FEEDBACK_FILE}: 1 up, 1 down, 1 'none of these', "
        "0 withdrawn.",
        "  down, verouderd: 1",
        "3 questions judged; 1 with an up vote for the first hit (33.3%).",
    ]


def test_cli_feedback_options_and_a_missing_database(tmp_path: Path) -> None:
    runner = CliRunner()
    elsewhere = tmp_path / "elders.sqlite"
    FeedbackStore(elsewhere).record(_j(Verdict.UP))
    result = runner.invoke(rag, ["feedback", "stats", "--feedback", str(elsewhere)])
    assert result.exit_code == 0 and "1 judgements in" in result.output
    result = runner.invoke(rag, ["feedback", "stats"], env={"RAG_FEEDBACK": str(elsewhere)})
    assert result.exit_code == 0 and str(elsewhere) in result.output
    result = runner.invoke(rag, ["feedback", "export", "--out", str(tmp_path / "g.jsonl"),
                                 "--index", str(tmp_path / "nothing")])
    assert result.exit_code == 1
    assert "no feedback database at" in result.output
    assert not (tmp_path / "nothing").exists() and not (tmp_path / "g.jsonl").exists()
