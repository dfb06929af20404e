"""Log output for the entry points (`rag` and the chat): our own records, libraries' warnings.

Called by the front ends when they start, never at import time. One handler on stderr with a
filter does the work instead of logger levels, because some libraries set their own logger's
level when they are imported (bm25s sets ``DEBUG`` on import, so a ``DEBUG bm25s: Building
index from tokens`` line reached the terminal whenever it was first imported after start-up).
A filter on the handler holds whatever levels libraries set.
"""

from __future__ import annotations

import logging
import sys

OWN = "vraagbaak"  # the prefix of every logger of this package and its front ends
FORMAT = "%(levelname)s %(name)s: %(message)s"


class _Threshold(logging.Filter):
    """Our loggers from ``own_level`` up, every other logger from WARNING up."""

    def __init__(self, own_level: int) -> None:
        super().__init__()
        self.own_level = own_level

    def filter(self, record: logging.LogRecord) -> bool:
        own = record.name == OWN or record.name.startswith(OWN + ".")
        return record.levelno >= (self.own_level if own else logging.WARNING)


class _Stderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is when a record comes (a test runner swaps it)."""

    @property  # type: ignore[override]
    def stream(self) -> object:
        return sys.stderr

    @stream.setter
    def stream(self, _value: object) -> None:
        pass


def configure(own_level: int = logging.INFO) -> logging.Handler:
    """Send log records to stderr: ours from ``own_level``, libraries' from WARNING.

    Replaces a handler an earlier call installed, so calling it twice (tests, a restart in
    one process) does not print every line twice. Returns the handler.
    """
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_vraagbaak", False)]:
        root.removeHandler(old)
    handler = _Stderr()
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(_Threshold(own_level))
    handler._vraagbaak = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(logging.WARNING)  # libraries that set no level of their own stay quiet
    logging.getLogger(OWN).setLevel(own_level)
    return handler
