"""Shared fixtures: data locations relative to this file, and a clean environment per test."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_DIR = ROOT / "corpus" / "sample"
SAMPLE_FILE = SAMPLE_DIR / "ah-tk-20232024-2096.txt"


def shared_dir() -> Path | None:
    """``$RAG_SHARED_DIR`` or ``../shared`` beside the repository, if present."""
    path = Path(os.environ.get("RAG_SHARED_DIR", ROOT.parent / "shared"))
    return path if (path / "corpus").is_dir() else None


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No user setting leaks into a test; the model cache is shared (conversion is slow)."""
    for var in ("RAG_INDEX", "RAG_MODEL"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def shared() -> Path:
    """The shared data folder; skips the test when it is absent."""
    path = shared_dir()
    if path is None:
        pytest.skip("../shared is not available")
    return path
