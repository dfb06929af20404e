"""Folder walking rules and skip reasons."""

from __future__ import annotations

import shutil
from pathlib import Path

from rag.ingest.corpus import corpus_files, load_corpus
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


def test_everything_not_read_is_reported(tmp_path: Path) -> None:
    shutil.copy(SAMPLE_FILE, tmp_path / SAMPLE_FILE.name)
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "HEAD.txt").write_text("x")
    (tmp_path / ".~lock.txt").write_text("x")
    (tmp_path / "oud.doc").write_bytes(b"\xd0\xcf\x11\xe0")
    (tmp_path / "loop").symlink_to(tmp_path, target_is_directory=True)
    (tmp_path / "self.txt").symlink_to(tmp_path / "self.txt")  # a link that points at itself
    (tmp_path / "weg.txt").symlink_to(tmp_path / "bestaat-niet.txt")
    corpus = load_corpus(tmp_path)
    reasons = {s.source: s.reason for s in corpus.skipped}
    assert reasons == {
        ".git": "hidden folder, not read",
        ".~lock.txt": "hidden file, not read",
        "loop": "symlinked folder, not followed",
        "oud.doc": reasons["oud.doc"],
        "self.txt": reasons["self.txt"],
        "weg.txt": reasons["weg.txt"],
    }
    assert reasons["oud.doc"].startswith("unsupported file type .doc") and ".docx" in reasons[
        "oud.doc"]
    assert reasons["self.txt"].startswith("cannot read file")
    assert reasons["weg.txt"].startswith("cannot read file")
    assert [d.doc_id for d in corpus.answer_documents] == ["ah-tk-20232024-2096"]


def test_deep_nesting_and_symlinked_file(tmp_path: Path) -> None:
    deep = tmp_path.joinpath(*[f"d{i}" for i in range(40)])
    deep.mkdir(parents=True)
    shutil.copy(SAMPLE_FILE, deep / SAMPLE_FILE.name)
    outside = tmp_path.parent / f"{tmp_path.name}-buiten"
    outside.mkdir()
    (outside / "ah-tk-20232024-1.txt").write_text(
        "Vraag 1\nWaar staat dit bestand?\nAntwoord 1\nBuiten de corpusmap.\n", encoding="utf-8")
    (tmp_path / "ah-tk-20232024-1.txt").symlink_to(outside / "ah-tk-20232024-1.txt")
    corpus = load_corpus(tmp_path)
    assert corpus.skipped == ()
    assert {d.source for d in corpus.answer_documents} == {
        "ah-tk-20232024-1.txt", (deep / SAMPLE_FILE.name).relative_to(tmp_path).as_posix()}


def test_size_cap(tmp_path: Path) -> None:
    shutil.copy(SAMPLE_FILE, tmp_path / SAMPLE_FILE.name)
    with (tmp_path / "enorm.txt").open("wb") as fh:
        fh.truncate(2 * 1024 * 1024)  # sparse: no disk used
    corpus = load_corpus(tmp_path, max_bytes=1024 * 1024)
    assert {s.source: s.reason for s in corpus.skipped} == {
        "enorm.txt": "too large (2.0 MiB; the limit is 1 MiB)"}


def test_duplicate_id_keeps_the_preferred_format(tmp_path: Path) -> None:
    from tests.builders import XML_SAMPLE

    (tmp_path / "a").mkdir()
    shutil.copy(SAMPLE_FILE, tmp_path / "a" / SAMPLE_FILE.name)  # first in path order
    shutil.copy(XML_SAMPLE, tmp_path / XML_SAMPLE.name)
    corpus = load_corpus(tmp_path)
    assert [d.source for d in corpus.answer_documents] == [XML_SAMPLE.name]
    assert {s.source: s.reason for s in corpus.skipped} == {
        f"a/{SAMPLE_FILE.name}":
            f"duplicate document id ah-tk-20232024-2096 (kept {XML_SAMPLE.name})"}
