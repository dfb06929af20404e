"""All settings in one frozen object; CLI flags and environment variables override the defaults."""

from __future__ import annotations

from dataclasses import dataclass
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
    """Where the index lives and which model embeds; the CLI fills it from flags and env vars."""

    index_dir: Path = DEFAULT_INDEX_DIR
    model: str = DEFAULT_MODEL
    chunking: ChunkSettings = ChunkSettings()
    batch_size: int = 16
