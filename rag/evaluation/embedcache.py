"""An embedder wrapper that keeps every vector it made, in memory or in a folder.

Training and evaluating the relevance model run the same few thousand questions and passages
again and again; the real model embeds about 8 passages a second on a small CPU, so vectors
are stored once per (model, prompt kind, text) and read back afterwards. The folder holds
plain files: ``keys.json`` (one SHA-256 key per row) and ``vectors.npy``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from rag.models.embed import Embedder, WrappedEmbedder

KEYS = "keys.json"
VECTORS = "vectors.npy"


class CachedEmbedder(WrappedEmbedder):
    """`rag.models.embed.Embedder` that asks the wrapped model only for texts it has not seen.

    ``folder`` (optional) is read on creation and written by `save` (also after every call
    that embedded something new), so an interrupted run keeps what it finished.
    """

    def __init__(self, inner: Embedder, folder: Path | None = None) -> None:
        super().__init__(inner)
        self.folder = folder
        self._rows: dict[str, int] = {}
        self._vectors = np.zeros((0, 0), dtype=np.float32)
        if folder is not None and (folder / KEYS).is_file() and (folder / VECTORS).is_file():
            keys = json.loads((folder / KEYS).read_text(encoding="utf-8"))
            self._vectors = np.load(folder / VECTORS)
            self._rows = {key: row for row, key in enumerate(keys)}

    @property
    def dim(self) -> int:
        """The wrapped model's dimension (from the cache when it has vectors)."""
        return int(self._vectors.shape[1]) if len(self._vectors) else self.inner.dim

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Query vectors, cached."""
        return self._get(list(texts), "query", lambda todo: self.inner.embed_queries(todo))

    def embed_documents(self, texts: Sequence[str],
                        progress: Callable[[int], None] | None = None) -> np.ndarray:
        """Passage vectors, cached; ``progress`` sees only the texts actually embedded."""
        return self._get(list(texts), "passage",
                         lambda todo: self.inner.embed_documents(todo, progress=progress))

    def save(self) -> None:
        """Write the cache folder (atomically per file); nothing without one."""
        if self.folder is None:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        keys = sorted(self._rows, key=self._rows.__getitem__)
        tmp = self.folder / (VECTORS + ".tmp")
        with tmp.open("wb") as fh:
            np.save(fh, self._vectors)
        tmp.replace(self.folder / VECTORS)
        (self.folder / (KEYS + ".tmp")).write_text(json.dumps(keys), encoding="utf-8")
        (self.folder / (KEYS + ".tmp")).replace(self.folder / KEYS)

    def _key(self, kind: str, text: str) -> str:
        return hashlib.sha256(f"{self.model_id}\0{kind}\0{text}".encode()).hexdigest()

    def _get(self, texts: list[str], kind: str,
             embed: Callable[[list[str]], np.ndarray]) -> np.ndarray:
        keys = [self._key(kind, t) for t in texts]
        todo = list(dict.fromkeys(t for t, k in zip(texts, keys, strict=True)
                                  if k not in self._rows))
        if todo:
            fresh = np.asarray(embed(todo), dtype=np.float32)
            start = len(self._vectors)
            self._vectors = (fresh if start == 0
                             else np.concatenate([self._vectors, fresh]))
            for i, text in enumerate(todo):
                self._rows[self._key(kind, text)] = start + i
            self.save()
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return self._vectors[[self._rows[k] for k in keys]].copy()
