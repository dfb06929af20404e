from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rag.errors import IndexError_
from rag.store.folder import MARKER
from rag.store.index import (
    CHUNKS,
    VECTORS,
    current_generation,
    load_index,
    read_manifest,
    save_index,
)
from rag.types import Chunk, ChunkSettings, DocRecord, DocumentMeta
from tests.helpers import build_small_index, make_document


def test_round_trip_keeps_chunks_documents_and_vectors(tmp_path: Path) -> None:
    chunks, vectors = build_small_index(tmp_path / "idx")
    index = load_index(tmp_path / "idx", expected_model_id="hash:256")
    assert index.chunks == chunks
    assert index.documents["ah-tk-20232024-100"].meta == make_document().meta
    np.testing.assert_allclose(index.vectors(), vectors, rtol=0, atol=1e-6)
    manifest = index.manifest
    assert (manifest.model_id, manifest.dim, manifest.n_chunks) == ("hash:256", 256, 5)
    assert manifest.chunking.max_words == 300


def test_other_model_is_refused_with_the_fix(tmp_path: Path) -> None:
    build_small_index(tmp_path / "idx")
    with pytest.raises(IndexError_, match=r"built with model 'hash:256'.*rag build"):
        load_index(tmp_path / "idx", expected_model_id="multilingual-e5-small@x")


def test_missing_index_names_the_build_command(tmp_path: Path) -> None:
    with pytest.raises(IndexError_, match=r"no index at .*rag build --corpus"):
        load_index(tmp_path / "nothing")


def test_corrupt_file_is_refused(tmp_path: Path) -> None:
    build_small_index(tmp_path / "idx")
    chunks_file = current_generation(tmp_path / "idx") / CHUNKS
    chunks_file.write_text(chunks_file.read_text()[:-10])
    with pytest.raises(IndexError_, match=r"missing or corrupt.*rag build --full"):
        load_index(tmp_path / "idx")


def test_rebuild_swaps_generations_and_leaves_one(tmp_path: Path) -> None:
    build_small_index(tmp_path / "idx", [make_document(n=2)])
    first = current_generation(tmp_path / "idx")
    build_small_index(tmp_path / "idx", [make_document(n=5)])
    assert current_generation(tmp_path / "idx") != first
    assert not first.exists()
    assert read_manifest(tmp_path / "idx").n_chunks == 5
    assert sorted(p.name for p in (tmp_path / "idx").iterdir()) == sorted([
        "current", MARKER, current_generation(tmp_path / "idx").name])


def test_vectors_copy_outlives_its_index_and_view_matches(tmp_path: Path) -> None:
    _, vectors = build_small_index(tmp_path / "idx")
    index = load_index(tmp_path / "idx")
    view = index.vectors_view()
    np.testing.assert_array_equal(view, index.vectors())
    assert not view.flags.writeable
    copy = load_index(tmp_path / "idx").vectors()  # its Index is gone at once
    np.testing.assert_allclose(copy, vectors, atol=1e-6)


def test_vectors_are_memory_mapped_not_copied(tmp_path: Path) -> None:
    """Processes serving one generation share its vector file instead of each holding it."""
    n, dim = 40_000, 256
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((n, dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    chunks = [Chunk(f"d#v{i}", "d", (i + 1,), 1, 1, "Vraag?", f"Antwoord {i}.")
              for i in range(n)]
    save_index(tmp_path / "idx", model_id="random", vectors=vectors, chunks=chunks,
               documents=[DocRecord("d", "d.txt", DocumentMeta())], chunking=ChunkSettings())
    index = load_index(tmp_path / "idx")
    view = index.vectors_view()
    assert float(view[:, 0].sum()) == pytest.approx(float(vectors[:, 0].sum()), rel=1e-4)
    assert not view.flags.writeable
    mapped = str((current_generation(tmp_path / "idx") / VECTORS).resolve())
    maps = Path("/proc/self/maps").read_text()
    assert any(line.endswith(mapped) for line in maps.splitlines()), "vectors not mapped"
