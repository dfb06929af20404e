"""The `rag` command end to end, as a user runs it, with the hashing embedder."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from rag import __version__
from rag.store.index import load_index
from tests.conftest import SAMPLE_FILE

RAG = [sys.executable, "-m", "rag"]


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*RAG, *args], cwd=cwd, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A corpus with the sample, a questions-only file and an unreadable PDF, built once."""
    root = tmp_path_factory.mktemp("cli")
    corpus = root / "corpus"
    (corpus / "sub").mkdir(parents=True)
    shutil.copy(SAMPLE_FILE, corpus / "sub" / SAMPLE_FILE.name)
    (corpus / "broken.pdf").write_bytes(b"%PDF-1.4 this is not really a pdf")
    (corpus / "kv-tk-2024Z00001.txt").write_text(
        "Vragen van het lid Jansen (CDA) aan de Minister van Financiën over belastingen "
        "(ingezonden 1 mei 2024).\n\n1\nKent u het bericht over de belasting?\n\n2\n"
        "Wat gaat u doen?\n", encoding="utf-8")
    result = run("build", "--corpus", "corpus", "--index", "idx", "--model", "hash:256", cwd=root)
    assert result.returncode == 0, result.stderr
    return root


def test_build_summary_names_counts_and_skipped_files(built: Path) -> None:
    index = load_index(built / "idx")
    assert index.manifest.n_documents == 1
    assert sorted({c.vraag for c in index.chunks}) == [(n,) for n in range(1, 12)]


def test_build_reports_skipped_files_with_reasons(tmp_path: Path, built: Path) -> None:
    result = run("build", "--corpus", "corpus", "--index", str(tmp_path / "i2"),
                 "--model", "hash:256", cwd=built)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    n_chunks = len(load_index(built / "idx").chunks)
    assert f"Read 3 files: 1 answer documents, {n_chunks} chunks, 2 skipped" in out
    assert "skipped broken.pdf:" in out
    assert "skipped kv-tk-2024Z00001.txt: questions only" in out


def test_ask_json_is_the_documented_contract(built: Path) -> None:
    result = run("ask", "Komt er een AI-adviesraad en welke bevoegdheden krijgt die?",
                 "--index", "idx", "--model", "hash:256", "-k", "3", "--json", cwd=built)
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert set(payload) == {"question", "abstained", "confidence", "filtered", "language",
                            "hits"}
    assert payload["abstained"] is False and payload["filtered"] is False
    assert payload["language"] == "nl"
    assert isinstance(payload["confidence"], float)
    assert len(payload["hits"]) == 3
    hit = payload["hits"][0]
    assert set(hit) == {"rank", "score", "doc_id", "vraag", "citation", "long_citation", "title",
                        "date", "answered_by", "ministries", "quote", "quote_pieces",
                        "question", "answer", "source", "url", "relevance", "relevance_label"}
    assert hit["relevance"] is None  # no relevance model for the hashing embedder
    assert hit["rank"] == 1 and hit["doc_id"] == "ah-tk-20232024-2096"
    assert hit["vraag"] == [11]
    assert hit["citation"] == "Aanhangsel Handelingen 2023–2024, nr. 2096, vraag 11"
    assert hit["long_citation"].startswith(hit["citation"] + " — antwoord van de minister van ")
    assert hit["source"] == "sub/ah-tk-20232024-2096.txt"
    assert hit["date"] == "2024-09-02"
    assert hit["answered_by"][0] == {"role": "minister", "name": "van Hijum",
                                     "ministry": "Sociale Zaken en Werkgelegenheid"}
    assert hit["ministries"][:2] == ["Sociale Zaken en Werkgelegenheid", "Economische Zaken"]
    assert hit["url"] == "https://zoek.officielebekendmakingen.nl/ah-tk-20232024-2096.html"
    assert hit["relevance"] is None  # no calibrated probability for the hashing model
    assert {h["relevance_label"] for h in payload["hits"]} <= {"hoog", "redelijk", "laag"}
    stored = load_index(built / "idx").chunks
    for h in payload["hits"]:
        answers = [c.answer for c in stored
                   if c.doc_id == h["doc_id"] and list(c.vraag) == h["vraag"]]
        assert h["quote_pieces"] and all(any(piece in answer for answer in answers)
                                         for piece in h["quote_pieces"])
        assert h["quote"].replace("… ", "").replace(" …", "") == " ".join(h["quote_pieces"])
        assert h["answer"] in answers or "\n\n" in h["answer"]


