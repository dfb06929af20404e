"""The rebuild: corpus folder -> documents -> chunks -> vectors -> index folder."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from rag.chunk import chunk_document
from rag.config import Settings
from rag.errors import IndexError_, RagError
from rag.ingest.cache import ParseCache, read_cache, source_hash, write_cache
from rag.ingest.corpus import CorpusLoad, Skipped, corpus_stamp, load_corpus
from rag.models.embed import Embedder
from rag.store.coarse import COARSE_FILE, wants_coarse, write_coarse
from rag.store.folder import CURRENT, IndexFolder
from rag.store.index import (
    Manifest,
    Stamp,
    current_generation,
    load_index,
    read_manifest,
    save_index,
)
from rag.store.lexical import build_lexical, save_into_generation
from rag.store.lock import BuildBusy, build_lock
from rag.types import Chunk, DocRecord, Document

PARSE_CACHE = "parsed.jsonl"  # in each generation: what every corpus file gave
# Everything the index content depends on besides the corpus and the model: a build with the
# same files, code, model and chunking would write the same index, so it writes none.
BUILD_VERSION = source_hash(("ingest/*.py", "types.py", "names.py", "dutch.py",
                             "government.py", "chunk.py", "build.py", "store/*.py"))


@dataclass(frozen=True)
class Changes:
    """How the new chunk set differs from the previous index's, by chunk id."""

    added: int
    changed: int
    removed: int
    unchanged: int
    embedded: int  # passages sent to the model (the cost of the build)
    reused: int  # vectors copied from the previous index
    note: str = ""  # why nothing could be reused, when that is the case


@dataclass(frozen=True)
class BuildReport:
    """What a build did, for the summary a user reads."""

    files_read: int
    documents: int
    chunks: int
    skipped: tuple[Skipped, ...]
    damaged: tuple[Skipped, ...]  # indexed with what could be read, and what is missing
    changes: Changes
    seconds: float
    index_dir: Path
    up_to_date: bool = False  # nothing changed since the last build: nothing was written
    unread: int = 0  # files the parse cache answered without opening them
    rehashed: int = 0  # files read again but not parsed (same bytes)
    parsed: int = 0  # files parsed


def build_index(corpus_dir: Path, settings: Settings, embedder: Embedder,
                progress: Callable[[int, int], None] | None = None,
                full: bool = False) -> BuildReport:
    """Build the index for ``corpus_dir`` into ``settings.index_dir``.

    Incremental unless ``full``: a passage whose exact text was already embedded by the same
    model with the same chunking settings keeps its vector, so only new or edited vragen
    cost model time. ``progress(done, total)`` is called as passages are embedded. The
    previous index stays in place until the new one is complete (`rag.store.index.save_index`),
    and a second build on the same folder is refused while one runs (`rag.store.lock`).
    """
    started = time.perf_counter()
    # Refused before anything is written: a folder that is not the build's own, the corpus
    # or a folder around it, the root or home folder (`rag.store.folder`).
    folder = IndexFolder.claim(settings.index_dir, corpus_dir)
    with contextlib.ExitStack() as stack:
        try:
            lock_file = stack.enter_context(build_lock(folder.path))
        except BuildBusy:
            raise
        except (IndexError_, OSError) as exc:
            with contextlib.suppress(Exception):
                folder.release(None)
            if isinstance(exc, OSError):
                raise folder.write_failed(exc) from None
            raise
        try:
            try:
                folder.discard_unfinished()  # what killed builds left, whatever happens next
            except OSError as exc:
                raise folder.write_failed(exc) from None
            current = None if full else _up_to_date(settings, embedder, corpus_dir)
            if current is not None:
                return BuildReport(0, current.n_documents, current.n_chunks, (), (),
                                   Changes(0, 0, 0, current.n_chunks, 0, current.n_chunks,
                                           "nothing changed since the last build"),
                                   time.perf_counter() - started, settings.index_dir, True)
            corpus, documents, chunks, changes = _build(folder, corpus_dir, settings, embedder,
                                                        progress, full)
        except BaseException:
            # A first build that fails leaves no index folder behind (nor marker nor lock).
            with contextlib.suppress(Exception):
                folder.release(lock_file)
            raise
    damaged = tuple(Skipped(d.source, d.damaged) for d in documents if d.damaged)
    cache = corpus.cache
    assert cache is not None
    return BuildReport(corpus.files_read, len(documents), len(chunks), corpus.skipped,
                       damaged, changes, time.perf_counter() - started, settings.index_dir,
                       unread=cache.hits, rehashed=cache.rehashed, parsed=cache.parsed)


