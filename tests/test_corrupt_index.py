"""A damaged index whose checksums were updated to match is still one line, not a traceback.

The checksums prove that the files are those the manifest names; they cannot prove a build
wrote them. Every stored record is checked on load, in `rag ask` and in the chat alike.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

import app
from rag.build import build_index
from rag.config import Settings
from rag.models.embed import HashingEmbedder
from rag.store.index import CHUNKS, DOCUMENTS, MANIFEST, VECTORS, current_generation
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
}


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
                             "--model", "hash:256"], capture_output=True, text=True)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert "rag build --full --corpus DIR" in lines[0]


@pytest.mark.parametrize("kind", ["chunk field missing", "document meta unknown",
                                  "vectors garbage"])
def test_the_chat_on_a_damaged_index_is_one_line(pristine: Path, tmp_path: Path,
                                                 kind: str) -> None:
    index = damaged_copy(pristine, tmp_path / "index", DAMAGE[kind])
    result = CliRunner().invoke(app.main, ["--index", str(index), "--model", "hash:256"])
    assert result.exit_code == 1
    assert result.stderr.strip().startswith("Error: index ")
    assert result.exception is None or isinstance(result.exception, SystemExit)


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
