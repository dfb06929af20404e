"""All settings in one frozen object; CLI flags and environment variables override the defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

DEFAULT_INDEX_DIR = Path("index")
# The alias that means "the offline-provisioned multilingual-e5-small" (see rag.provision).
DEFAULT_MODEL = "multilingual-e5-small"


@dataclass(frozen=True)
class ChunkSettings:
    """How blocks become chunks; recorded in the index manifest because vectors depend on it.

    Word budgets stand in for the model's 512-token limit: Dutch text runs at roughly 1.5
    XLM-R tokens per word, so 300 words stay safely under it with the prompt prefix.
    """

    max_words: int = 300  # question context + answer part, per chunk
    max_question_words: int = 80  # the question is cut to this as context for long answers


@dataclass(frozen=True)
class Settings:
    """Where the index lives and which model embeds; built by `Settings.from_env`."""

    index_dir: Path = DEFAULT_INDEX_DIR
    model: str = DEFAULT_MODEL
    chunking: ChunkSettings = ChunkSettings()
    top_k: int = 5
    batch_size: int = 16

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        """Defaults, then `RAG_INDEX` / `RAG_MODEL`, then explicit non-None overrides."""
        settings = cls()
        env = {"index_dir": os.environ.get("RAG_INDEX"), "model": os.environ.get("RAG_MODEL")}
        settings = replace(settings, **{k: v for k, v in env.items() if v})
        given = {k: v for k, v in overrides.items() if v is not None}
        if "index_dir" in given:
            given["index_dir"] = Path(str(given["index_dir"]))
        if isinstance(settings.index_dir, str):
            settings = replace(settings, index_dir=Path(settings.index_dir))
        return replace(settings, **given)  # type: ignore[arg-type]
