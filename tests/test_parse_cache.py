"""Work proportional to the change: unchanged files are not read again, unchanged bytes are
not parsed again, and an untouched corpus is not rebuilt at all."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from rag.build import PARSE_CACHE, build_index
from rag.config import Settings
from rag.ingest import cache as cache_module
from rag.ingest.cache import ParseCache, read_cache
from rag.ingest.corpus import corpus_stamp, load_corpus
from rag.models.embed import HashingEmbedder
from rag.store.index import current_generation, load_index
from tests.conftest import SAMPLE_FILE


def corpus(folder: Path, copies: int = 4) -> Path:
    folder.mkdir(parents=True)
    text = SAMPLE_FILE.read_text(encoding="utf-8")
    for i in range(copies):
        (folder / f"ah-tk-20232024-{4000 + i}.txt").write_text(
            text.replace("Ja, ik ben bekend met dit artikel.", f"Ja (kopie {i})."),
            encoding="utf-8")
    (folder / "kapot.pdf").write_bytes(b"%PDF-1.4 cut off")
    (folder / "kv-tk-2024Z00002.txt").write_text(
        "Vragen van het lid Jansen (CDA) aan de Minister van Financiën over belastingen "
        "(ingezonden 1 mei 2024).\n\n1\nKent u het bericht?\n", encoding="utf-8")
    return folder


def settings(tmp_path: Path) -> Settings:
    return Settings(index_dir=tmp_path / "index", model="hash:256")


def test_an_untouched_corpus_is_not_rebuilt(tmp_path: Path) -> None:
    docs = corpus(tmp_path / "c")
    first = build_index(docs, settings(tmp_path), HashingEmbedder())
    assert (first.parsed, first.unread) == (6, 0) and not first.up_to_date
    generation = current_generation(tmp_path / "index")
    again = build_index(docs, settings(tmp_path), HashingEmbedder())
    assert again.up_to_date and again.documents == 4 and again.chunks == first.chunks
    assert current_generation(tmp_path / "index") == generation  # nothing was written
    full = build_index(docs, settings(tmp_path), HashingEmbedder(), full=True)
    assert not full.up_to_date and current_generation(tmp_path / "index") != generation
    assert (full.unread, full.parsed) == (6, 0)  # --full re-embeds; the parses still hold


def test_only_the_edited_file_is_parsed_and_a_touched_one_only_read(tmp_path: Path) -> None:
    docs = corpus(tmp_path / "c")
    build_index(docs, settings(tmp_path), HashingEmbedder())
    edited = docs / "ah-tk-20232024-4001.txt"
    edited.write_text(edited.read_text(encoding="utf-8").replace("Ja (kopie 1).", "Nee."),
                      encoding="utf-8")
    touched = docs / "ah-tk-20232024-4002.txt"
    os.utime(touched, ns=(touched.stat().st_atime_ns, touched.stat().st_mtime_ns + 10**9))
    report = build_index(docs, settings(tmp_path), HashingEmbedder())
    assert (report.unread, report.rehashed, report.parsed) == (4, 1, 1)
    assert report.changes.changed == 1 and report.changes.embedded == 1
    index = load_index(tmp_path / "index")
    assert any(c.answer == "Nee." for c in index.chunks)
    # Skipped files are answered from the cache as well, with their reasons.
    assert {s.source: s.reason for s in report.skipped}["kapot.pdf"].startswith("truncated")


def test_a_moved_file_is_read_but_not_parsed(tmp_path: Path) -> None:
    docs = corpus(tmp_path / "c")
    build_index(docs, settings(tmp_path), HashingEmbedder())
    (docs / "2024").mkdir()
    shutil.move(docs / "ah-tk-20232024-4000.txt", docs / "2024" / "ah-tk-20232024-4000.txt")
    report = build_index(docs, settings(tmp_path), HashingEmbedder())
    assert (report.rehashed, report.parsed) == (1, 0)
    record = load_index(tmp_path / "index").documents["ah-tk-20232024-4000"]
    assert record.source == "2024/ah-tk-20232024-4000.txt"


def test_the_cache_gives_exactly_what_parsing_gives(tmp_path: Path) -> None:
    docs = corpus(tmp_path / "c")
    build_index(docs, settings(tmp_path), HashingEmbedder())
    cached = load_corpus(docs, cache=read_cache(current_generation(tmp_path / "index")
                                                / PARSE_CACHE))
    assert cached.cache is not None and cached.cache.parsed == 0
    fresh = load_corpus(docs)
    assert cached.documents == fresh.documents and cached.skipped == fresh.skipped
    assert cached.stamp == fresh.stamp == corpus_stamp(docs)


def test_another_parser_version_invalidates_the_cache(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    docs = corpus(tmp_path / "c")
    build_index(docs, settings(tmp_path), HashingEmbedder())
    path = current_generation(tmp_path / "index") / PARSE_CACHE
    assert read_cache(path)._by_source
    monkeypatch.setattr(cache_module, "PARSER_VERSION", "another-parser")
    assert read_cache(path)._by_source == {}
    assert ParseCache([], version="older")._by_source == {}
    path.write_text("not json\n", encoding="utf-8")
    monkeypatch.undo()
    assert read_cache(path)._by_source == {}  # a damaged cache is an empty one
    assert build_index(docs, settings(tmp_path), HashingEmbedder(), full=True).parsed == 6


def test_the_parser_version_follows_the_reader_libraries(monkeypatch: pytest.MonkeyPatch) -> None:
    """An upgraded PDF reader extracts other text, so it must invalidate the cache too."""
    assert cache_module.parser_version() == cache_module.PARSER_VERSION
    assert cache_module._library_versions(["no-such-reader"]) == "no-such-reader==none"
    real = cache_module.metadata.version
    monkeypatch.setattr(cache_module.metadata, "version",
                        lambda name: "99.0" if name == "pypdf" else real(name))
    assert cache_module.parser_version() != cache_module.PARSER_VERSION
