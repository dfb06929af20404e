"""A build writes only into its own folder and deletes only what it can prove it made.

Each test puts a user's files where a build might be tempted to touch them (look-alikes of
the build's own names included) and checks every one is byte-identical afterwards.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from rag.build import build_index
from rag.config import Settings
from rag.errors import IndexError_, RagError
from rag.models.embed import HashingEmbedder
from rag.startup import open_chat_searcher
from rag.store.folder import CURRENT, MARKER, IndexFolder
from rag.store.index import current_generation, load_index
from rag.store.lock import LOCK_FILE
from tests.conftest import SAMPLE_FILE

RAG = [sys.executable, "-m", "rag"]
LOOKALIKES = {
    "gen-2023-photos/beach.jpg": b"\xff\xd8 a photo",
    "gen-2023-photos/album/two.jpg": b"\xff\xd8 another",
    ".gen-backup/b.txt": b"backup",
    ".current-notes": b"notes about the current plan",
    "current": b"my own file called current",
    ".build.lock": b"a file of mine that happens to be called .build.lock",
    "manifest.json": b'{"mine": true}',
    "notes.txt": b"shopping list",
}


def tree(root: Path) -> dict[str, object]:
    """Every entry under ``root``: file bytes, link targets, and folders."""
    out: dict[str, object] = {}
    for path in sorted(root.rglob("*")):
        key = path.relative_to(root).as_posix()
        if path.is_symlink():
            out[key] = ("link", os.readlink(path))
        elif path.is_dir():
            out[key] = "folder"
        else:
            out[key] = path.read_bytes()
    return out


def plant(folder: Path, files: dict[str, bytes]) -> None:
    for name, data in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def corpus_with_sample(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(SAMPLE_FILE, folder / SAMPLE_FILE.name)
    return folder


def rag(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*RAG, *args], cwd=cwd, capture_output=True, text=True, timeout=120,
                          env=env)


def build_cli(corpus: Path, index: Path, cwd: Path,
              env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return rag("build", "--corpus", str(corpus), "--index", str(index), "--model", "hash:256",
               cwd=cwd, env=env)


def assert_refused(result: subprocess.CompletedProcess, why: str) -> None:
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: refusing to build into"), lines
    assert why in lines[0]
    assert "Traceback" not in result.stderr


def test_a_folder_of_user_files_is_refused_and_left_byte_identical(tmp_path: Path) -> None:
    corpus = corpus_with_sample(tmp_path / "corpus")
    mine = tmp_path / "mine"
    plant(mine, LOOKALIKES)
    os.symlink("gen-2023-photos", mine / "gen-link")
    before = tree(mine)
    result = build_cli(corpus, mine, tmp_path)
    assert_refused(result, "not empty and not a Vraagbaak index")
    assert "pass a new or empty folder, e.g. --index index\n" in result.stderr
    assert "earlier version" not in result.stderr  # a file called current is not an index
    assert tree(mine) == before


def test_the_refusal_suggests_a_folder_that_would_be_accepted(tmp_path: Path) -> None:
    corpus = corpus_with_sample(tmp_path / "corpus")
    plant(tmp_path / "index", {"notes.txt": b"mine"})
    plant(tmp_path / "index-2", {"current/x.txt": b"mine too"})
    result = build_cli(corpus, Path("index"), tmp_path)
    assert_refused(result, "not empty and not a Vraagbaak index")
    assert result.stderr.rstrip().endswith("pass a new or empty folder, e.g. --index index-3")
    assert "earlier version" not in result.stderr
    assert build_cli(corpus, Path("index-3"), tmp_path).returncode == 0
    inside = build_cli(corpus, Path("."), corpus)  # from inside the corpus: nothing to suggest
    assert_refused(inside, "it is the corpus folder")
    assert inside.stderr.rstrip().endswith("pass a new or empty folder")


def test_only_an_index_of_an_earlier_version_is_called_one(tmp_path: Path) -> None:
    """Before the marker, an index folder was a link current to a gen-… folder holding a
    manifest: that is what the hint names, not any folder with an entry called current."""
    corpus = corpus_with_sample(tmp_path / "corpus")
    old = tmp_path / "old"
    plant(old, {"gen-5e1f/manifest.json": b"{}", "gen-5e1f/vectors.faiss": b"v"})
    os.symlink("gen-5e1f", old / CURRENT)
    assert_refused(build_cli(corpus, old, tmp_path), "it looks like an index of an earlier "
                   "version: build into a new folder and remove this one yourself")
    for name, files in (("plain", {"current": b"a file"}),
                        ("folder", {"current/x.txt": b"x"}),
                        ("no-manifest", {"gen-1/x.txt": b"x"})):
        folder = tmp_path / name
        plant(folder, files)
        if name == "no-manifest":
            os.symlink("gen-1", folder / CURRENT)
        result = build_cli(corpus, folder, tmp_path)
        assert_refused(result, "not empty and not a Vraagbaak index")
        assert "earlier version" not in result.stderr, name


@pytest.mark.parametrize("where", ["corpus", "inside", "above"])
def test_the_corpus_and_folders_around_it_are_refused(tmp_path: Path, where: str) -> None:
    corpus = corpus_with_sample(tmp_path / "top" / "corpus")
    plant(corpus, {"gen-archief/oud.txt": b"mijn archief", ".current-x": b"x"})
    index = {"corpus": corpus, "inside": corpus / "index", "above": tmp_path / "top"}[where]
    before = tree(tmp_path)
    result = build_cli(corpus, index, tmp_path)
    why = {"corpus": "it is the corpus folder", "inside": "inside the corpus folder",
           "above": "lies inside it"}[where]
    assert_refused(result, why)
    assert tree(tmp_path) == before


def test_root_and_home_are_refused(tmp_path: Path) -> None:
    corpus = corpus_with_sample(tmp_path / "corpus")
    home = tmp_path / "home"
    home.mkdir()
    env = {**os.environ, "HOME": str(home)}
    root_before = sorted(os.listdir("/"))
    assert_refused(build_cli(corpus, Path("/"), tmp_path, env), "it is the root folder")
    assert sorted(os.listdir("/")) == root_before
    # Even an empty home folder is not an index folder.
    assert_refused(build_cli(corpus, home, tmp_path, env), "it is the home folder")
    assert list(home.iterdir()) == []


def test_look_alikes_inside_an_index_folder_survive_every_rebuild(tmp_path: Path) -> None:
    corpus = corpus_with_sample(tmp_path / "corpus")
    index = tmp_path / "index"
    assert build_cli(corpus, index, tmp_path).returncode == 0
    theirs = {k: v for k, v in LOOKALIKES.items()
              if k not in (CURRENT, LOCK_FILE, "manifest.json")}
    plant(index, theirs)
    before = {k: v for k, v in tree(index).items() if k.split("/")[0] in
              {name.split("/")[0] for name in theirs}}
    for _ in range(3):
        result = build_cli(corpus, index, tmp_path)
        assert result.returncode == 0, result.stderr
        after = tree(index)
        assert {k: after[k] for k in before} == before
    assert load_index(index).manifest.n_documents == 1


def test_a_current_the_build_did_not_make_is_refused_not_replaced(tmp_path: Path) -> None:
    corpus = corpus_with_sample(tmp_path / "corpus")
    index = tmp_path / "index"
    assert build_cli(corpus, index, tmp_path).returncode == 0
    generation = current_generation(index)
    (index / CURRENT).unlink()
    (index / CURRENT).mkdir()
    (index / CURRENT / "mine.txt").write_text("user data")
    before = tree(index)
    for _ in range(3):  # retries leave no orphaned generations behind
        assert_refused(build_cli(corpus, index, tmp_path), "is not a link this build made")
        assert tree(index) == before
    (index / CURRENT / "mine.txt").unlink()
    (index / CURRENT).rmdir()
    os.symlink(f"../{generation.parent.name}", index / CURRENT)  # a link, but not to ours
    assert_refused(build_cli(corpus, index, tmp_path), "which this build did not make")


def test_a_registered_generation_replaced_by_a_link_is_not_followed(tmp_path: Path) -> None:
    corpus = corpus_with_sample(tmp_path / "corpus")
    index = tmp_path / "index"
    settings = Settings(index_dir=index, model="hash:256")
    build_index(corpus, settings, HashingEmbedder())
    folder = IndexFolder.claim(index)
    spare = folder.new_generation()  # registered, as if a build had been killed here
    spare.rmdir()
    photos = tmp_path / "photos"
    plant(photos, {"a.jpg": b"photo"})
    os.symlink(photos, spare)
    build_index(corpus, settings, HashingEmbedder())
    assert tree(photos) == {"a.jpg": b"photo"}
    assert spare.is_symlink()  # not ours any more: left alone, and forgotten
    assert spare.name not in folder.register().generations


def test_chat_first_start_refuses_a_folder_of_user_files(tmp_path: Path) -> None:
    index = tmp_path / "index"
    plant(index, {"gen-old/important.txt": b"do not lose me"})
    before = tree(index)
    with pytest.raises(IndexError_, match="refusing to build into"):
        open_chat_searcher(Settings(index_dir=index, model="hash:256"), build_sample=True)
    assert tree(index) == before


def test_a_failed_first_build_leaves_no_index_folder(tmp_path: Path) -> None:
    empty = tmp_path / "empty-corpus"
    empty.mkdir()
    (empty / "notes.md").write_text("geen vragen hier", encoding="utf-8")
    settings = Settings(index_dir=tmp_path / "deep" / "index", model="hash:256")
    with pytest.raises(RagError, match="no answer documents"):
        build_index(empty, settings, HashingEmbedder())
    assert not (tmp_path / "deep").exists()
    made = tmp_path / "made-by-user"
    made.mkdir()
    with pytest.raises(RagError):
        build_index(empty, Settings(index_dir=made, model="hash:256"), HashingEmbedder())
    assert made.is_dir() and list(made.iterdir()) == []  # the user's folder stays, empty
    result = build_cli(empty, tmp_path / "cli-index", tmp_path)
    assert result.returncode == 1 and not (tmp_path / "cli-index").exists()


def test_an_interrupted_build_is_cleaned_from_the_register(tmp_path: Path) -> None:
    corpus = corpus_with_sample(tmp_path / "corpus")
    settings = Settings(index_dir=tmp_path / "index", model="hash:256")
    build_index(corpus, settings, HashingEmbedder())
    folder = IndexFolder.claim(settings.index_dir)
    leftover = folder.new_generation()  # what a kill -9 mid-write leaves
    (leftover / "vectors.faiss").write_bytes(b"half")
    build_index(corpus, settings, HashingEmbedder())
    assert not leftover.exists()
    names = sorted(p.name for p in settings.index_dir.iterdir())
    current = current_generation(settings.index_dir).name
    assert names == sorted([CURRENT, MARKER, LOCK_FILE, current])


def test_the_lock_file_is_never_truncated_or_written(tmp_path: Path) -> None:
    corpus = corpus_with_sample(tmp_path / "corpus")
    settings = Settings(index_dir=tmp_path / "index", model="hash:256")
    build_index(corpus, settings, HashingEmbedder())
    lock = settings.index_dir / LOCK_FILE
    lock.write_bytes(b"someone wrote here")
    build_index(corpus, settings, HashingEmbedder())
    assert lock.read_bytes() == b"someone wrote here"
    lock.unlink()
    os.symlink(tmp_path / "elsewhere", lock)
    with pytest.raises(IndexError_, match="is a link"):
        build_index(corpus, settings, HashingEmbedder())
    assert not (tmp_path / "elsewhere").exists()
