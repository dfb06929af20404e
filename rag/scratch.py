"""The chat's private scratch folder: Gradio's uploads and the Word exports of one process.

The folder is made 0700 in the system's temporary folder (not the shared ``/tmp/gradio``
another app could read from or write into) and removed when the chat stops. A chat that
was killed outright (``kill -9``, a power cut) cannot remove it; so the folder carries a
marker naming the process that made it, and every later start removes the folders whose
marker names a process that is gone. A folder without the marker, of another user, or of
a process still running is never touched, whatever its name: the name only narrows the
search.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import stat
import tempfile
from pathlib import Path

log = logging.getLogger("vraagbaak.scratch")

PREFIX = "vraagbaak-gradio-"
MARKER = "vraagbaak-scratch.json"
_KIND = "vraagbaak-scratch"


def make_scratch() -> tempfile.TemporaryDirectory:
    """A new private folder (0700) with this process's marker; remove it with ``cleanup()``
    or by leaving its ``with`` block."""
    folder = tempfile.TemporaryDirectory(prefix=PREFIX)
    body = json.dumps({"kind": _KIND, "pid": os.getpid(), "started": _started(os.getpid())})
    (Path(folder.name) / MARKER).write_text(body + "\n", encoding="utf-8")
    return folder


def remove_stale(parent: Path | None = None) -> list[Path]:
    """Remove the scratch folders of chats that are no longer running; returns them."""
    parent = Path(parent or tempfile.gettempdir())
    try:
        candidates = [p for p in parent.iterdir() if p.name.startswith(PREFIX)]
    except OSError:
        return []
    removed = []
    for folder in candidates:
        if _is_stale(folder):
            try:
                shutil.rmtree(folder)
            except OSError as exc:
                log.warning("could not remove the scratch folder %s of a stopped chat: %s",
                            folder, exc)
                continue
            removed.append(folder)
    return removed


def _is_stale(folder: Path) -> bool:
    """Whether ``folder`` is this user's scratch folder, marked by a process now gone."""
    try:
        info = folder.lstat()
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
            return False
        marker = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not (isinstance(marker, dict) and marker.get("kind") == _KIND
            and type(marker.get("pid")) is int and isinstance(marker.get("started"), str)):
        return False
    return not _running(marker["pid"], marker["started"])


def _running(pid: int, started: str) -> bool:
    """Whether process ``pid`` is the one that started at ``started`` and still runs (a
    pid the system gave to a new process since does not count)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: leave the folder alone
        return True
    now = _started(pid)
    return not (started and now and now != started)


def _started(pid: int) -> str:
    """The process's start time in clock ticks since boot ("" where ``/proc`` has none)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    fields = text.rsplit(")", 1)[-1].split()  # after "pid (name)": state is field 3
    return fields[19] if len(fields) > 19 else ""
