"""The index on disk: one folder of plain files, written atomically and checked on load.

``index/current`` is a symlink to the generation folder in use (``index/gen-…``). A build
writes a new generation and then replaces the symlink with one atomic rename, so a reader or
a crash at any moment sees either the previous complete index or the new one, never a mix.

Layout of a generation (all inspectable with a text editor except the vectors):

- ``manifest.json``  model id, dimension, chunking settings, corpus hash, package version,
  and a SHA-256 checksum of every other file;
- ``vectors.faiss``  FAISS inner-product index over L2-normalised vectors (= cosine);
- ``chunks.jsonl``   one chunk per line, in vector order;
- ``documents.jsonl`` one document's metadata per line;
- extra files a build adds through ``save_index(extra=…)`` (the BM25 index in ``bm25/``),
  checksummed in the manifest like the rest.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from rag import __version__
from rag.chunk import Chunk
from rag.config import ChunkSettings
from rag.document import DocumentMeta
from rag.errors import IndexError_

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
VECTORS = "vectors.faiss"
CHUNKS = "chunks.jsonl"
DOCUMENTS = "documents.jsonl"
CURRENT = "current"


@dataclass(frozen=True)
class DocRecord:
    """What the index keeps of a document: enough to cite it."""

    doc_id: str
    source: str
    meta: DocumentMeta


@dataclass(frozen=True)
class Manifest:
    """Everything the vectors depend on, so a mismatch is caught before a wrong answer."""

    format_version: int
    package_version: str
    model_id: str
    dim: int
    normalized: bool
    chunking: ChunkSettings
    corpus_hash: str
    n_chunks: int
    n_documents: int
    checksums: dict[str, str]


@dataclass
class Index:
    """A loaded index: the FAISS structure plus the chunk and document records it points to."""

    path: Path
    manifest: Manifest
    faiss_index: object
    chunks: list[Chunk]
    documents: dict[str, DocRecord]
    generation: Path | None = None  # the folder the files were read from

    def vectors(self) -> np.ndarray:
        """All stored vectors as a (n, dim) float32 array of their own (a copy)."""
        import faiss

        assert isinstance(self.faiss_index, faiss.Index)
        return self.faiss_index.reconstruct_n(0, self.faiss_index.ntotal)

    def vectors_view(self) -> np.ndarray:
        """The stored vectors without a copy, read-only: valid only while this Index lives.

        For a flat index this is FAISS's own storage: at 300k passages a copy would cost
        another 440 MB in the chat process. Keep this Index referenced while using it.
        """
        import faiss

        index = self.faiss_index
        if not (isinstance(index, faiss.IndexFlat) and index.ntotal):
            return self.vectors()
        view = faiss.rev_swig_ptr(index.get_xb(), index.ntotal * index.d)
        view = view.reshape(index.ntotal, index.d)
        view.flags.writeable = False
        return view


def corpus_hash(chunks: list[Chunk]) -> str:
    """Hash of every chunk id and text: equal hashes mean equal indexed content."""
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(f"{chunk.chunk_id}\0{chunk.question}\0{chunk.answer}\0".encode())
    return digest.hexdigest()


def save_index(path: Path, *, model_id: str, vectors: np.ndarray, chunks: list[Chunk],
               documents: list[DocRecord], chunking: ChunkSettings,
               extra: Callable[[Path], list[str]] | None = None) -> Manifest:
    """Write the index into a fresh folder beside ``path`` and swap it in when complete.

    ``extra(folder)`` may write more files into the new generation before the swap and
    returns their paths relative to it; they are checksummed in the manifest. A crash at
    any moment leaves either the previous index or the new one at ``path``.
    """
    import faiss

    if len(vectors) != len(chunks):
        raise IndexError_(f"{len(vectors)} vectors for {len(chunks)} chunks")
    path.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".gen-", dir=path))
    tmp.chmod(0o755)  # mkdtemp's 0700 would hide the index from an app run as another user
    try:
        flat = faiss.IndexFlatIP(int(vectors.shape[1]) if len(vectors) else 1)
        if len(vectors):
            flat.add(np.ascontiguousarray(vectors, dtype=np.float32))
        faiss.write_index(flat, str(tmp / VECTORS))
        _write_jsonl(tmp / CHUNKS, (asdict(c) for c in chunks))
        _write_jsonl(tmp / DOCUMENTS, (asdict(d) for d in documents))
        extra_files = extra(tmp) if extra is not None else []
        manifest = Manifest(
            format_version=FORMAT_VERSION, package_version=__version__, model_id=model_id,
            dim=flat.d, normalized=True, chunking=chunking, corpus_hash=corpus_hash(chunks),
            n_chunks=len(chunks), n_documents=len(documents),
            checksums={name: _sha256(tmp / name)
                       for name in (VECTORS, CHUNKS, DOCUMENTS, *extra_files)},
        )
        (tmp / MANIFEST).write_text(json.dumps(asdict(manifest), indent=2, ensure_ascii=False))
        _fsync_dir(tmp)
        _swap_in(tmp, path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return manifest


def load_index(path: Path, expected_model_id: str | None = None) -> Index:
    """Load and verify an index; refuse a missing, corrupt or other-model one with the fix."""
    import faiss

    fix = f"rebuild it with: rag build --full --corpus DIR --index {path}"
    manifest = read_manifest(path)
    gen = current_generation(path)
    if manifest.format_version != FORMAT_VERSION:
        raise IndexError_(f"index at {path} has format {manifest.format_version}, "
                          f"this version reads {FORMAT_VERSION}; {fix}")
    if expected_model_id is not None and manifest.model_id != expected_model_id:
        raise IndexError_(
            f"index at {path} was built with model {manifest.model_id!r}, but the configured "
            f"model is {expected_model_id!r}; use --model {manifest.model_id.split('@')[0]} "
            f"or {fix} --model {expected_model_id.split('@')[0]}")
    for name, checksum in manifest.checksums.items():
        if not (gen / name).is_file() or _sha256(gen / name) != checksum:
            raise IndexError_(f"index file {gen / name} is missing or corrupt; {fix}")
    faiss_index = faiss.read_index(str(gen / VECTORS))
    chunks = [_chunk_from_json(row) for row in _read_jsonl(gen / CHUNKS)]
    documents = {}
    for row in _read_jsonl(gen / DOCUMENTS):
        documents[row["doc_id"]] = DocRecord(row["doc_id"], row["source"],
                                             DocumentMeta(**row["meta"]))
    if faiss_index.ntotal != len(chunks) or len(chunks) != manifest.n_chunks:
        raise IndexError_(f"index at {path} is inconsistent; {fix}")
    return Index(path, manifest, faiss_index, chunks, documents, gen)


def read_manifest(path: Path) -> Manifest:
    """The manifest alone (cheap: tells the model without loading vectors)."""
    fix = f"build one with: rag build --corpus DIR --index {path}"
    try:
        raw = json.loads((current_generation(path) / MANIFEST).read_text(encoding="utf-8"))
        raw["chunking"] = ChunkSettings(**raw["chunking"])
        return Manifest(**raw)
    except FileNotFoundError:
        raise IndexError_(f"no index at {path}; {fix}") from None
    except (ValueError, TypeError, KeyError) as exc:
        raise IndexError_(f"index manifest at {path} is unreadable ({exc}); {fix}") from None


def _chunk_from_json(row: dict) -> Chunk:
    row["vraag"] = tuple(row["vraag"])
    return Chunk(**row)


def discard_unfinished(path: Path) -> None:
    """Remove what an interrupted build left (``.gen-*`` folders); call with the build lock."""
    for leftover in path.glob(".gen-*"):
        shutil.rmtree(leftover, ignore_errors=True)
    for link in path.glob(f".{CURRENT}-*"):
        link.unlink(missing_ok=True)


def current_generation(path: Path) -> Path:
    """The generation folder ``path/current`` points to (``path`` itself if there is none)."""
    link = path / CURRENT
    return link.resolve() if link.is_symlink() else path


def _swap_in(new: Path, path: Path) -> None:
    """Point ``path/current`` at ``new`` by one atomic rename, then drop older generations."""
    generation = path / f"gen-{uuid.uuid4().hex[:12]}"
    os.rename(new, generation)
    link = path / f".{CURRENT}-{uuid.uuid4().hex[:8]}"
    os.symlink(generation.name, link)
    os.replace(link, path / CURRENT)
    _fsync_dir(path)
    for old in path.glob("gen-*"):
        if old != generation:
            shutil.rmtree(old, ignore_errors=True)


def _write_jsonl(path: Path, rows: object) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:  # type: ignore[attr-defined]
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        fh.flush()
        os.fsync(fh.fileno())


def _read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
