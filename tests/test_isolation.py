"""The test session's own environment: no user setting reaches a test or a fixture of any
scope, and every cache points into the session (tests/conftest.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.fixture(scope="module")
def module_env() -> dict[str, str]:
    """What a module-scoped fixture (one that builds an index, say) sees."""
    return dict(os.environ)


def test_module_fixtures_see_no_user_setting(module_env):
    assert not [v for v in module_env if v.startswith("RAG_") and v != "RAG_CACHE_DIR"]
    caches = {Path(module_env[v]).parent for v in ("RAG_CACHE_DIR", "HF_HOME", "XDG_CACHE_HOME")}
    assert len(caches) == 1 and caches.pop().name.startswith("caches")  # the session's folder


def test_user_settings_do_not_reach_a_module_fixture(tmp_path):
    env = {**os.environ, "RAG_SCHEDULER": "tcp://127.0.0.1:9", "RAG_INDEX": str(tmp_path),
           "HF_HOME": str(tmp_path / "hf")}
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", __file__,
         "-k", "test_module_fixtures_see_no_user_setting"],
        env=env, capture_output=True, text=True, cwd=Path(__file__).resolve().parents[1])
    assert out.returncode == 0, out.stdout[-2000:]
    assert "1 passed" in out.stdout
