"""Walk a corpus folder, read and parse every supported file, and say what was skipped and why.

Folder rules (predictable, documented in the README): files are visited recursively in sorted
path order; hidden files and folders (name starting with ".") are ignored; symlinked files are
read, symlinked folders are not followed (no loops, no escaping the corpus).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from rag.document import DocKind, Document
from rag.errors import ParseError, RagError
from rag.parse import parse_document
from rag.read import SUPPORTED_SUFFIXES, read_text

_NOT_INDEXED = {
    DocKind.QUESTIONS: "questions only, no answers yet",
    DocKind.NOTICE: "postponement notice (Mededeling), no answers",
    DocKind.UNKNOWN: "no numbered question/answer structure found",
}


@dataclass(frozen=True)
class Skipped:
    """A file that is not in the index, with the reason a user can act on."""

    source: str
    reason: str


@dataclass(frozen=True)
class CorpusLoad:
    """The result of reading a folder: every parsed document, and the files left out."""

    files_read: int
    documents: tuple[Document, ...]  # every parsed document, whatever its kind
    skipped: tuple[Skipped, ...]

    @property
    def answer_documents(self) -> tuple[Document, ...]:
        """The documents that are indexed."""
        return tuple(d for d in self.documents if d.kind is DocKind.ANSWERS)


def corpus_files(folder: Path) -> Iterator[Path]:
    """Supported files under ``folder`` by the rules in the module docstring."""
    if not folder.is_dir():
        raise RagError(f"corpus folder {folder} does not exist or is not a folder")
    for root, dirs, files in os.walk(folder, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            path = Path(root) / name
            if not name.startswith(".") and path.suffix.lower() in SUPPORTED_SUFFIXES:
                yield path


def load_corpus(folder: Path) -> CorpusLoad:
    """Read and parse every file; a bad file is skipped with its reason, never fatal."""
    documents: list[Document] = []
    skipped: list[Skipped] = []
    seen: dict[str, str] = {}
    files_read = 0
    for path in corpus_files(folder):
        source = path.relative_to(folder).as_posix()
        files_read += 1
        try:
            doc = parse_document(read_text(path), doc_id=path.stem, source=source)
        except ParseError as exc:
            skipped.append(Skipped(source, str(exc)))
            continue
        documents.append(doc)
        if doc.kind is not DocKind.ANSWERS:
            skipped.append(Skipped(source, _NOT_INDEXED[doc.kind]))
        elif doc.doc_id in seen:
            skipped.append(Skipped(source, f"duplicate document id {doc.doc_id} "
                                           f"(already read from {seen[doc.doc_id]})"))
            documents.pop()
        else:
            seen[doc.doc_id] = source
    return CorpusLoad(files_read, tuple(documents), tuple(skipped))