def _build(folder: IndexFolder, corpus_dir: Path, settings: Settings, embedder: Embedder,
           progress: Callable[[int, int], None] | None,
           full: bool) -> tuple[CorpusLoad, tuple[Document, ...], list[Chunk], Changes]:
    """The build itself, under the lock: read, chunk, embed what changed, write."""
    corpus = load_corpus(corpus_dir, cache=_previous_cache(settings.index_dir))
    documents = corpus.answer_documents
    if not documents:
        reasons = "; ".join(f"{s.source}: {s.reason}" for s in corpus.skipped[:5])
        raise RagError(f"no answer documents found in {corpus_dir} ({corpus.files_read} "
                       f"files read{'; ' + reasons if reasons else ''})")
    chunks = [c for doc in documents for c in chunk_document(doc, settings.chunking)]
    passages = [c.passage(settings.chunking) for c in chunks]
    previous, note = _previous(settings, embedder)
    if full and not note:
        note = "full rebuild requested"
    vectors, changes = _embed_changed(chunks, passages, previous, embedder, progress,
                                      reuse=not note)
    lexical = build_lexical(passages)  # BM25 over the same passages, stored beside vectors

    def extra(generation: Path) -> list[str]:
        # The parse cache serves the next build only: it is not part of the checksummed
        # index a chat loads (a damaged one is read as empty and files are parsed again).
        assert corpus.cache is not None
        write_cache(corpus.cache.entries.values(), generation / PARSE_CACHE)
        files = save_into_generation(lexical, generation)
        if wants_coarse(len(chunks), settings.coarse_from):
            files.append(write_coarse(generation, vectors))
        return files

    save_index(
        folder, model_id=embedder.model_id, model_name=embedder.name, vectors=vectors,
        chunks=chunks,
        documents=[DocRecord(d.doc_id, d.source, d.meta) for d in documents],
        chunking=settings.chunking, extra=extra,
        stamp=Stamp(corpus.stamp, BUILD_VERSION),
    )
    return corpus, documents, chunks, replace(changes, note=note)


def _up_to_date(settings: Settings, embedder: Embedder, corpus_dir: Path) -> Manifest | None:
    """The current manifest when building again would give the same index: same files (by
    name, size and modification time), same build code, same model and chunking."""
    try:
        manifest = read_manifest(settings.index_dir)
    except IndexError_:
        return None
    same = (manifest.stamp == Stamp(corpus_stamp(corpus_dir), BUILD_VERSION)
            and manifest.model_id == embedder.model_id and manifest.chunking == settings.chunking
            and (COARSE_FILE in manifest.checksums)
            == wants_coarse(manifest.n_chunks, settings.coarse_from))
    return manifest if same else None


def _previous_cache(index_dir: Path) -> ParseCache:
    """The previous generation's parse cache (empty when there is none or it is unusable)."""
    return read_cache(current_generation(index_dir) / PARSE_CACHE)


@dataclass(frozen=True)
class _Stored:
    passage: str
    vector: np.ndarray


def _previous(settings: Settings, embedder: Embedder) -> tuple[dict[str, _Stored], str]:
    """The previous index's passages and vectors by chunk id, and why its vectors cannot be
    reused ("" when they can)."""
    try:
        index = load_index(settings.index_dir)
    except IndexError_ as exc:
        missing = not (settings.index_dir / CURRENT).exists()
        return {}, "no previous index" if missing else f"previous index unusable ({exc})"
    manifest = index.manifest
    vectors = index.vectors()
    stored = {c.chunk_id: _Stored(c.passage(manifest.chunking), vectors[row])
              for row, c in enumerate(index.chunks)}
    if manifest.model_id != embedder.model_id:
        return stored, f"model changed ({manifest.model_id} -> {embedder.model_id})"
    if manifest.chunking != settings.chunking:
        return stored, "chunking settings changed"
    return stored, ""


def _embed_changed(chunks: list[Chunk], passages: list[str], previous: dict[str, _Stored],
                   embedder: Embedder, progress: Callable[[int, int], None] | None,
                   reuse: bool) -> tuple[np.ndarray, Changes]:
    """Vectors for every chunk: reused where the passage text is unchanged (and ``reuse``),
    else embedded.

    Reuse goes by passage text, not only by id, so a renamed file or a moved vraag costs
    nothing either.
    """
    by_text = {stored.passage: stored.vector for stored in previous.values()} if reuse else {}
    todo = [i for i, p in enumerate(passages) if p not in by_text]
    done = 0

    def advance(n: int) -> None:
        nonlocal done
        done += n
        if progress:
            progress(done, len(todo))

    fresh = embedder.embed_documents([passages[i] for i in todo], progress=advance) if todo \
        else np.zeros((0, 0), dtype=np.float32)
    dim = fresh.shape[1] if len(todo) else len(next(iter(by_text.values())))
    vectors = np.zeros((len(chunks), dim), dtype=np.float32)
    for row, i in enumerate(todo):
        vectors[i] = fresh[row]
    todo_set = set(todo)
    for i, passage in enumerate(passages):
        if i not in todo_set:
            vectors[i] = by_text[passage]
    ids = {c.chunk_id for c in chunks}
    old = [c.chunk_id in previous for c in chunks]
    changed = sum(1 for c, p in zip(chunks, passages, strict=True)
                  if c.chunk_id in previous and previous[c.chunk_id].passage != p)
    return vectors, Changes(
        added=old.count(False), changed=changed, removed=len(set(previous) - ids),
        unchanged=old.count(True) - changed, embedded=len(todo),
        reused=len(chunks) - len(todo))
