"""The folder fetch fills, and all-or-nothing writes into it.

Layout: ``DIR/<vergaderjaar>/<id>.<ext>`` with its sidecar ``DIR/<vergaderjaar>/<id>.meta.json``
(``DIR/2023-2024/ah-tk-20232024-1178.xml``); fetch's own bookkeeping lives in the hidden
folder ``DIR/.vraagbaak-fetch/``, which ``rag build`` does not read.

A file is first written in full to a hidden temporary name in its final folder
(``.vraagbaak-<random>.part``), flushed to disk, and only then renamed over its final name:
a rename within a folder is atomic, so a reader (or a crash) sees the old file or the new
one, never half of one. Temporary files left by a killed run are removed by the next run.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from rag.ingest.patterns import YEARS
from rag.ingest.sidecar import SIDECAR_SUFFIX
from rag.opendata import ids

STATE_DIR = ".vraagbaak-fetch"
TEMP_PREFIX = ".vraagbaak-"
TEMP_SUFFIX = ".part"
NO_YEAR = "zonder-vergaderjaar"


@dataclass(frozen=True)
class Identity:
    """What a file must still be for fetch to treat it as its own."""

    size: int
    sha256: str


@dataclass(frozen=True)
class Staged:
    """A file written in full under a temporary name, waiting for :func:`commit`."""

    temp: Path
    final: Path
    rel: str  # the final path relative to DIR, with "/"
    identity: Identity


def identity_of(data: bytes) -> Identity:
    """Size and SHA-256 of some bytes."""
    return Identity(len(data), hashlib.sha256(data).hexdigest())


def identity_on_disk(path: Path) -> Identity | None:
    """The identity of a regular file, or None when there is none (symlinks are not files
    of fetch's)."""
    if path.is_symlink() or not path.is_file():
        return None
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
            size += len(block)
    return Identity(size, digest.hexdigest())


def year_folder(vergaderjaar: str | None, doc_id: str) -> str:
    """``2023-2024``: the year in the id, else the API's Vergaderjaar, else a fixed name.

    The id comes first so that a file's folder always agrees with its name."""
    from_id = ids.vergaderjaar(doc_id)
    if from_id:
        return from_id
    m = YEARS.fullmatch((vergaderjaar or "").strip())
    if m and int(m[2]) == int(m[1]) + 1:
        return f"{m[1]}-{m[2]}"
    return NO_YEAR


def layout(vergaderjaar: str | None, doc_id: str, suffix: str) -> tuple[str, str]:
    """The paths (relative to DIR) of a document's file and of its sidecar."""
    folder = year_folder(vergaderjaar, doc_id)
    return f"{folder}/{doc_id}{suffix}", f"{folder}/{doc_id}{SIDECAR_SUFFIX}"


def stage(root: Path, rel: str, data: bytes) -> Staged:
    """Write ``data`` in full to a temporary file beside ``root/rel``."""
    final = root / rel
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=TEMP_SUFFIX, dir=final.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return Staged(Path(name), final, rel, identity_of(data))


def commit(staged: Staged) -> None:
    """Move a staged file over its final name (atomic) and make the rename durable."""
    os.replace(staged.temp, staged.final)
    _sync_dir(staged.final.parent)


def discard(staged: Staged) -> None:
    """Drop a staged file that will not be committed."""
    staged.temp.unlink(missing_ok=True)


def remove(root: Path, rel: str) -> None:
    """Delete ``root/rel``, a file fetch owns (folders are left, even when emptied)."""
    path = root / rel
    path.unlink(missing_ok=True)
    _sync_dir(path.parent)


def remove_leftovers(root: Path) -> int:
    """Delete temporary files a killed run left behind; returns how many."""
    removed = 0
    for folder, dirs, files in os.walk(root, followlinks=False):
        dirs[:] = [d for d in dirs if d != STATE_DIR]
        for name in files:
            if name.startswith(TEMP_PREFIX) and name.endswith(TEMP_SUFFIX):
                path = Path(folder) / name
                if not path.is_symlink():
                    path.unlink(missing_ok=True)
                    removed += 1
    return removed


def _sync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
