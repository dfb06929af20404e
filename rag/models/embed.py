"""Embedders: a small protocol, the sentence-transformers implementation and a hashing fake.

The model is loaded lazily on first use, never at import time, so `rag --help` stays fast
and a process loads it once.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from rag.errors import ModelError
from rag.models.registry import (
    DEFAULT_MODEL,
    E5_PROMPTS,
    HASH_PREFIX,
    ModelSpec,
    Source,
    model_spec,
)


class Embedder(Protocol):
    """What the index and the retriever need from a model: L2-normalised float32 rows."""

    @property
    def name(self) -> str:
        """The model name as the user gave it (`rag.models.registry`)."""
        ...

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


class WrappedEmbedder:
    """An embedder in front of another (a micro-batch queue, a cluster, a cache): the same
    model, so the same name, id and dimension; subclasses add how texts reach it."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner

    @property
    def name(self) -> str:
        """The wrapped model's name."""
        return self.inner.name

    @property
    def model_id(self) -> str:
        """The wrapped model's id."""
        return self.inner.model_id

    @property
    def dim(self) -> int:
        """The wrapped model's dimension."""
        return self.inner.dim


def load_embedder(model: str, cache_dir: Path | None = None, batch_size: int = 16,
                  notify: Callable[[str], None] | None = None) -> Embedder:
    """The embedder for a model name (see `rag.models.registry.model_spec`); loads nothing yet."""
    spec = model_spec(model)
    if spec.source is Source.HASHING:
        return HashingEmbedder(spec.dim or 256)
    return SentenceTransformerEmbedder(spec, cache_dir=cache_dir, batch_size=batch_size,
                                       notify=notify)


class SentenceTransformerEmbedder:
    """Any sentence-transformers model; the default is provisioned offline first."""

    def __init__(self, spec: ModelSpec, cache_dir: Path | None = None, batch_size: int = 16,
                 notify: Callable[[str], None] | None = None) -> None:
        self.spec = spec
        self._cache_dir = cache_dir
        self._batch_size = batch_size
        self._notify = notify
        self._model: Any = None
        self._engine: Any = None  # the ONNX question encoder, False when there is none
        self._loading = threading.RLock()  # sessions asking at once load the model once

    @property
    def name(self) -> str:
        """The model name as given."""
        return self.spec.name

    @property
    def model_id(self) -> str:
        """The name, plus the weights' revision for a provisioned model."""
        if self.spec.source is Source.PROVISIONED:
            from rag.models.provision import model_revision

            return f"{self.spec.name}@{model_revision()}"
        return self.spec.name

    @property
    def dim(self) -> int:
        """Vector dimension, read from the loaded model."""
        model = self._loaded()
        getter = getattr(model, "get_embedding_dimension", None) or (
            model.get_sentence_embedding_dimension)  # the older name, sentence-transformers < 5
        return int(getter())

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Embed questions with the model's query prompt.

        For the provisioned model, questions go to its ONNX export when there is one
        (`rag.models.onnx`): the same vectors, ready in a fraction of a second instead of
        importing torch, so a one-shot ``rag ask`` answers quickly and a chat does not load
        torch unless it builds.
        """
        texts = list(texts)
        engine = self._query_engine()
        if engine is not None:
            return engine.embed(texts)
        return self._encode(texts, "query")

    def _query_engine(self) -> Any:
        if self._engine is None:
            with self._loading:
                if self._engine is None:
                    self._engine = self._find_query_engine()
        return self._engine or None

    def _find_query_engine(self) -> Any:
        # An int8 model's questions must be embedded by the int8 model, like its passages.
        if self.spec.source is not Source.PROVISIONED or self.spec.int8:
            return False
        from rag.models.onnx import query_encoder
        from rag.models.provision import ensure_default_model

        folder = ensure_default_model(self._cache_dir, progress=self._notify)
        return query_encoder(folder, E5_PROMPTS.query) or False

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
        if self.spec.prompts is not None:  # hub e5 models ship without prompts configured
            kwargs["prompt"] = getattr(self.spec.prompts, kind)
        elif kind in (model.prompts or {}):
            kwargs["prompt_name"] = kind
        vectors = model.encode(texts, batch_size=self._batch_size, normalize_embeddings=True,
                               convert_to_numpy=True, show_progress_bar=False, **kwargs)
        return np.asarray(vectors, dtype=np.float32)

    def _loaded(self) -> Any:
        if self._model is None:
            with self._loading:
                if self._model is None:
                    self._model = self._load()
        return self._model

    def _load(self) -> Any:
        path = self.spec.name
        if self.spec.source is Source.PROVISIONED:
            from rag.models.provision import ensure_default_model

            path = str(ensure_default_model(self._cache_dir, progress=self._notify))
        try:
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()  # a bar per load is noise in a CLI and app
            model = SentenceTransformer(path, device="cpu")
            if self.spec.source is Source.PROVISIONED and not self.spec.int8:
                self._export_queries(model, Path(path))
            if self.spec.int8:
                import torch

                model = torch.ao.quantization.quantize_dynamic(
                    model, {torch.nn.Linear}, dtype=torch.qint8)
        except Exception as exc:  # hub errors, missing files, bad configs: all one story
            raise ModelError(
                f"cannot load model {self.spec.name!r} ({type(exc).__name__}: {exc}); "
                f"use the default '{DEFAULT_MODEL}' or a local model directory"
            ) from exc
        return model

    def _export_queries(self, model: Any, folder: Path) -> None:
        """Export the query side to ONNX once per model folder (`rag.models.onnx`), so the
        next one-shot question needs no torch; a failed export only costs that speed."""
        from rag.models.onnx import QUERY_MODEL, export_query_model

        if (folder / QUERY_MODEL).is_dir():
            return
        if self._notify is not None:
            self._notify("Exporting the question encoder to ONNX (one time, ~10 s)")
        try:
            export_query_model(model, folder)
        except Exception as exc:  # missing onnx package, full disk: questions use torch
            if self._notify is not None:
                self._notify(f"  not exported ({type(exc).__name__}: {exc}); questions will "
                             "load the full model")


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
    def name(self) -> str:
        """``hash:<dim>``."""
        return self.model_id

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
