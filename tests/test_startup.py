"""The chat's start on a folder of one's own (``python app.py --corpus DIR``), and a terminal
with nothing in it but the project's own lines."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest

from rag.feedback import FEEDBACK_FILE
from rag.logs import configure
from rag.startup import corpus_index_dir
from tests.conftest import SAMPLE_FILE
from tests.test_chat_safety import _launch


@pytest.fixture
def corpus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "stukken"
    folder.mkdir()
    shutil.copy(SAMPLE_FILE, folder / SAMPLE_FILE.name)
    work = tmp_path / "werk"
    work.mkdir()
    monkeypatch.chdir(work)
    return folder


def test_a_corpus_folder_is_indexed_on_first_start_and_updated_after(
        monkeypatch: pytest.MonkeyPatch, corpus: Path) -> None:
    result, seen = _launch(monkeypatch, ["--corpus", str(corpus)], {"RAG_AUTH": ""})
    assert result.exit_code == 0, result.output
    index_dir = Path("index-stukken")
    assert corpus_index_dir(corpus) == index_dir
    lines = result.stderr.splitlines()
    assert f"No index in {index_dir}: building it once from {corpus} (model hash:256)." in lines
    assert any(line.startswith("  passages embedded: ") for line in lines)
    assert any(line.startswith("Index ready: 1 document(s), ") for line in lines)
    assert any(line.startswith("Vraagbaak: ") and "stop with Ctrl-C" in line for line in lines)
    assert f"Judgements are stored in {index_dir / FEEDBACK_FILE}." in lines
    assert "DEBUG" not in result.stderr  # bm25s logs at debug level while it builds
    assert seen["server_name"] == "127.0.0.1"
    # a later start brings the index up to date with the folder
    (corpus / "ah-tk-20232024-0001.txt").write_text(
        SAMPLE_FILE.read_text(encoding="utf-8").replace("nr. 2096", "nr. 1"), encoding="utf-8")
    result, _ = _launch(monkeypatch, ["--corpus", str(corpus)], {"RAG_AUTH": ""})
    assert result.exit_code == 0, result.output
    assert f"Updating the index {index_dir} from {corpus} …" in result.stderr
    assert "Index ready: 2 document(s)" in result.stderr


def test_a_corpus_start_refuses_what_rag_build_refuses(monkeypatch: pytest.MonkeyPatch,
                                                       corpus: Path) -> None:
    result, seen = _launch(monkeypatch, ["--corpus", str(corpus), "--index",
                                         str(corpus / "index")], {"RAG_AUTH": ""})
    assert result.exit_code == 1 and not seen
    assert "refusing to build into" in result.output and "inside the corpus folder" in result.output
    assert not (corpus / "index").exists()
    (corpus.parent / "vol").mkdir()
    (corpus.parent / "vol" / "notes.txt").write_text("mine", encoding="utf-8")
    result, seen = _launch(monkeypatch, ["--corpus", str(corpus), "--index",
                                         str(corpus.parent / "vol")], {"RAG_AUTH": ""})
    assert result.exit_code == 1 and not seen
    assert "is not empty and not a Vraagbaak index" in result.output
    assert sorted(p.name for p in (corpus.parent / "vol").iterdir()) == ["notes.txt"]


def test_library_debug_lines_never_reach_the_terminal(capsys: pytest.CaptureFixture) -> None:
    configure()
    chatty = logging.getLogger("chatty-library")
    chatty.setLevel(logging.DEBUG)  # as bm25s does when imported
    chatty.debug("Building index from tokens")
    chatty.info("loaded")
    chatty.warning("disk almost full")
    logging.getLogger("vraagbaak.test").info("our own line")
    logging.getLogger("vraagbaak.test").debug("our own detail")
    err = capsys.readouterr().err.splitlines()
    assert err == ["WARNING chatty-library: disk almost full",
                   "INFO vraagbaak.test: our own line"]
    configure()  # once more: still one line per record
    logging.getLogger("vraagbaak.test").warning("once")
    assert capsys.readouterr().err == "WARNING vraagbaak.test: once\n"
