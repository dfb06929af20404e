"""The index on disk: one folder of plain files, written atomically and checked on load.

``index/current`` is a symlink to the generation folder in use (``index/gen-…``). A build
writes a new generation and then replaces the symlink with one atomic rename, so a reader or
a crash at any moment sees either the previous complete index or the new one, never a mix.
Which folders a build may write and delete is `rag.store.folder`'s business: the index folder
carries the build's marker, and generations are deleted only when its register lists them.

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
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from rag import __version__
from rag.errors import IndexError_
from rag.ingest.people import answerers_and_ministries
from rag.models.registry import name_for_id
from rag.store.folder import CURRENT, IndexFolder, fsync_dir
from rag.types import Answerer, Chunk, ChunkSettings, DocRecord, DocumentMeta

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
VECTORS = "vectors.faiss"
CHUNKS = "chunks.jsonl"
DOCUMENTS = "documents.jsonl"


@dataclass(frozen=True)
class Stamp:
    """What the index was built from: the corpus files' stamp and the build code's version
    (`rag.build`); equal stamps mean a new build would write the same index."""

    corpus: str = ""
    build: str = ""


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
    model_name: str = ""  # the name the model was asked for by (indexes of 0.1 lack it)
    stamp: Stamp = field(default_factory=Stamp)


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

        For a flat index this is FAISS's own storage, memory-mapped from the generation's
        file: at 300k passages a copy would cost another 440 MB in every chat process. Keep
        this Index referenced while using it.
        """
        import faiss

        index = self.faiss_index
        if not (isinstance(index, faiss.IndexFlat) and index.ntotal):
            return self.vectors()
        view = faiss.rev_swig_ptr(index.get_xb(), index.ntotal * index.d)
        view = view.reshape(index.ntotal, index.d)
        view.flags.writeable = False
        return view


def in_memory_index(chunks: list[Chunk], documents: list[DocRecord], vectors: np.ndarray,
                    model_id: str, chunking: ChunkSettings | None = None) -> Index:
    """An index that lives only in memory (an evaluation set's passages), searchable like a
    loaded one."""
    import faiss

    if len(vectors) != len(chunks):
        raise IndexError_(f"{len(vectors)} vectors for {len(chunks)} chunks")
    flat = faiss.IndexFlatIP(int(vectors.shape[1]) if len(vectors) else 1)
    if len(vectors):
        flat.add(np.ascontiguousarray(vectors, dtype=np.float32))
    manifest = Manifest(FORMAT_VERSION, __version__, model_id, flat.d, True,
                        chunking or ChunkSettings(), corpus_hash(chunks), len(chunks),
                        len(documents), {}, name_for_id(model_id))
    return Index(Path("<memory>"), manifest, flat, chunks,
                 {d.doc_id: d for d in documents}, None)


def corpus_hash(chunks: list[Chunk]) -> str:
    """Hash of every chunk id and text: equal hashes mean equal indexed content."""
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(f"{chunk.chunk_id}\0{chunk.question}\0{chunk.answer}\0".encode())
    return digest.hexdigest()


def save_index(path: Path | IndexFolder, *, model_id: str, vectors: np.ndarray,
               chunks: list[Chunk], documents: list[DocRecord], chunking: ChunkSettings,
               extra: Callable[[Path], list[str]] | None = None,
               model_name: str = "", stamp: Stamp | None = None) -> Manifest:
    """Write the index into a new generation of ``path`` and swap it in when complete.

    ``path`` must be the build's own folder (`rag.store.folder.IndexFolder.claim`; a plain path is
    claimed here). ``extra(folder)`` may write more files into the new generation before the
    swap and returns their paths relative to it; they are checksummed in the manifest. A
    failure at any moment (a full disk, a kill) leaves the previous index at ``path``; a
    failed write is one `IndexError_`.
    """
    import faiss

    if len(vectors) != len(chunks):
        raise IndexError_(f"{len(vectors)} vectors for {len(chunks)} chunks")
    folder = path if isinstance(path, IndexFolder) else IndexFolder.claim(path)
    generation: Path | None = None
    kept = ("the previous index is unchanged" if folder.current_name() is not None
            else "no index was written")
    try:
        generation = folder.new_generation()
        flat = faiss.IndexFlatIP(int(vectors.shape[1]) if len(vectors) else 1)
        if len(vectors):
            flat.add(np.ascontiguousarray(vectors, dtype=np.float32))
        # Serialised in memory and written by Python, so a full disk is an OSError like
        # every other write rather than a RuntimeError from inside FAISS.
        write_bytes(generation / VECTORS, faiss.serialize_index(flat).tobytes())
        _write_jsonl(generation / CHUNKS, (asdict(c) for c in chunks))
        _write_jsonl(generation / DOCUMENTS, (asdict(d) for d in documents))
        extra_files = extra(generation) if extra is not None else []
        manifest = Manifest(
            format_version=FORMAT_VERSION, package_version=__version__, model_id=model_id,
            dim=flat.d, normalized=True, chunking=chunking, corpus_hash=corpus_hash(chunks),
            n_chunks=len(chunks), n_documents=len(documents),
            checksums={name: _sha256(generation / name)
                       for name in (VECTORS, CHUNKS, DOCUMENTS, *extra_files)},
            model_name=model_name or name_for_id(model_id), stamp=stamp or Stamp(),
        )
        write_bytes(generation / MANIFEST,
                     json.dumps(asdict(manifest), indent=2, ensure_ascii=False).encode())
        fsync_dir(generation)
        folder.swap_in(generation)
    except (OSError, UnicodeError) as exc:
        _discard(folder, generation)
        raise folder.write_failed(exc, kept) from None
    except BaseException:
        _discard(folder, generation)
        raise
    return manifest


