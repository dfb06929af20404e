"""The chat's login: accounts from ``RAG_AUTH`` or a file, and a guard against guessing.

Gradio checks a password by calling the function it was given with the user name and the
password only (no client address), so the guard counts failures per user name: after
:data:`FREE_ATTEMPTS` wrong passwords in a row the name is locked for a while that doubles
with every further failure (capped), during which even the right password is refused. Every
failure is also answered a little late, which slows scripted guessing without blocking the
server (the check is a coroutine). Failures and lock-outs are logged.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rag.errors import RagError

log = logging.getLogger("vraagbaak.login")

FREE_ATTEMPTS = 5
LOCKOUT_SECONDS = 30.0  # the first lock-out; each further failure doubles it
MAX_LOCKOUT_SECONDS = 15 * 60.0
FAILURE_DELAY_SECONDS = 0.25
_MAX_TRACKED = 10_000  # user names remembered; the oldest are forgotten first


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


class LoginGuard:
    """Checks a user name and password, locking a name out after repeated failures."""

    def __init__(self, accounts: dict[str, str], lockout: float = LOCKOUT_SECONDS,
                 free_attempts: int = FREE_ATTEMPTS,
                 failure_delay: float = FAILURE_DELAY_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._accounts = dict(accounts)
        self._lockout = lockout
        self._free = free_attempts
        self._delay = failure_delay
        self._clock = clock
        self._failures: OrderedDict[str, _Failures] = OrderedDict()

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
        if record is not None and record.locked_until > now:
            log.warning("login refused for %r: locked for %.0f s more after %d failures",
                        username, record.locked_until - now, record.count)
            return False
        expected = self._accounts.get(username)
        # Compared in constant time, and against a stand-in for unknown names as well.
        good = hmac.compare_digest(password.encode(), (expected or "\0" + password).encode())
        if good and expected is not None:
            self._failures.pop(username, None)
            return True
        record = self._remember(username)
        record.count += 1
        if record.count >= self._free:
            seconds = min(self._lockout * 2 ** (record.count - self._free), MAX_LOCKOUT_SECONDS)
            record.locked_until = now + seconds
            log.warning("login failed for %r (%d in a row): locked for %.0f s",
                        username, record.count, seconds)
        else:
            log.warning("login failed for %r (%d in a row)", username, record.count)
        return False

    def _remember(self, username: str) -> _Failures:
        record = self._failures.pop(username, None) or _Failures()
        self._failures[username] = record
        while len(self._failures) > _MAX_TRACKED:
            self._failures.popitem(last=False)
        return record
