"""Shared fixtures: data locations relative to this file, and a clean environment per test."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_DIR = ROOT / "corpus" / "sample"
SAMPLE_FILE = SAMPLE_DIR / "ah-tk-20232024-2096.txt"


# Read once, before the per-test clean-up below clears every RAG_* variable.
_SHARED = Path(os.environ.get("RAG_SHARED_DIR", ROOT.parent / "shared"))


def shared_dir() -> Path | None:
    """``$RAG_SHARED_DIR`` or ``../shared`` beside the repository, if present."""
    return _SHARED if (_SHARED / "corpus").is_dir() else None


@pytest.fixture(scope="session")
def _caches(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache folder for the whole session: the model is converted into it once (~10 s),
    and nothing a test does reaches the user's own caches."""
    return tmp_path_factory.mktemp("caches")


def _isolate(patch: pytest.MonkeyPatch, caches: Path) -> None:
    """Clear every user setting and point every cache into the test session."""
    for var in [v for v in os.environ if v.startswith(("RAG_", "GRADIO_"))]:
        patch.delenv(var)
    patch.setenv("RAG_CACHE_DIR", str(caches / "vraagbaak"))
    patch.setenv("XDG_CACHE_HOME", str(caches / "xdg"))
    patch.setenv("HF_HOME", str(caches / "huggingface"))
    patch.setenv("MPLCONFIGDIR", str(caches / "matplotlib"))
    patch.setenv("GRADIO_ANALYTICS_ENABLED", "False")


@pytest.fixture(scope="session", autouse=True)
def _session_env(_caches: Path) -> Iterator[None]:
    """The same clean environment for module- and session-scoped fixtures (a module fixture
    that builds an index runs before any per-test fixture), restored at the end."""
    with pytest.MonkeyPatch.context() as patch:
        _isolate(patch, _caches)
        yield


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, _caches: Path) -> None:
    """No user setting leaks into a test, and every cache points into the test session."""
    _isolate(monkeypatch, _caches)


@pytest.fixture
def shared() -> Path:
    """The shared data folder; skips the test when it is absent."""
    path = shared_dir()
    if path is None:
        pytest.skip("../shared is not available")
    return path
