"""Folder walking rules and skip reasons."""

from __future__ import annotations

import shutil
from pathlib import Path

from rag.corpus import corpus_files, load_corpus
from tests.conftest import SAMPLE_FILE


def test_walk_is_recursive_sorted_and_skips_hidden_and_linked_folders(tmp_path: Path) -> None:
    (tmp_path / "b" / "deep" / "deeper").mkdir(parents=True)
    (tmp_path / ".hidden").mkdir()
    (tmp_path / "b" / "deep" / "deeper" / "x.md").write_text("x")
    (tmp_path / "a.txt").write_text("x")
    (tmp_path / ".secret.txt").write_text("x")
    (tmp_path / ".hidden" / "h.txt").write_text("x")
    (tmp_path / "notes.docx.bak").write_text("x")
    (tmp_path / "loop").symlink_to(tmp_path, target_is_directory=True)
    (tmp_path / "link.txt").symlink_to(tmp_path / "a.txt")
    found = [p.relative_to(tmp_path).as_posix() for p in corpus_files(tmp_path)]
    assert found == ["a.txt", "link.txt", "b/deep/deeper/x.md"]


def test_duplicate_ids_and_bad_files_are_skipped_with_reasons(tmp_path: Path) -> None:
    shutil.copy(SAMPLE_FILE, tmp_path / SAMPLE_FILE.name)
    (tmp_path / "copy").mkdir()
    shutil.copy(SAMPLE_FILE, tmp_path / "copy" / SAMPLE_FILE.name)
    (tmp_path / "empty.txt").write_text("")
    (tmp_path / "binary.txt").write_bytes(bytes(range(256)) * 20)
    corpus = load_corpus(tmp_path)
    assert corpus.files_read == 4
    assert [d.doc_id for d in corpus.answer_documents] == ["ah-tk-20232024-2096"]
    reasons = {s.source: s.reason for s in corpus.skipped}
    assert set(reasons) == {"copy/ah-tk-20232024-2096.txt", "empty.txt", "binary.txt"}
    assert reasons["copy/ah-tk-20232024-2096.txt"].startswith("duplicate document id")
