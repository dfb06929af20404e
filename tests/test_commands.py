"""`rag eval` and `rag parse-report` as a user runs them, with the hashing embedder; and the
promise that evaluation measures exactly what `rag ask` gives."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from rag.store.index import load_index
from tests.conftest import ROOT, SAMPLE_FILE

RAG = [sys.executable, "-m", "rag"]
GOLD = [
    {"id": "a", "question": "Komt er een AI-adviesraad?", "doc_id": "ah-tk-20232024-2096",
     "vraag": [11], "kind": "paraphrase"},
    {"id": "b", "question": "AI-fabriek investering", "doc_id": "ah-tk-20232024-2096",
     "vraag": [8], "kind": "topical"},
    {"id": "c", "question": "Does the SER give advice on AI?", "doc_id": "ah-tk-20232024-2096",
     "vraag": [10], "kind": "crosslingual"},
    {"id": "d", "question": "Hoe hoog wordt de zorgtoeslag?", "doc_id": None, "vraag": [],
     "kind": "unanswerable"},
    # Filtered as a user filters: no document of this ministry, so nothing to find.
    {"id": "e", "question": "Komt er een AI-adviesraad?", "doc_id": None, "vraag": [],
     "kind": "unanswerable", "filters": {"ministry": "Defensie", "vergaderjaar": "2023-2024"}},
]
ASK_FLAGS = {"vergaderjaar": "--year", "ministry": "--ministry", "party": "--party",
             "date_from": "--from", "date_to": "--to"}


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*RAG, *args], cwd=cwd, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("commands")
    corpus = root / "corpus"
    corpus.mkdir()
    shutil.copy(SAMPLE_FILE, corpus / SAMPLE_FILE.name)
    (corpus / "kv-tk-2024Z00001.txt").write_text(
        "Vragen van het lid Jansen (CDA) aan de Minister van Financiën over belastingen "
        "(ingezonden 1 mei 2024).\n\n1\nKent u het bericht over de belasting?\n\n2\n"
        "Wat gaat u doen?\n", encoding="utf-8")
    (corpus / "kapot.pdf").write_bytes(b"%PDF-1.4 no more")
    (root / "gold.jsonl").write_text("".join(json.dumps(g) + "\n" for g in GOLD),
                                     encoding="utf-8")
    assert run("build", "--corpus", "corpus", "--index", "idx", "--model", "hash:256",
               cwd=root).returncode == 0
    return root


def test_parse_report_lists_every_file_and_the_share(work: Path) -> None:
    result = run("parse-report", "--corpus", "corpus", cwd=work)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert ("ok    ah-tk-20232024-2096.txt: antwoord, 11 blocks [1,2,3,4,5,6,7,8,9,10,11]"
            in lines)
    assert "-     kv-tk-2024Z00001.txt: vragen, 2 blocks [1,2]" in lines
    assert any(line.startswith("skip  kapot.pdf: truncated or corrupt PDF") for line in lines)
    assert lines[-1] == ("1/1 answer documents (100.0%) parse into consecutive, non-empty "
                         "blocks; 3 files read.")


def test_eval_writes_its_report_where_asked_and_nowhere_else(work: Path) -> None:
    out = work / "results"
    result = run("eval", "--gold", "gold.jsonl", "--index", "idx", "--model", "hash:256",
                 "--out", str(out), "--no-plot", cwd=work)
    assert result.returncode == 0, result.stderr
    table = (out / "report.md").read_text(encoding="utf-8")
    assert table == result.stdout.split("Written:")[0].rstrip("\n") + "\n"
    for retriever in ("bm25", "dense", "hybrid"):
        assert f"| gold | {retriever} | vraag | all | 3 |" in table
    assert not (work / "eval").exists()  # the default folder was not touched
    assert not (out / "recall.png").exists()


def test_eval_from_a_corpus_builds_a_temporary_index(work: Path) -> None:
    result = run("eval", "--gold", "gold.jsonl", "--corpus", "corpus", "--model", "hash:256",
                 "--retriever", "bm25", "--out", str(work / "r2"), "--json", cwd=work)
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert set(payload["metrics"]["gold"]) == {"bm25"}
    assert (work / "r2" / "recall.png").stat().st_size > 1000
    assert "Building a temporary index over corpus" in result.stderr


def test_eval_measures_exactly_what_ask_gives(work: Path) -> None:
    result = run("eval", "--gold", "gold.jsonl", "--index", "idx", "--model", "hash:256",
                 "--retriever", "hybrid", "--json", "--no-plot", "--out", str(work / "r3"),
                 cwd=work)
    assert result.returncode == 0, result.stderr
    per_question = {q["id"]: q for q in json.loads(result.stdout)["per_question"]}
    for gold in GOLD:
        flags = [arg for name, value in gold.get("filters", {}).items()
                 for arg in (ASK_FLAGS[name], value)]
        asked = run("ask", gold["question"], "--index", "idx", "--model", "hash:256",
                    "--json", "-k", "10", *flags, cwd=work)
        hits = [{"doc_id": h["doc_id"], "vraag": h["vraag"], "score": h["score"]}
                for h in json.loads(asked.stdout)["hits"]]
        assert per_question[gold["id"]]["hits"] == hits, gold["question"]
        assert per_question[gold["id"]]["abstained"] == json.loads(asked.stdout)["abstained"]


def test_chunk_ids_are_stable_across_builds_in_two_processes(work: Path) -> None:
    first = load_index(work / "idx")
    assert run("build", "--corpus", "corpus", "--index", "idx-again", "--model", "hash:256",
               "--full", cwd=work).returncode == 0
    again = load_index(work / "idx-again")
    assert [c.chunk_id for c in again.chunks] == [c.chunk_id for c in first.chunks]
    assert (again.vectors() == first.vectors()).all()
    # An edited answer keeps its id (and the ids of all others).
    edited = work / "edited"
    shutil.copytree(work / "corpus", edited)
    sample = edited / SAMPLE_FILE.name
    sample.write_text(sample.read_text(encoding="utf-8").replace(
        "Ja, ik ben bekend met dit artikel.", "Ja, dat artikel ken ik."), encoding="utf-8")
    assert run("build", "--corpus", "edited", "--index", "idx-edited", "--model", "hash:256",
               cwd=work).returncode == 0
    changed = load_index(work / "idx-edited")
    assert [c.chunk_id for c in changed.chunks] == [c.chunk_id for c in first.chunks]
    assert [c.answer for c in changed.chunks] != [c.answer for c in first.chunks]


def test_evaluation_output_is_not_in_the_repository() -> None:
    tracked = subprocess.run(["git", "ls-files", "eval/results"], cwd=ROOT,
                             capture_output=True, text=True).stdout
    assert tracked == "", "evaluation output is build output, not source"
