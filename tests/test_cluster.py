"""The build on a Dask cluster: the same index as an in-process build, written locally.

Clusters here are `LocalCluster`s of worker processes on this machine, reached either through
``--workers N`` or, as a cluster of several machines would be, through ``--scheduler URL``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from rag.store.index import load_index
from tests.conftest import SAMPLE_FILE

distributed = pytest.importorskip("distributed")
RAG = [sys.executable, "-m", "rag"]


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*RAG, *args], cwd=cwd, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("cluster") / "corpus"
    folder.mkdir()
    text = SAMPLE_FILE.read_text(encoding="utf-8")
    for i in range(6):
        (folder / f"ah-tk-20232024-{5000 + i}.txt").write_text(
            text.replace("Ja, ik ben bekend met dit artikel.", f"Ja (kopie {i})."),
            encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    """A running cluster of two one-thread worker processes, as `dask scheduler` and
    `dask worker` would start on other machines."""
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        yield cluster.scheduler_address


def _same_index(a: Path, b: Path, atol: float) -> None:
    first, second = load_index(a), load_index(b)
    assert [c.chunk_id for c in first.chunks] == [c.chunk_id for c in second.chunks]
    assert first.manifest.model_id == second.manifest.model_id
    assert first.manifest.corpus_hash == second.manifest.corpus_hash
    assert np.abs(first.vectors() - second.vectors()).max() <= atol


def test_a_local_cluster_builds_the_same_index(corpus: Path, tmp_path: Path) -> None:
    here = run("build", "--corpus", str(corpus), "--index", "here", "--model", "hash:256",
               cwd=tmp_path)
    there = run("build", "--corpus", str(corpus), "--index", "there", "--model", "hash:256",
                "--workers", "2", cwd=tmp_path)
    assert here.returncode == 0 and there.returncode == 0, there.stderr
    assert "84 embedded" in there.stdout
    _same_index(tmp_path / "here", tmp_path / "there", atol=0.0)


def test_a_running_cluster_embeds_only_what_changed(corpus: Path, tmp_path: Path,
                                                    scheduler: str) -> None:
    copy = tmp_path / "corpus"
    shutil.copytree(corpus, copy)
    first = run("build", "--corpus", str(copy), "--index", "idx", "--model", "hash:256",
                "--scheduler", scheduler, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    doc = copy / "ah-tk-20232024-5001.txt"
    doc.write_text(doc.read_text(encoding="utf-8").replace("Ja (kopie 1).", "Nee."),
                   encoding="utf-8")
    again = run("build", "--corpus", str(copy), "--index", "idx", "--model", "hash:256",
                "--scheduler", scheduler, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "1 embedded, 83 vectors reused" in again.stdout


def test_one_scheduler_serves_builds_of_different_models(corpus: Path, tmp_path: Path,
                                                        scheduler: str) -> None:
    for model in ("hash:256", "hash:128", "hash:256"):
        done = run("build", "--corpus", str(corpus), "--index", model.replace(":", "-"),
                   "--model", model, "--full", "--scheduler", scheduler, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        manifest = json.loads((tmp_path / model.replace(":", "-") / "current" /
                               "manifest.json").read_text(encoding="utf-8"))
        assert manifest["model_id"] == model and manifest["dim"] == int(model[5:])


def test_cluster_options_and_errors_are_one_line(corpus: Path, tmp_path: Path) -> None:
    both = run("build", "--corpus", str(corpus), "--index", "x", "--model", "hash:256",
               "--workers", "2", "--scheduler", "tcp://127.0.0.1:1", cwd=tmp_path)
    assert both.returncode == 2 and "not both" in both.stderr
    gone = run("build", "--corpus", str(corpus), "--index", "y", "--model", "hash:256",
               "--scheduler", "tcp://127.0.0.1:9", cwd=tmp_path)
    assert gone.returncode == 1
    assert gone.stderr.strip().splitlines()[-1].startswith(
        "Error: cannot reach the Dask scheduler at tcp://127.0.0.1:9")
    assert not (tmp_path / "y").exists()


@pytest.mark.slow
def test_the_real_model_gives_the_same_vectors_on_a_cluster(corpus: Path, tmp_path: Path,
                                                            scheduler: str) -> None:
    here = run("build", "--corpus", str(corpus), "--index", "here", cwd=tmp_path)
    there = run("build", "--corpus", str(corpus), "--index", "there", "--scheduler",
                scheduler, cwd=tmp_path)
    assert here.returncode == 0 and there.returncode == 0, there.stderr
    _same_index(tmp_path / "here", tmp_path / "there", atol=1e-5)
