"""The chat's login: accounts from ``RAG_AUTH`` or a file, and a guard against guessing.

Gradio checks a password by calling the function it was given with the user name and the
password only (gradio 6.31 ``routes.py``: ``app.auth(username, password)``, no request and so
no client address), so the guard counts failures per user name: after
:data:`FREE_ATTEMPTS` wrong passwords in a row the name is locked for a while that doubles
with every further failure (capped), during which even the right password is refused. Every
failure is also answered a little late, which slows scripted guessing without blocking the
server (the check is a coroutine). Failures and lock-outs are logged.

The guard remembers at most :data:`MAX_TRACKED` names, and forgets a name only
:data:`FORGET_SECONDS` after its last failure or the end of its lock, whichever is later: a
flood of failing names cannot push a locked name out. When every place is taken by a recent
failure, the server is under a guessing attack, and a name the guard does not hold is
refused, right password or not, until places free up: otherwise a guess at such a name would
never count.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rag.errors import RagError

log = logging.getLogger("vraagbaak.login")

FREE_ATTEMPTS = 5
LOCKOUT_SECONDS = 30.0  # the first lock-out; each further failure doubles it
MAX_LOCKOUT_SECONDS = 15 * 60.0
FAILURE_DELAY_SECONDS = 0.25
MAX_TRACKED = 10_000  # user names with failures remembered at once
FORGET_SECONDS = MAX_LOCKOUT_SECONDS  # a name's failures are kept this long after the last


class LoginError(RagError):
    """The login configuration is malformed."""


def read_accounts(auth_env: str | None, auth_file: Path | None) -> dict[str, str]:
    """``user:pass`` pairs from ``RAG_AUTH`` and/or a file (one per line, ``#`` comments)."""
    lines = [auth_env] if auth_env else []
    if auth_file is not None:
        lines += auth_file.read_text(encoding="utf-8").splitlines()
    accounts: dict[str, str] = {}
    for line in (raw.strip() for raw in lines):
        if not line or line.startswith("#"):
            continue
        user, sep, password = line.partition(":")
        if not sep or not user or not password:
            raise LoginError("login must be 'gebruiker:wachtwoord' (RAG_AUTH or --auth-file, "
                             "one pair per line)")
        accounts[user] = password
    return accounts


@dataclass
class _Failures:
    count: int = 0
    locked_until: float = 0.0
    last: float = 0.0  # when the latest failure was

    def forgettable(self, now: float) -> bool:
        return now >= max(self.last, self.locked_until) + FORGET_SECONDS


class LoginGuard:
    """Checks a user name and password, locking a name out after repeated failures."""

    def __init__(self, accounts: dict[str, str], lockout: float = LOCKOUT_SECONDS,
                 free_attempts: int = FREE_ATTEMPTS,
                 failure_delay: float = FAILURE_DELAY_SECONDS,
                 clock: Callable[[], float] = time.monotonic,
                 capacity: int = MAX_TRACKED) -> None:
        self._accounts = dict(accounts)
        self._lockout = lockout
        self._free = free_attempts
        self._delay = failure_delay
        self._clock = clock
        self._capacity = capacity
        self._failures: dict[str, _Failures] = {}

    async def login(self, username: str, password: str) -> bool:
        """The check Gradio awaits; a refusal is answered after a short delay.

        Give Gradio this bound coroutine function itself: Gradio awaits the check only when
        ``inspect.iscoroutinefunction`` says so, and takes any other return value, an
        un-awaited coroutine included, as a verdict.
        """
        accepted = self.check(username, password)
        if not accepted:
            await asyncio.sleep(self._delay)
        return accepted

    def check(self, username: str, password: str) -> bool:
        """Whether to let ``username`` in now (without the delay)."""
        now = self._clock()
        record = self._failures.get(username)
        if record is not None and record.forgettable(now):
            del self._failures[username]
            record = None
        if record is not None and record.locked_until > now:
            log.warning("login refused for %r: locked for %.0f s more after %d failures",
                        username, record.locked_until - now, record.count)
            return False
        if record is None and not self._room(now):
            log.warning("login refused for %r: %d names failed in the last %.0f minutes, "
                        "no more are taken until they are forgotten", username,
                        len(self._failures), FORGET_SECONDS / 60)
            return False
        expected = self._accounts.get(username)
        # Compared in constant time, and against a stand-in for unknown names as well.
        good = hmac.compare_digest(password.encode(), (expected or "\0" + password).encode())
        if good and expected is not None:
            self._failures.pop(username, None)
            return True
        record = self._failures.setdefault(username, _Failures())
        record.count += 1
        record.last = now
        if record.count >= self._free:
            seconds = min(self._lockout * 2 ** (record.count - self._free), MAX_LOCKOUT_SECONDS)
            record.locked_until = now + seconds
            log.warning("login failed for %r (%d in a row): locked for %.0f s",
                        username, record.count, seconds)
        else:
            log.warning("login failed for %r (%d in a row)", username, record.count)
        return False

    def _room(self, now: float) -> bool:
        """Whether a name can be added: the table has room, after forgetting the failures
        that are old enough (never one that is locked or recent)."""
        if len(self._failures) < self._capacity:
            return True
        for name in [n for n, r in self._failures.items() if r.forgettable(now)]:
            del self._failures[name]
        return len(self._failures) < self._capacity
