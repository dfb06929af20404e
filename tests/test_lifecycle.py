"""Index lifecycle: incremental rebuilds, atomic swaps under real kills, locks, verification."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pytest

from rag.build import build_index
from rag.config import Settings
from rag.errors import IndexError_
from rag.models.embed import HashingEmbedder
from rag.store.folder import IndexFolder
from rag.store.index import MANIFEST, VECTORS, current_generation, load_index
from rag.store.lock import build_lock
from tests.conftest import SAMPLE_FILE


class CountingEmbedder(HashingEmbedder):
    """The hashing embedder, counting the passages it is asked to embed."""

    def __init__(self, dim: int = 256) -> None:
        super().__init__(dim)
        self.embedded: list[str] = []

    def embed_documents(self, texts: Sequence[str],
                        progress: Callable[[int], None] | None = None) -> np.ndarray:
        self.embedded.extend(texts)
        return super().embed_documents(texts, progress)


def make_corpus(folder: Path, n: int) -> Path:
    """``n`` copies of the sample under distinct document ids."""
    folder.mkdir(parents=True, exist_ok=True)
    text = SAMPLE_FILE.read_text(encoding="utf-8")
    for i in range(n):
        (folder / f"ah-tk-20232024-{1000 + i}.txt").write_text(
            text.replace("Ja, ik ben bekend met dit artikel.", f"Ja (kopie {i})."),
            encoding="utf-8")
    return folder


def snapshot(index_dir: Path) -> tuple[str, list[str]]:
    index = load_index(index_dir)
    return index.manifest.corpus_hash, [c.chunk_id for c in index.chunks]


def test_incremental_build_embeds_only_what_changed(tmp_path: Path) -> None:
    corpus = make_corpus(tmp_path / "corpus", 3)
    settings = Settings(index_dir=tmp_path / "index", model="hash:256")
    first = build_index(corpus, settings, CountingEmbedder())
    n = first.chunks
    assert (first.changes.added, first.changes.embedded) == (n, n)

    embedder = CountingEmbedder()
    again = build_index(corpus, settings, embedder)
    assert embedder.embedded == []
    assert (again.changes.unchanged, again.changes.reused) == (n, n)

    doc = corpus / "ah-tk-20232024-1001.txt"
    doc.write_text(doc.read_text().replace("Ja (kopie 1).", "Nee (kopie 1)."))
    (corpus / "ah-tk-20232024-1002.txt").unlink()
    embedder = CountingEmbedder()
    report = build_index(corpus, settings, embedder)
    assert len(embedder.embedded) == 1 and "Nee (kopie 1)." in embedder.embedded[0]
    per_doc = n // 3
    assert (report.changes.changed, report.changes.removed) == (1, per_doc)
    assert report.chunks == 2 * per_doc
    index = load_index(settings.index_dir)
    assert {c.doc_id for c in index.chunks} == {"ah-tk-20232024-1000", "ah-tk-20232024-1001"}
    # The reused and the new vectors are exactly what a full build computes.
    full = build_index(corpus, Settings(index_dir=tmp_path / "full", model="hash:256"),
                       HashingEmbedder())
    assert full.chunks == report.chunks
    np.testing.assert_allclose(index.vectors(), load_index(tmp_path / "full").vectors(),
                               atol=1e-6)


def test_renamed_file_costs_no_embedding_and_leaves_no_trace(tmp_path: Path) -> None:
    corpus = make_corpus(tmp_path / "corpus", 1)
    settings = Settings(index_dir=tmp_path / "index", model="hash:256")
    build_index(corpus, settings, CountingEmbedder())
    (corpus / "ah-tk-20232024-1000.txt").rename(corpus / "ah-tk-20232024-2000.txt")
    embedder = CountingEmbedder()
    report = build_index(corpus, settings, embedder)
    assert embedder.embedded == []
    assert report.changes.added == report.changes.removed == report.chunks
    assert {c.doc_id for c in load_index(settings.index_dir).chunks} == {"ah-tk-20232024-2000"}


def test_full_flag_and_model_change_re_embed_everything(tmp_path: Path) -> None:
    corpus = make_corpus(tmp_path / "corpus", 1)
    settings = Settings(index_dir=tmp_path / "index", model="hash:256")
    n = build_index(corpus, settings, CountingEmbedder()).chunks
    embedder = CountingEmbedder()
    report = build_index(corpus, settings, embedder, full=True)
    assert len(embedder.embedded) == n and report.changes.note == "full rebuild requested"
    embedder = CountingEmbedder(128)
    report = build_index(corpus, settings, embedder)
    assert len(embedder.embedded) == n and "model changed" in report.changes.note


def _build_cmd(corpus: Path, index_dir: Path) -> list[str]:
    return [sys.executable, "-m", "rag", "build", "--corpus", str(corpus),
            "--index", str(index_dir), "--model", "hash:256"]


@pytest.mark.slow
def test_killed_builds_leave_the_previous_index_loadable_and_unchanged(tmp_path: Path) -> None:
    small = make_corpus(tmp_path / "small", 2)
    big = make_corpus(tmp_path / "big", 150)
    index_dir = tmp_path / "index"
    subprocess.run(_build_cmd(small, index_dir), check=True, capture_output=True)
    before = snapshot(index_dir)
    # The shorter of two timing builds: one slowed by other work on the machine would make
    # the kills below land late, after the swap, and test less.
    durations = []
    for attempt in range(2):
        timing = tmp_path / f"timing-{attempt}"
        started = time.perf_counter()
        subprocess.run(_build_cmd(big, timing), check=True, capture_output=True)
        durations.append(time.perf_counter() - started)
    duration = min(durations)
    complete = snapshot(timing)
    interrupted = 0
    # Kills spread over the whole build, more of them early: on a busy machine a build's
    # pace varies from run to run, and late kills may land after the swap.
    for fraction in (0.05, 0.1, 0.15, 0.25, 0.35, 0.55, 0.7, 0.8, 0.9, 0.95):
        for sig in (signal.SIGKILL, signal.SIGINT):
            proc = subprocess.Popen(_build_cmd(big, index_dir), stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
            time.sleep(duration * fraction)
            proc.send_signal(sig)
            proc.wait(timeout=60)
            # Either the old index, whole, or (killed after the swap) the new one, whole.
            state = snapshot(index_dir)
            assert state in (before, complete), (fraction, sig)
            if state == complete:
                subprocess.run(_build_cmd(small, index_dir), check=True, capture_output=True)
                assert snapshot(index_dir) == before
            else:
                interrupted += 1
    assert interrupted >= 5, "the kills should mostly land before the swap"
    # And once exactly while the new generation is being written.
    proc = subprocess.Popen(_build_cmd(big, index_dir), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    generations = {p.name for p in index_dir.glob("gen-*")}
    while proc.poll() is None and {p.name for p in index_dir.glob("gen-*")} == generations:
        time.sleep(0.002)
    proc.kill()
    proc.wait(timeout=60)
    assert snapshot(index_dir) in (before, complete)
    # The next build cleans up what the killed ones left and succeeds.
    subprocess.run(_build_cmd(big, index_dir), check=True, capture_output=True)
    assert sorted(p.name for p in index_dir.iterdir()) == sorted(
        [".build.lock", "current", "vraagbaak-index.json", current_generation(index_dir).name])


def test_second_build_is_refused_while_one_runs(tmp_path: Path) -> None:
    corpus = make_corpus(tmp_path / "corpus", 1)
    index_dir = tmp_path / "index"
    with build_lock(IndexFolder.claim(index_dir).path):
        result = subprocess.run(_build_cmd(corpus, index_dir), capture_output=True, text=True)
    assert result.returncode == 1
    assert "another build is already writing" in result.stderr
    assert f"(pid {os.getpid()})" in result.stderr
    assert subprocess.run(_build_cmd(corpus, index_dir), capture_output=True).returncode == 0


@pytest.mark.parametrize("damage", ["truncate", "flip", "delete", "version", "garbage"])
def test_damaged_index_is_refused_with_the_fix(tmp_path: Path, damage: str) -> None:
    settings = Settings(index_dir=tmp_path / "index", model="hash:256")
    build_index(make_corpus(tmp_path / "corpus", 1), settings, HashingEmbedder())
    generation = current_generation(settings.index_dir)
    vectors = generation / VECTORS
    if damage == "truncate":
        vectors.write_bytes(vectors.read_bytes()[:100])
    elif damage == "flip":
        data = bytearray(vectors.read_bytes())
        data[len(data) // 2] ^= 0xFF
        vectors.write_bytes(bytes(data))
    elif damage == "delete":
        vectors.unlink()
    elif damage == "version":
        manifest = json.loads((generation / MANIFEST).read_text())
        manifest["format_version"] = 99
        (generation / MANIFEST).write_text(json.dumps(manifest))
    else:
        (generation / MANIFEST).write_text("{not json")
    with pytest.raises(IndexError_, match=r"rag build (--full )?--corpus"):
        load_index(settings.index_dir)


def test_index_copied_elsewhere_still_loads(tmp_path: Path) -> None:
    settings = Settings(index_dir=tmp_path / "index", model="hash:256")
    build_index(make_corpus(tmp_path / "corpus", 1), settings, HashingEmbedder())
    shutil.copytree(settings.index_dir, tmp_path / "copy", symlinks=True)
    assert snapshot(tmp_path / "copy") == snapshot(settings.index_dir)
