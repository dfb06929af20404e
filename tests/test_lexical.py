from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from rag.build import build_index
from rag.config import Settings
from rag.errors import IndexError_
from rag.models.embed import HashingEmbedder
from rag.store.index import current_generation, load_index, read_manifest
from rag.store.lexical import LEXICAL_DIR, build_lexical, load_lexical, save_lexical
from tests.conftest import SAMPLE_DIR

PASSAGES = [
    "De werkgevers zijn huiverig om kunstmatige intelligentie in te zetten.",
    "Het station in Zwolle opent in maart 2026.",
    "Wij investeren in waterberging tegen droogte bij boeren.",
]


def test_tokens_are_stemmed_and_dutch_stopwords_dropped() -> None:
    index = build_lexical(PASSAGES)
    tokens = index.tokenize("De werkgever en de werkgevers")
    assert "de" not in tokens and "en" not in tokens
    assert len(set(tokens)) == 1  # singular and plural share a stem


def test_scores_find_the_passage_sharing_stemmed_words() -> None:
    index = build_lexical(PASSAGES)
    scores = index.scores("Waarom is een werkgever huiverig voor AI?")
    assert int(np.argmax(scores)) == 0 and scores[1] == 0
    assert not index.scores("xyzzy").any()
    assert not index.scores("de het een").any()  # only stopwords


def test_save_and_load_give_the_same_scores(tmp_path: Path) -> None:
    index = build_lexical(PASSAGES)
    names = save_lexical(index, tmp_path / "bm25")
    assert "lexical.json" in names and "vocab.index.json" in names
    loaded = load_lexical(tmp_path / "bm25")
    assert loaded.settings == index.settings
    np.testing.assert_allclose(loaded.scores("droogte boeren"), index.scores("droogte boeren"))


def test_missing_lexical_folder_names_the_fix(tmp_path: Path) -> None:
    with pytest.raises(IndexError_, match="rag build"):
        load_lexical(tmp_path / "nothing")


def test_empty_corpus_is_refused() -> None:
    with pytest.raises(IndexError_):
        build_lexical([])


def test_build_stores_bm25_in_the_generation_with_checksums(tmp_path: Path) -> None:
    settings = Settings(index_dir=tmp_path / "idx", model="hash:256")
    build_index(SAMPLE_DIR, settings, HashingEmbedder(256))
    gen = current_generation(tmp_path / "idx")
    manifest = read_manifest(tmp_path / "idx")
    stored = [name for name in manifest.checksums if name.startswith(f"{LEXICAL_DIR}/")]
    assert f"{LEXICAL_DIR}/lexical.json" in stored and len(stored) >= 5
    lexical = load_lexical(gen / LEXICAL_DIR)
    assert lexical.size == manifest.n_chunks
    params = json.loads((gen / LEXICAL_DIR / "lexical.json").read_text())
    assert params["stemmer"] == "dutch"
    # a damaged BM25 file is caught by the manifest checksums like any other index file
    vocab = gen / LEXICAL_DIR / "vocab.index.json"
    vocab.write_text(vocab.read_text()[:-5])
    with pytest.raises(IndexError_, match="missing or corrupt"):
        load_index(tmp_path / "idx")