def _discard(folder: IndexFolder, generation: Path | None) -> None:
    """Best effort after a failed write: drop the unfinished generation now (the register
    still lists it if this fails too, and the next build removes it then)."""
    try:
        folder.discard_unfinished()
    except (OSError, IndexError_):
        if generation is not None and generation.is_dir() and not generation.is_symlink():
            shutil.rmtree(generation, ignore_errors=True)


def load_index(path: Path, expected_model_id: str | None = None) -> Index:
    """Load and verify an index; refuse a missing, corrupt or other-model one with the fix."""

    fix = f"rebuild it with: rag build --full --corpus DIR --index {path}"
    manifest = read_manifest(path)
    gen = current_generation(path)
    if manifest.format_version != FORMAT_VERSION:
        raise IndexError_(f"index at {path} has format {manifest.format_version}, "
                          f"this version reads {FORMAT_VERSION}; {fix}")
    if expected_model_id is not None and manifest.model_id != expected_model_id:
        raise IndexError_(
            f"index at {path} was built with model {manifest.model_id!r}, but the configured "
            f"model is {expected_model_id!r}; use --model "
            f"{manifest.model_name or name_for_id(manifest.model_id)} "
            f"or {fix} --model {name_for_id(expected_model_id)}")
    if not isinstance(manifest.checksums, dict) or not manifest.checksums:
        raise IndexError_(f"index manifest at {path} lists no checksums; {fix}")
    for name, checksum in manifest.checksums.items():
        if not (gen / name).is_file() or _sha256(gen / name) != checksum:
            raise IndexError_(f"index file {gen / name} is missing or corrupt; {fix}")
    # The checksums prove the files are the ones the manifest names, not that a build wrote
    # them: every record is still checked, so a damaged index is one line, not a traceback.
    try:
        faiss_index = _read_vectors(gen / VECTORS)
    except RuntimeError:
        raise IndexError_(f"index file {gen / VECTORS} is unreadable; {fix}") from None
    chunks = [_record(gen / CHUNKS, n, row, _chunk_from_json, fix)
              for n, row in _read_jsonl(gen / CHUNKS, fix)]
    documents: dict[str, DocRecord] = {}
    for n, row in _read_jsonl(gen / DOCUMENTS, fix):
        record = _record(gen / DOCUMENTS, n, row, _document_from_json, fix)
        documents[record.doc_id] = record
    orphans = {c.doc_id for c in chunks} - set(documents)
    if orphans:
        raise IndexError_(f"index at {path} has passages of unknown documents "
                          f"({sorted(orphans)[0]!r}); {fix}")
    if (faiss_index.ntotal != len(chunks) or len(chunks) != manifest.n_chunks
            or (chunks and faiss_index.d != manifest.dim)):
        raise IndexError_(f"index at {path} is inconsistent; {fix}")
    return Index(path, manifest, faiss_index, chunks, documents, gen)


def _read_vectors(path: Path) -> Any:  # faiss.Index; faiss is imported lazily
    """The vectors, memory-mapped read-only: every process serving this generation shares
    the operating system's one copy of the file instead of holding its own (a generation's
    files never change; a deleted one stays readable while mapped)."""
    import faiss

    flags = getattr(faiss, "IO_FLAG_MMAP_IFC", None)
    if flags is None:  # an older FAISS: read into memory
        return faiss.read_index(str(path))
    return faiss.read_index(str(path), flags | faiss.IO_FLAG_READ_ONLY)


