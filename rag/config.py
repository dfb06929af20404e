"""All settings in one frozen object; CLI flags and environment variables override the defaults."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from rag.models.registry import DEFAULT_MODEL
from rag.store.coarse import COARSE_MIN_PASSAGES
from rag.types import ChunkSettings

DEFAULT_INDEX_DIR = Path("index")

__all__ = ["DEFAULT_INDEX_DIR", "DEFAULT_MODEL", "Settings"]


@dataclass(frozen=True)
class Settings:
    """Where the index lives and which model embeds; the CLI fills it from flags and env vars."""

    index_dir: Path = DEFAULT_INDEX_DIR
    model: str = DEFAULT_MODEL
    chunking: ChunkSettings = field(default_factory=ChunkSettings)
    batch_size: int = 16
    min_score: float | None = None  # None: the model's calibrated threshold, if it has one
    coarse_from: int = COARSE_MIN_PASSAGES  # passages from which a build adds candidate search
