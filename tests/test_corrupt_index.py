"""A damaged index whose checksums were updated to match is still one line, not a traceback.

The checksums prove that the files are those the manifest names; they cannot prove a build
wrote them. Every stored record is checked on load, in `rag ask` and in the chat alike.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import app
from rag.build import build_index
from rag.chat import Chat
from rag.config import Settings
from rag.models.embed import HashingEmbedder
from rag.search.searcher import Searcher
from rag.store.index import (
    CHUNKS,
    DOCUMENTS,
    MANIFEST,
    VECTORS,
    current_generation,
    load_index,
)
from rag.store.lexical import LEXICAL_DIR, SETTINGS_FILE
from tests.conftest import SAMPLE_FILE

RAG = [sys.executable, "-m", "rag"]


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("corrupt")
    (root / "corpus").mkdir()
    shutil.copy(SAMPLE_FILE, root / "corpus" / SAMPLE_FILE.name)
    build_index(root / "corpus", Settings(index_dir=root / "index", model="hash:256"),
                HashingEmbedder())
    return root / "index"


def _lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def _jsonl(rows: list[dict]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def _edit_chunks(edit: Callable[[list[dict]], None]) -> Callable[[Path], None]:
    def apply(generation: Path) -> None:
        rows = _lines((generation / CHUNKS).read_text(encoding="utf-8"))
        edit(rows)
        (generation / CHUNKS).write_text(_jsonl(rows), encoding="utf-8")
    return apply


def _edit_documents(edit: Callable[[list[dict]], None]) -> Callable[[Path], None]:
    def apply(generation: Path) -> None:
        rows = _lines((generation / DOCUMENTS).read_text(encoding="utf-8"))
        edit(rows)
        (generation / DOCUMENTS).write_text(_jsonl(rows), encoding="utf-8")
    return apply


def _set(key: str, value: object) -> Callable[[list[dict]], None]:
    return lambda rows: rows[0].__setitem__(key, value)


def _set_meta(key: str, value: object) -> Callable[[Path], None]:
    return _edit_documents(lambda rows: rows[0]["meta"].__setitem__(key, value))


def _edit_bm25(name: str, edit: Callable[[Any], Any]) -> Callable[[Path], None]:
    """Rewrite one of the BM25 files bm25s wrote (``bm25/…``) as ``edit`` makes it."""
    def apply(generation: Path) -> None:
        path = generation / LEXICAL_DIR / name
        path.write_text(json.dumps(edit(json.loads(path.read_text(encoding="utf-8")))),
                        encoding="utf-8")
    return apply


DAMAGE: dict[str, Callable[[Path], None]] = {
    "chunks not JSON": lambda g: (g / CHUNKS).write_text("{not json\n", encoding="utf-8"),
    "chunks not UTF-8": lambda g: (g / CHUNKS).write_bytes(b'{"chunk_id": "\xff"}\n'),
    "chunk field missing": _edit_chunks(lambda rows: rows[0].pop("answer")),
    "chunk field unknown": _edit_chunks(_set("extra", 1)),
    "chunk vraag a string": _edit_chunks(_set("vraag", "3")),
    "chunk part past its parts": _edit_chunks(_set("part", 7)),
    "chunk of no document": _edit_chunks(_set("doc_id", "ah-tk-onbekend")),
    "chunk a list": _edit_chunks(lambda rows: rows.__setitem__(0, [1, 2])),  # type: ignore
    "document meta unknown": _edit_documents(lambda rows: rows[0]["meta"].update(x=1)),
    "document meta a list": _edit_documents(_set("meta", [])),
    "vectors garbage": lambda g: (g / VECTORS).write_bytes(b"\0" * 64),
    "document date a number": _set_meta("date_received", 20240902),
    "document vergaderjaar a number": _set_meta("vergaderjaar", 2023),
    "document answerers numbers": _set_meta("answerers", [1, 2]),
    "document ministries a number": _set_meta("ministries", [3]),
    "bm25 vocabulary a list": _edit_bm25("vocab.index.json", lambda vocab: []),
    "bm25 token ids strings": _edit_bm25(
        "vocab.index.json", lambda vocab: {t: str(i) for t, i in vocab.items()}),
    "bm25 token ids past the columns": _edit_bm25(
        "vocab.index.json", lambda vocab: {t: i + 1000 for t, i in vocab.items()}),
    "bm25 parameters empty": _edit_bm25("params.index.json", lambda params: {}),
    "bm25 passage count wrong": _edit_bm25("params.index.json",
                                           lambda params: {**params, "num_docs": 100}),
    "bm25 score type unknown": _edit_bm25("params.index.json",
                                          lambda params: {**params, "dtype": "foo"}),
    "bm25 unknown stemmer": _edit_bm25(SETTINGS_FILE,
                                       lambda settings: {**settings, "stemmer": "klingon"}),
    "bm25 k1 a string": _edit_bm25(SETTINGS_FILE, lambda settings: {**settings, "k1": "a"}),
}
# A damaged field that only a filter reads is asked with that filter.
ASKED_WITH = {"document vergaderjaar a number": ["--year", "2023–2024"]}


def damaged_copy(pristine: Path, target: Path, damage: Callable[[Path], None]) -> Path:
    """A copy of the index with one file damaged and the manifest's checksums updated."""
    shutil.copytree(pristine, target, symlinks=True)
    generation = current_generation(target)
    damage(generation)
    manifest = json.loads((generation / MANIFEST).read_text(encoding="utf-8"))
    for name in manifest["checksums"]:
        manifest["checksums"][name] = hashlib.sha256((generation / name).read_bytes()).hexdigest()
    (generation / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    return target


@pytest.mark.parametrize("kind", sorted(DAMAGE))
def test_rag_ask_on_a_damaged_index_is_one_line(pristine: Path, tmp_path: Path,
                                                kind: str) -> None:
    index = damaged_copy(pristine, tmp_path / "index", DAMAGE[kind])
    result = subprocess.run([*RAG, "ask", "AI-fabriek", "--index", str(index),
                             "--model", "hash:256", *ASKED_WITH.get(kind, [])],
                            capture_output=True, text=True)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert "rag build --full --corpus DIR" in lines[0]


@pytest.mark.parametrize("kind", ["chunk field missing", "document meta unknown",
                                  "vectors garbage", "document date a number",
                                  "bm25 vocabulary a list", "bm25 unknown stemmer",
                                  "bm25 parameters empty"])
def test_the_chat_on_a_damaged_index_is_one_line(pristine: Path, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 kind: str) -> None:
    import gradio as gr

    index = damaged_copy(pristine, tmp_path / "index", DAMAGE[kind])
    # A chat that got as far as serving would not return: its launch records that instead.
    monkeypatch.setattr(gr.Blocks, "launch", lambda self, **kwargs: print("serving"))
    result = CliRunner().invoke(app.main, ["--index", str(index), "--model", "hash:256"])
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(("Error: index ", "Error: BM25 index ")), \
        result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_a_reply_that_cannot_be_rendered_is_a_polite_message(
        pristine: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Data the load checks would refuse, put in memory: whatever fails while answering,
    the chat shows its message and keeps the trace for the log."""
    index = load_index(pristine)
    doc_id, record = next(iter(index.documents.items()))
    index.documents[doc_id] = replace(record, meta=replace(record.meta, date_received=20240902))
    chat = Chat(Searcher(index, HashingEmbedder()))
    with caplog.at_level(logging.ERROR, logger="vraagbaak"):
        reply = chat.reply("AI-fabriek", k=3)
    assert "Er ging iets mis" in reply.html and "Traceback" not in reply.html
    assert not reply.hits
    assert any(r.exc_info and r.exc_info[0] is TypeError for r in caplog.records)
    assert chat.reply("AI-fabriek", k=3).html  # and the chat answers the next question


def test_a_reader_that_goes_away_ends_rag_ask_quietly(pristine: Path) -> None:
    read, write = os.pipe()
    os.close(read)  # the reader is gone before the first line is written
    try:
        result = subprocess.run([*RAG, "ask", "AI-fabriek", "--index", str(pristine),
                                 "--model", "hash:256", "-k", "5"], stdout=write,
                                stderr=subprocess.PIPE, text=True)
    finally:
        os.close(write)
    assert result.stderr == ""
    assert result.returncode == 141  # as a tool stopped by SIGPIPE