def read_manifest(path: Path) -> Manifest:
    """The manifest alone (cheap: tells the model without loading vectors)."""
    fix = f"build one with: rag build --corpus DIR --index {path}"
    try:
        raw = json.loads((current_generation(path) / MANIFEST).read_text(encoding="utf-8"))
        raw["chunking"] = ChunkSettings(**raw["chunking"])
        raw["stamp"] = Stamp(**raw.get("stamp", {}))
        return Manifest(**raw)
    except FileNotFoundError:
        raise IndexError_(f"no index at {path}; {fix}") from None
    except OSError as exc:
        raise IndexError_(f"index manifest at {path} is unreadable "
                          f"({exc.strerror or exc}); {fix}") from None
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise IndexError_(f"index manifest at {path} is unreadable ({exc}); {fix}") from None


_T = TypeVar("_T")


def _chunk_from_json(row: dict) -> Chunk:
    chunk = Chunk(**{**row, "vraag": tuple(row["vraag"])})
    texts = (chunk.chunk_id, chunk.doc_id, chunk.question, chunk.answer)
    if not (all(isinstance(t, str) for t in texts) and chunk.vraag
            and all(type(v) is int for v in chunk.vraag)
            and type(chunk.part) is int and type(chunk.n_parts) is int
            and 1 <= chunk.part <= chunk.n_parts):
        raise TypeError("a field has the wrong type")
    return chunk


def _document_from_json(row: dict) -> DocRecord:
    meta = row["meta"]
    if not isinstance(meta, dict):
        raise TypeError("meta is not an object")
    if any(isinstance(a, str) for a in meta.get("answerers", ())):
        # Indexes of version 0.1 stored answerers as names only: read them again from the
        # text, with the one parser ingest uses.
        meta = {**meta, "answerers": answerers_and_ministries(meta.get("answered_by"))[0]}
    record = DocRecord(row["doc_id"], row["source"], DocumentMeta(**meta))
    if not (isinstance(record.doc_id, str) and isinstance(record.source, str)):
        raise TypeError("a field has the wrong type")
    wrong = [f.name for f in fields(DocumentMeta)
             if not _META_TYPES[str(f.type)](getattr(record.meta, f.name))]
    if wrong:
        raise TypeError(f"meta {wrong[0]} has the wrong type")
    return record


# Every `DocumentMeta` field's check, by its annotation: the filters and citations use the
# values as they are, so a number where a date belongs would fail at the first question.
_META_TYPES: dict[str, Callable[[object], bool]] = {
    "str | None": lambda v: v is None or isinstance(v, str),
    "int | None": lambda v: v is None or type(v) is int,
    "tuple[str, ...]": lambda v: isinstance(v, tuple) and all(isinstance(s, str) for s in v),
    "tuple[Answerer, ...]": lambda v: isinstance(v, tuple) and all(
        isinstance(a, Answerer) and all(isinstance(getattr(a, f.name), str) for f in fields(a))
        for a in v),
}


def _record(path: Path, line: int, row: object, make: Callable[[dict], _T], fix: str) -> _T:
    """One stored record, or an `IndexError_` naming the file and line."""
    try:
        if not isinstance(row, dict):
            raise TypeError("not an object")
        return make(row)
    except (TypeError, KeyError, ValueError, AttributeError) as exc:
        raise IndexError_(f"index file {path} line {line} is not a valid record ({exc}); "
                          f"{fix}") from None


def current_generation(path: Path) -> Path:
    """The generation folder ``path/current`` points to (``path`` itself if there is none)."""
    link = path / CURRENT
    return link.resolve() if link.is_symlink() else path


def _write_jsonl(path: Path, rows: object) -> None:
    with path.open("x", encoding="utf-8") as fh:
        for row in rows:  # type: ignore[attr-defined]
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        fh.flush()
        os.fsync(fh.fileno())


def write_bytes(path: Path, data: bytes) -> None:
    """Write a new file of a generation to disk (never over an existing one)."""
    with path.open("xb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def _read_jsonl(path: Path, fix: str) -> list[tuple[int, object]]:
    """(line number, value) of every non-empty line; a bad line is an `IndexError_`."""
    rows = []
    try:
        with path.open(encoding="utf-8") as fh:
            for n, line in enumerate(fh, start=1):
                if line.strip():
                    rows.append((n, json.loads(line)))
    except (ValueError, OSError) as exc:  # JSON, UTF-8 and read errors alike
        raise IndexError_(f"index file {path} is unreadable ({type(exc).__name__}); "
                          f"{fix}") from None
    return rows


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
