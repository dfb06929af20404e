"""Small builders shared by tests (not fixtures, so they can take arguments)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rag.chunk import Chunk, chunk_document
from rag.config import ChunkSettings
from rag.models.embed import HashingEmbedder
from rag.store.index import DocRecord, save_index
from rag.types import DocKind, Document, DocumentMeta, QABlock

TOPICS = [
    ("Hoeveel kost de nieuwe brug over de rivier?", "De brug kost 40 miljoen euro."),
    ("Wanneer opent het station in Zwolle?", "Het station opent in maart 2026."),
    ("Wat doet u tegen droogte bij boeren?", "Wij investeren in waterberging en beregening."),
    ("Hoe staat het met de woningbouw?", "Er zijn dit jaar 70.000 woningen gebouwd."),
    ("Komt er een verbod op vuurwerk?", "Een landelijk vuurwerkverbod is niet voorzien."),
]


def make_document(doc_id: str = "ah-tk-20232024-100", n: int = 5) -> Document:
    """A small answer document with distinct topics per vraag."""
    meta = DocumentMeta(vergaderjaar="2023–2024", ah_nr=100, date_received="2024-05-01",
                        answered_by="Minister De Jong (Infrastructuur en Waterstaat)")
    blocks = tuple(QABlock((i + 1,), q, a) for i, (q, a) in enumerate(TOPICS[:n]))
    return Document(doc_id, f"{doc_id}.txt", DocKind.ANSWERS, meta, blocks)


def build_small_index(path: Path, docs: list[Document] | None = None,
                      dim: int = 256) -> tuple[list[Chunk], np.ndarray]:
    """Save an index of ``docs`` embedded with the hashing embedder; returns chunks, vectors."""
    docs = docs or [make_document()]
    settings = ChunkSettings()
    chunks = [c for d in docs for c in chunk_document(d, settings)]
    embedder = HashingEmbedder(dim)
    vectors = embedder.embed_documents([c.passage(settings) for c in chunks])
    save_index(path, model_id=embedder.model_id, vectors=vectors, chunks=chunks,
               documents=[DocRecord(d.doc_id, d.source, d.meta) for d in docs],
               chunking=settings)
    return chunks, vectors
