"""The folder layout and all-or-nothing writes (synthetic bytes; no fixtures)."""

from __future__ import annotations

from pathlib import Path

from rag.opendata.store import (
    NO_YEAR,
    commit,
    discard,
    identity_of,
    identity_on_disk,
    layout,
    stage,
    year_folder,
)


def test_layout_puts_a_file_and_its_sidecar_in_the_year_folder() -> None:
    assert layout("2023-2024", "ah-tk-20232024-1178", ".xml") == (
        "2023-2024/ah-tk-20232024-1178.xml", "2023-2024/ah-tk-20232024-1178.meta.json")


def test_the_year_folder_agrees_with_the_id_first() -> None:
    assert year_folder("2024-2025", "ah-tk-20232024-1178") == "2023-2024"
    assert year_folder("2025–2026", "ah-1271549") == "2025-2026"
    assert year_folder("../../etc", "ah-1271549") == NO_YEAR
    assert year_folder(None, "ah-1271549") == NO_YEAR


def test_a_staged_file_appears_only_when_committed(tmp_path: Path) -> None:
    (tmp_path / "2023-2024").mkdir()
    final = tmp_path / "2023-2024/a.pdf"
    final.write_bytes(b"old")
    staged = stage(tmp_path, "2023-2024/a.pdf", b"new bytes")
    assert staged.temp.parent == final.parent and staged.temp.name.startswith(".vraagbaak-")
    assert final.read_bytes() == b"old"
    commit(staged)
    assert final.read_bytes() == b"new bytes" and not staged.temp.exists()
    assert identity_on_disk(final) == identity_of(b"new bytes") == staged.identity
    other = stage(tmp_path, "2024-2025/b.pdf", b"never")
    discard(other)
    assert not any(p.is_file() for p in (tmp_path / "2024-2025").iterdir())


def test_symlinks_are_never_files_of_fetch(tmp_path: Path) -> None:
    (tmp_path / "target").write_bytes(b"x")
    (tmp_path / "link").symlink_to(tmp_path / "target")
    assert identity_on_disk(tmp_path / "link") is None
    assert identity_on_disk(tmp_path / "missing") is None
