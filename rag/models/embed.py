"""Embedders: a small protocol, the sentence-transformers implementation and a hashing fake.

The model is loaded lazily on first use, never at import time, so `rag --help` stays fast
and a process loads it once.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from rag.config import DEFAULT_MODEL
from rag.errors import ModelError

HASH_PREFIX = "hash:"  # "hash:256" selects the deterministic HashingEmbedder (tests, no model)


class Embedder(Protocol):
    """What the index and the retriever need from a model: L2-normalised float32 rows."""

    @property
    def model_id(self) -> str:
        """Identifies the weights; recorded in the manifest so vectors never mix models."""
        ...

    @property
    def dim(self) -> int:
        """Vector dimension."""
        ...

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Embed search questions (e5: with the ``query:`` prompt)."""
        ...

    def embed_documents(
        self, texts: Sequence[str], progress: Callable[[int], None] | None = None
    ) -> np.ndarray:
        """Embed passages (e5: with the ``passage:`` prompt); ``progress(n)`` after each batch."""
        ...


def load_embedder(model: str, cache_dir: Path | None = None, batch_size: int = 16,
                  notify: Callable[[str], None] | None = None) -> Embedder:
    """The embedder for a model name: the default alias, ``hash:N``, a hub name or a local path."""
    if model.startswith(HASH_PREFIX):
        try:
            return HashingEmbedder(int(model[len(HASH_PREFIX):]))
        except ValueError as exc:
            raise ModelError(f"bad hashing model {model!r}: use e.g. 'hash:256'") from exc
    return SentenceTransformerEmbedder(model, cache_dir=cache_dir, batch_size=batch_size,
                                       notify=notify)


class SentenceTransformerEmbedder:
    """Any sentence-transformers model; the default alias is provisioned offline first."""

    def __init__(self, model: str, cache_dir: Path | None = None, batch_size: int = 16,
                 notify: Callable[[str], None] | None = None) -> None:
        self._name = model
        self._cache_dir = cache_dir
        self._batch_size = batch_size
        self._notify = notify
        self._model: Any = None

    @property
    def model_id(self) -> str:
        """The name as given, plus the provisioned weights' revision for the default alias."""
        if self._name == DEFAULT_MODEL:
            from rag.models.provision import model_revision

            return f"{DEFAULT_MODEL}@{model_revision()}"
        return self._name

    @property
    def dim(self) -> int:
        """Vector dimension, read from the loaded model."""
        model = self._loaded()
        getter = getattr(model, "get_embedding_dimension", None) or (
            model.get_sentence_embedding_dimension)  # the older name, sentence-transformers < 5
        return int(getter())

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Embed questions with the model's query prompt."""
        return self._encode(list(texts), "query")

    def embed_documents(
        self, texts: Sequence[str], progress: Callable[[int], None] | None = None
    ) -> np.ndarray:
        """Embed passages in batches, longest first so padding is wasted least."""
        texts = list(texts)
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        step = self._batch_size * 4
        for start in range(0, len(order), step):
            idx = order[start : start + step]
            out[idx] = self._encode([texts[i] for i in idx], "passage")
            if progress:
                progress(len(idx))
        return out

    def _encode(self, texts: list[str], kind: str) -> np.ndarray:
        model = self._loaded()
        kwargs: dict[str, Any] = {}
        if kind in (model.prompts or {}):
            kwargs["prompt_name"] = kind
        elif "e5" in self._name.lower():  # hub e5 models ship without prompts configured
            from rag.models.provision import PROMPTS

            kwargs["prompt"] = PROMPTS[kind]
        vectors = model.encode(texts, batch_size=self._batch_size, normalize_embeddings=True,
                               convert_to_numpy=True, show_progress_bar=False, **kwargs)
        return np.asarray(vectors, dtype=np.float32)

    def _loaded(self) -> Any:
        if self._model is None:
            path = self._name
            if self._name == DEFAULT_MODEL:
                from rag.models.provision import ensure_default_model

                path = str(ensure_default_model(self._cache_dir, progress=self._notify))
            try:
                from sentence_transformers import SentenceTransformer
                from transformers.utils import logging as hf_logging

                hf_logging.disable_progress_bar()  # a bar per load is noise in a CLI and app
                self._model = SentenceTransformer(path, device="cpu")
            except Exception as exc:  # hub errors, missing files, bad configs: all one story
                raise ModelError(
                    f"cannot load model {self._name!r} ({type(exc).__name__}: {exc}); "
                    f"use the default '{DEFAULT_MODEL}' or a local model directory"
                ) from exc
        return self._model


class HashingEmbedder:
    """Deterministic bag-of-words vectors by feature hashing: no model, for tests and checks.

    It is lexical, so a question sharing words with a passage finds it: tests can assert
    real retrieval behaviour without loading a neural model.
    """

    def __init__(self, dim: int = 256) -> None:
        if dim < 8:
            raise ModelError("hashing embedder needs at least 8 dimensions")
        self._dim = dim

    @property
    def model_id(self) -> str:
        """``hash:<dim>``."""
        return f"{HASH_PREFIX}{self._dim}"

    @property
    def dim(self) -> int:
        """Vector dimension."""
        return self._dim

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Same as documents: hashing has no prompts."""
        return self._embed(texts)

    def embed_documents(
        self, texts: Sequence[str], progress: Callable[[int], None] | None = None
    ) -> np.ndarray:
        """Hash every text; reports progress once."""
        out = self._embed(texts)
        if progress:
            progress(len(texts))
        return out

    def _embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self._dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w{3,}", text.lower()):
                digest = hashlib.blake2b(word[:6].encode(), digest_size=8).digest()
                out[row, int.from_bytes(digest[:4], "little") % self._dim] += (
                    1.0 if digest[4] & 1 else -1.0
                )
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1.0, norms)