def test_ask_json_says_when_nothing_is_relevant(built: Path) -> None:
    result = run("ask", "xylofoon quokka", "--index", "idx", "--model", "hash:256",
                 "--min-score", "0.99", "--json", cwd=built)
    payload = json.loads(result.stdout)
    assert payload["abstained"] is True and payload["confidence"] < 0.99
    assert payload["hits"]  # still given, flagged, for tools that want them


def test_ask_plain_text_shows_citation_and_quote(built: Path) -> None:
    result = run("ask", "AI-adviesraad bevoegdheden", "--index", "idx", "--model", "hash:256",
                 "-k", "1", cwd=built)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("1. Aanhangsel Handelingen 2023–2024, nr. 2096, vraag 11 — "
                                    "antwoord van de minister van Sociale Zaken")
    lines = result.stdout.splitlines()
    assert lines[2] == "   https://zoek.officielebekendmakingen.nl/ah-tk-20232024-2096.html"
    assert lines[1].startswith("   relevance ")
    assert lines[1].endswith("source: sub/ah-tk-20232024-2096.txt")
    assert lines[3].startswith("   Question: ")
    shown = " ".join(line.removeprefix("   >").strip() for line in result.stdout.splitlines()
                     if line.startswith("   >"))
    as_json = json.loads(run("ask", "AI-adviesraad bevoegdheden", "--index", "idx", "--model",
                             "hash:256", "-k", "1", "--json", cwd=built).stdout)
    assert shown == as_json["hits"][0]["quote"]  # the quote the chat shows, too


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ask", "   ", "--index", "idx", "--model", "hash:256"], "the question is empty"),
        (["ask", "x" * 5000, "--index", "idx", "--model", "hash:256"],
         "the question is too long (5000 characters)"),
        (["ask", "vraag", "--index", "nowhere", "--model", "hash:256"], "no index at nowhere"),
        (["ask", "vraag", "--index", "idx"], "built with model 'hash:256'"),
        (["build", "--corpus", "idx", "--index", "other", "--model", "hash:256"],
         "no answer documents found"),
    ],
)
def test_errors_are_one_line_on_stderr(built: Path, args: list[str], message: str) -> None:
    result = run(*args, cwd=built)
    assert result.returncode == 1
    assert result.stdout == ""
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_version_and_help(tmp_path: Path) -> None:
    assert run("--version", cwd=tmp_path).stdout.strip() == f"rag, version {__version__}"
    help_text = run("-h", cwd=tmp_path).stdout
    for command in ("build", "ask", "parse-report"):
        assert command in help_text


def test_failed_build_keeps_the_previous_index(built: Path) -> None:
    before = load_index(built / "idx").manifest
    result = run("build", "--corpus", "corpus", "--index", "idx", "--model", "hash:bad",
                 cwd=built)
    assert result.returncode == 1
    assert load_index(built / "idx").manifest == before


def test_ask_says_nothing_was_found_below_the_threshold(built: Path) -> None:
    result = subprocess.run(
        [*RAG, "ask", "recept appeltaart", "--index", "idx", "--model", "hash:256"],
        cwd=built, capture_output=True, text=True, timeout=120,
        env={**os.environ, "RAG_MIN_SCORE": "0.99"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("No earlier answer found")
    assert "Aanhangsel" not in result.stdout


@pytest.mark.parametrize("retriever", ["bm25", "dense", "hybrid"])
def test_ask_with_each_retriever(built: Path, retriever: str) -> None:
    result = run("ask", "AI-fabriek in Nederland investeringen", "--index", "idx",
                 "--model", "hash:256", "--retriever", retriever, "--json", "-k", "3", cwd=built)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["hits"][0]["vraag"] == [8]
