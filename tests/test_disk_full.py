"""A full disk at any write a build makes: one line, exit 1, the previous index untouched.

Two ways of filling the disk. ``FullDisk`` fails the n-th write under the index folder
(opening a file for writing, creating a folder or a link, renaming), and the tests walk n
over every write a build makes, so no write site is left out. A real small tmpfs (when this
machine lets the test mount one) checks the same against the kernel's own ENOSPC.
"""

from __future__ import annotations

import builtins
import errno
import io
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import app
from rag.cli import main
from rag.store.folder import CURRENT, MARKER, IndexFolder
from rag.store.index import load_index
from rag.store.lock import LOCK_FILE
from tests.conftest import SAMPLE_FILE

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT
_GROWING_FLAGS = os.O_TRUNC | os.O_APPEND | os.O_EXCL


class FullDisk:
    """Counts the writes under ``root`` and fails the one numbered ``at`` with ENOSPC (with
    ``full``: that one and every later one, as a disk that is full for good).

    Opening a file that exists without truncating it takes no space, as on a real disk: a
    build opens its lock file so, and an up-to-date build writes nothing else.
    """

    def __init__(self, root: Path, at: int | None, full: bool = False) -> None:
        self.root = str(root)
        self.at = at
        self.full = full
        self.count = 0
        self.hit = False

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        real_open, real_os_open = builtins.open, os.open

        def opener(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
            if isinstance(file, (str, os.PathLike)) and set(mode) & set("wxa+"):
                self._write(file)
            return real_open(file, mode, *args, **kwargs)

        def os_open(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
            if flags & _WRITE_FLAGS and (flags & _GROWING_FLAGS or not os.path.exists(path)):
                self._write(path)
            return real_os_open(path, flags, *args, **kwargs)

        monkeypatch.setattr(builtins, "open", opener)
        monkeypatch.setattr(io, "open", opener)
        monkeypatch.setattr(os, "open", os_open)
        for name in ("mkdir", "symlink", "replace", "rename"):
            real = getattr(os, name)
            monkeypatch.setattr(os, name, self._wrap(real))

    def _wrap(self, real: Any) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            for arg in args[:2]:
                if isinstance(arg, (str, os.PathLike)):
                    self._write(arg)
                    break
            return real(*args, **kwargs)
        return call

    def _write(self, path: Any) -> None:
        if not os.path.abspath(os.fspath(path)).startswith(self.root):
            return
        failing = self.count == self.at or (self.full and self.count > (self.at or 0))
        if failing:
            self.hit = True
            self.count += 1
            raise OSError(errno.ENOSPC, "No space left on device", os.fspath(path))
        self.count += 1


def corpus(folder: Path, copies: int) -> Path:
    folder.mkdir(parents=True)
    text = SAMPLE_FILE.read_text(encoding="utf-8")
    for i in range(copies):
        (folder / f"ah-tk-20232024-{3000 + i}.txt").write_text(text, encoding="utf-8")
    return folder


def build(corpus_dir: Path, index: Path) -> Any:
    return CliRunner().invoke(main, ["build", "--corpus", str(corpus_dir), "--index", str(index),
                                     "--model", "hash:256"])


def state(index: Path) -> dict[str, object]:
    """The index folder's entries, and the loaded index's identity."""
    loaded = load_index(index)
    entries = {p.name: (os.readlink(p) if p.is_symlink() else p.is_dir())
               for p in index.iterdir()}
    return {"entries": entries, "hash": loaded.manifest.corpus_hash,
            "chunks": [c.chunk_id for c in loaded.chunks]}


def assert_one_line_disk_full(result: Any) -> None:
    assert result.exit_code == 1, result.output
    # The progress bar's label may come first; the error is one line of its own.
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1 and result.stderr.rstrip().endswith(errors[0]), result.stderr
    assert "No space left on device" in errors[0]
    assert "Traceback" not in result.output


def test_disk_full_at_every_write_of_a_rebuild(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    small, big = corpus(tmp_path / "small", 1), corpus(tmp_path / "big", 3)
    index = tmp_path / "index"
    assert build(small, index).exit_code == 0
    before = state(index)
    counter = FullDisk(index, at=None)
    with monkeypatch.context() as patch:
        counter.install(patch)
        assert build(big, index).exit_code == 0  # a rebuild: the writes to walk over
    assert build(small, index).exit_code == 0
    sites = counter.count
    assert sites >= 10, "vectors, chunks, documents, BM25 files, manifest, register, link"
    assert state(index)["hash"] == before["hash"]
    before = state(index)
    failed = 0
    for at in range(sites):
        fault = FullDisk(index, at)
        with monkeypatch.context() as patch:
            fault.install(patch)
            result = build(big, index)
        assert fault.hit, at
        if result.exit_code == 0:
            # Only tidying after the swap can fail without failing the build: the new index
            # is then in place, whole, and the next build finishes the tidying.
            assert load_index(index).manifest.n_documents == 3, at
            assert build(small, index).exit_code == 0
            after = state(index)
            assert after["hash"] == before["hash"]
            assert set(after["entries"]) == {CURRENT, MARKER, LOCK_FILE,  # type: ignore
                                             os.readlink(index / CURRENT)}
            before = after
            continue
        failed += 1
        assert_one_line_disk_full(result)
        assert state(index) == before, f"write {at} of {sites}"
    assert failed >= sites - 3
    assert build(big, index).exit_code == 0


def test_disk_full_at_every_write_of_a_first_build_leaves_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    small = corpus(tmp_path / "small", 1)
    counter = FullDisk(tmp_path / "count", at=None)
    with monkeypatch.context() as patch:
        counter.install(patch)
        assert build(small, tmp_path / "count").exit_code == 0
    for at in range(counter.count):
        index = tmp_path / f"first-{at}"
        fault = FullDisk(index, at)
        with monkeypatch.context() as patch:
            fault.install(patch)
            result = build(small, index)
        assert fault.hit, at
        if result.exit_code == 0:  # tidying after the swap: the index is there, whole
            assert load_index(index).manifest.n_documents == 1
            continue
        assert_one_line_disk_full(result)
        assert not index.exists(), f"write {at}: {sorted(os.listdir(index))}"


@pytest.fixture
def small_disk(tmp_path: Path) -> Any:
    """A 160 KiB tmpfs mounted for the test, when this machine allows it."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=160k", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_really_full_disk(tmp_path: Path, small_disk: Path) -> None:
    index = small_disk / "index"
    assert build(corpus(tmp_path / "one", 1), index).exit_code == 0
    before = state(index)
    result = build(corpus(tmp_path / "many", 12), index)
    assert_one_line_disk_full(result)
    assert state(index) == before
    assert set(before["entries"]) == {CURRENT, MARKER, LOCK_FILE,  # type: ignore[call-overload]
                                      os.readlink(index / CURRENT)}


def serve(monkeypatch: pytest.MonkeyPatch, args: list[str]) -> tuple[Any, list[dict]]:
    """``python app.py ARGS`` up to serving: Gradio's launch records that it was reached."""
    import gradio as gr

    served: list[dict] = []
    monkeypatch.setattr(gr.Blocks, "launch", lambda self, **kwargs: served.append(kwargs))
    result = CliRunner().invoke(app.main, ["--model", "hash:256", *args], env={"RAG_AUTH": ""})
    return result, served


def add_a_document(folder: Path) -> None:
    shutil.copy(folder / "ah-tk-20232024-3000.txt", folder / "ah-tk-20232024-3999.txt")


def test_an_up_to_date_build_on_a_full_disk_writes_nothing(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    docs, index = corpus(tmp_path / "docs", 1), tmp_path / "index"
    assert build(docs, index).exit_code == 0
    before = state(index)
    disk = FullDisk(index, at=0, full=True)
    with monkeypatch.context() as patch:
        disk.install(patch)
        result = build(docs, index)
    assert result.exit_code == 0, result.output
    assert "is up to date" in result.stdout
    assert disk.count == 0  # not one write was attempted
    assert state(index) == before


def test_tidying_on_a_full_disk_is_one_line(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """A killed build left a generation: removing it must record that, which a full disk
    refuses; the line says so, and the index stays whole."""
    docs, index = corpus(tmp_path / "docs", 1), tmp_path / "index"
    assert build(docs, index).exit_code == 0
    before = state(index)
    IndexFolder.claim(index).new_generation()
    with monkeypatch.context() as patch:
        FullDisk(index, at=0, full=True).install(patch)
        result = build(docs, index)
    assert_one_line_disk_full(result)
    assert f"could not write the index in {index}" in result.stderr
    assert "the previous index is unchanged" in result.stderr
    assert state(index)["chunks"] == before["chunks"]
    assert build(docs, index).exit_code == 0  # with space again, the tidying is finished
    assert state(index) == before


def test_the_chat_serves_its_index_when_the_update_cannot_be_written(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The folder changed but the update cannot be written: a warning, and the chat serves
    the index that is there; with nothing to update, a full disk is no matter at all."""
    docs, index = corpus(tmp_path / "docs", 1), tmp_path / "index"
    assert build(docs, index).exit_code == 0
    before = state(index)
    args = ["--corpus", str(docs), "--index", str(index),
            "--feedback", str(tmp_path / "feedback.sqlite")]
    for changed in (True, False):
        if changed:
            add_a_document(docs)
        else:
            (docs / "ah-tk-20232024-3999.txt").unlink()  # the folder as the index has it
        with monkeypatch.context() as patch:
            FullDisk(index, at=0, full=True).install(patch)
            result, served = serve(patch, args)
        assert result.exit_code == 0, result.output
        assert served, "the chat serves"
        assert "Traceback" not in result.output
        warnings = [line for line in result.stderr.splitlines()
                    if line.startswith("Warning: could not write the index")]
        assert len(warnings) == changed, result.stderr
        if changed:
            assert "No space left on device" in warnings[0]
            assert "the previous index is unchanged" in warnings[0]
        assert "14 passages from 1 document(s)" in result.stderr
        assert state(index) == before


def test_the_chat_cannot_build_its_first_index_on_a_full_disk(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    docs, index = corpus(tmp_path / "docs", 1), tmp_path / "index"
    with monkeypatch.context() as patch:
        FullDisk(tmp_path, at=0, full=True).install(patch)
        result, served = serve(patch, ["--corpus", str(docs), "--index", str(index)])
    assert result.exit_code == 1 and not served
    errors = result.stderr.strip().splitlines()[-1:]
    assert errors[0].startswith("Error: ") and "No space left on device" in errors[0]
    assert "Traceback" not in result.output
    assert not index.exists()


def fill(disk: Path) -> None:
    """Write zeros into ``disk`` until the kernel says it is full."""
    fd = os.open(disk / "filler", os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError as exc:
        assert exc.errno == errno.ENOSPC
    finally:
        os.close(fd)


def test_a_really_full_disk_builds_what_is_up_to_date_and_the_chat_serves(
        tmp_path: Path, small_disk: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    docs, index = corpus(tmp_path / "docs", 1), small_disk / "index"
    assert build(docs, index).exit_code == 0
    before = state(index)
    fill(small_disk)
    result = build(docs, index)
    assert result.exit_code == 0, result.output
    assert "is up to date" in result.stdout
    add_a_document(docs)
    result = build(docs, index)
    assert_one_line_disk_full(result)
    assert "the previous index is unchanged" in result.stderr
    result, served = serve(monkeypatch, ["--corpus", str(docs), "--index", str(index),
                                         "--feedback", str(tmp_path / "feedback.sqlite")])
    assert result.exit_code == 0 and served, result.output
    assert "Warning: could not write the index" in result.stderr
    assert state(index) == before
