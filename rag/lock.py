"""One build at a time per index folder: an advisory file lock, released even on a crash.

`fcntl.flock` locks belong to the open file: when a build process dies (Ctrl-C, kill -9),
the kernel drops its lock, so a stale lock can never block the next build.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rag.errors import IndexError_

LOCK_FILE = ".build.lock"


@contextmanager
def build_lock(index_dir: Path) -> Iterator[None]:
    """Hold the index folder's build lock, or fail at once naming the process that has it."""
    index_dir.mkdir(parents=True, exist_ok=True)
    path = index_dir / LOCK_FILE
    with path.open("a+") as fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "another process"
            raise IndexError_(
                f"another build is already writing {index_dir} (pid {holder}); "
                "wait for it to finish, then run the build again") from None
        fh.seek(0)
        fh.truncate()
        fh.write(str(os.getpid()))
        fh.flush()
        try:
            yield
        finally:
            fh.seek(0)
            fh.truncate()
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
