"""All settings in one frozen object; CLI flags and environment variables override the defaults."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

DEFAULT_INDEX_DIR = Path("index")
# The alias that means "the offline-provisioned multilingual-e5-small" (see rag.models.provision).
DEFAULT_MODEL = "multilingual-e5-small"
# "No earlier answer found": abstain when the best dense cosine of any passage is below the
# model's threshold. Calibrated with `rag eval --gold eval/gold.jsonl` over ../shared/corpus
# (86 answer documents, 718 chunks; 80 answerable and 11 unanswerable questions): the best
# abstention F1 among thresholds that wrongly abstain on at most 5% of answerable questions.
# There: precision 0.875, recall 0.636, 1.3% of answerable questions wrongly abstained.
# Models without an entry never abstain unless a threshold is given.
CALIBRATED_MIN_SCORE = {DEFAULT_MODEL: 0.8427}
# Cross-check on the bundled sample alone (best dense cosine, 14 chunks): 12 Dutch questions
# it answers scored 0.871-0.909 (English ones 0.825-0.871, so English can abstain), 14
# unrelated ones ("recept voor appeltaart" 0.783, "Wat is de hoofdstad van Peru?" 0.737,
# jeugdzorg, stikstof, vuurwerk, the weather) at most 0.833: 0.8427 falls in that gap too.


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
    min_score: float | None = None  # None: the model's calibrated threshold, if it has one
