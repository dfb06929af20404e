"""The rebuild: corpus folder -> documents -> chunks -> vectors -> index folder."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rag.chunk import Chunk, chunk_document
from rag.config import Settings
from rag.corpus import Skipped, load_corpus
from rag.embed import Embedder
from rag.errors import RagError
from rag.index import DocRecord, save_index
from rag.lexical import build_lexical, save_into_generation


@dataclass(frozen=True)
class BuildReport:
    """What a build did, for the summary a user reads."""

    files_read: int
    documents: int
    chunks: int
    skipped: tuple[Skipped, ...]
    seconds: float
    index_dir: Path


def build_index(corpus_dir: Path, settings: Settings, embedder: Embedder,
                progress: Callable[[int, int], None] | None = None) -> BuildReport:
    """Build the index for ``corpus_dir`` into ``settings.index_dir``.

    ``progress(done, total)`` is called as chunks are embedded. The previous index stays in
    place until the new one is complete (see `rag.index.save_index`).
    """
    started = time.perf_counter()
    corpus = load_corpus(corpus_dir)
    documents = corpus.answer_documents
    if not documents:
        reasons = "; ".join(f"{s.source}: {s.reason}" for s in corpus.skipped[:5])
        raise RagError(f"no answer documents found in {corpus_dir} "
                       f"({corpus.files_read} files read{'; ' + reasons if reasons else ''})")
    chunks: list[Chunk] = [c for doc in documents for c in chunk_document(doc, settings.chunking)]
    passages = [c.passage(settings.chunking) for c in chunks]
    done = 0

    def advance(n: int) -> None:
        nonlocal done
        done += n
        if progress:
            progress(done, len(passages))

    vectors = embedder.embed_documents(passages, progress=advance)
    lexical = build_lexical(passages)  # BM25 over the same passages, stored beside the vectors
    save_index(
        settings.index_dir, model_id=embedder.model_id, vectors=vectors, chunks=chunks,
        documents=[DocRecord(d.doc_id, d.source, d.meta) for d in documents],
        chunking=settings.chunking,
        extra=lambda generation: save_into_generation(lexical, generation),
    )
    return BuildReport(corpus.files_read, len(documents), len(chunks), corpus.skipped,
                       time.perf_counter() - started, settings.index_dir)
