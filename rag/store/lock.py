"""One build at a time per index folder: an advisory file lock, released even on a crash.

`fcntl.flock` locks belong to the open file: when a build process dies (Ctrl-C, kill -9),
the kernel drops its lock, so a stale lock can never block the next build. The lock file is
opened without truncation and never written: the process holding it is read from
``/proc/locks`` for the message, where the system has it.
"""

from __future__ import annotations

import errno
import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rag.errors import IndexError_

LOCK_FILE = ".build.lock"


class BuildBusy(IndexError_):
    """Another build holds the lock: nothing of it may be touched."""


@contextmanager
def build_lock(index_dir: Path) -> Iterator[Path]:
    """Hold ``index_dir``'s build lock, or fail at once naming the process that has it.

    ``index_dir`` must exist and be the build's own (`rag.store.folder.IndexFolder.claim`).
    Yields the lock file's path. Creating the lock file is a write like any other: an
    ``OSError`` (a full disk) is left to the caller, which knows what the folder holds.
    """
    path = index_dir / LOCK_FILE
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise IndexError_(f"{path} is a link, not the build's lock file; remove it") from None
        raise
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BuildBusy(
                f"another build is already writing {index_dir} ({_holder(fd)}); "
                "wait for it to finish, then run the build again") from None
        try:
            yield path
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _holder(fd: int) -> str:
    """``pid N`` of the process holding the lock on ``fd``'s file, from ``/proc/locks``."""
    inode = os.fstat(fd).st_ino
    try:
        lines = Path("/proc/locks").read_text().splitlines()
    except OSError:
        return "another process"
    for line in lines:
        fields = line.split()
        # "1: FLOCK  ADVISORY  WRITE 3391 00:2d:1234567 0 EOF"
        if len(fields) >= 6 and fields[1] == "FLOCK" and fields[5].rsplit(":", 1)[-1] == str(inode):
            return f"pid {fields[4]}"
    return "another process"
