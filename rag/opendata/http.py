"""A thin, polite HTTP client for the open-data services (httpx underneath).

Polite: every request names the project and its version in its User-Agent (configurable:
``--user-agent``), and waits its turn under a rate limit per host (default
:data:`DEFAULT_RATE` requests a second to each). Redirects are followed here, one hop at a
time, so that each hop is a request of its own: counted, and rate-limited for the host it
goes to. Robust: each request has a timeout between bytes and an overall deadline; a 429, a
5xx, a dropped connection, a timeout or a body shorter than its ``Content-Length`` is retried
with exponential backoff, and a ``Retry-After`` header (seconds or an HTTP date) is honoured
up to :attr:`HttpSettings.max_wait`. A 404 is :class:`NotFound` at once, and so is a redirect
to an error page, the way officielebekendmakingen.nl answers for a file it does not have
("soft 404").

Whether a 200 body is the PDF or XML that was asked for is not decided here but in
:mod:`rag.opendata.verify`: this module only moves bytes.
"""

from __future__ import annotations

import email.utils
import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urljoin, urlsplit

import httpx

from rag.errors import FetchError
from rag.opendata.ids import USER_AGENT

DEFAULT_RATE = 3.0  # requests per second to each host
MAX_BYTES = 25 * 1024 * 1024  # the reader's own limit: a larger file could not be indexed
MAX_REDIRECTS = 5
_REDIRECTS = (301, 302, 303, 307, 308)
_SOFT_404 = re.compile(r"fout404|/errors?/404|notfound", re.I)


@dataclass(frozen=True)
class HttpSettings:
    """How the client behaves; tests shrink the waits, users set ``rate`` (``--rate``)."""

    rate: float = DEFAULT_RATE  # requests per second to each host; 0 for no limit
    timeout: float = 60.0  # seconds to connect, and between bytes of a response
    deadline: float = 600.0  # seconds for a whole response, redirects included
    attempts: int = 5  # tries per request, the first included
    backoff: float = 2.0  # seconds before the first retry; doubles each time
    max_wait: float = 120.0  # the longest single wait, Retry-After included
    user_agent: str = USER_AGENT
    max_bytes: int = MAX_BYTES


@dataclass(frozen=True)
class Response:
    """A successful (2xx) response, read to the end."""

    url: str  # the URL finally answered, after redirects
    status: int
    content_type: str  # the media type without parameters, lower case ("" when absent)
    content: bytes


class HttpError(FetchError):
    """A request failed for good: a client error, or retries ran out."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class NotFound(HttpError):
    """The server has no such resource (404/410, or a redirect to its error page)."""


class _Retry(Exception):
    def __init__(self, reason: str, wait: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.wait = wait


def retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: a number of seconds or an HTTP date;
    None when absent or unreadable."""
    if not value or not value.strip():
        return None
    text = value.strip()
    if re.fullmatch(r"\d+(?:\.\d+)?", text):
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class Client:
    """GET with rate limit, timeouts and retries; use as a context manager.

    ``sleep``, ``clock`` and ``now`` are injectable so that tests can check the waits
    without waiting; ``transport`` lets a test swap the network layer.
    """

    def __init__(self, settings: HttpSettings | None = None, *,
                 sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic,
                 now: Callable[[], datetime] = lambda: datetime.now(UTC),
                 transport: httpx.BaseTransport | None = None) -> None:
        self.settings = settings or HttpSettings()
        self._sleep = sleep
        self._clock = clock
        self._now = now
        self._next_slot: dict[str, float] = {}  # host -> when its next request may go
        self.requests = 0  # sent: retries and redirect hops included
        self._http = httpx.Client(
            headers={"User-Agent": self.settings.user_agent},
            timeout=httpx.Timeout(self.settings.timeout),
            follow_redirects=False, transport=transport)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connections."""
        self._http.close()

    def get(self, url: str, params: Mapping[str, str] | None = None,
            accept: str | None = None) -> Response:
        """The response to a GET, read to the end; raises :class:`HttpError` when it fails
        for good and :class:`NotFound` for a resource that is not there."""
        s = self.settings
        last = ""
        for attempt in range(1, s.attempts + 1):
            try:
                return self._once(url, params, accept)
            except _Retry as retry:
                last = retry.reason
                if attempt == s.attempts:
                    break
                wait = retry.wait if retry.wait is not None else s.backoff * 2 ** (attempt - 1)
                self._sleep(min(wait, s.max_wait))
        raise HttpError(f"{_short(url)}: {last} (gave up after {s.attempts} attempts)")

    def get_json(self, url: str, params: Mapping[str, str] | None = None) -> object:
        """The parsed JSON body of a GET (see :meth:`get`)."""
        response = self.get(url, params, accept="application/json")
        try:
            return json.loads(response.content)
        except ValueError as exc:
            raise HttpError(f"{_short(url)}: the answer is not JSON ({exc})") from exc

    def _wait_turn(self, url: str) -> None:
        """Space requests to one host ``1/rate`` seconds apart."""
        if self.settings.rate <= 0:
            return
        host = urlsplit(url).netloc.lower()
        now = self._clock()
        slot = self._next_slot.get(host, 0.0)
        if now < slot:
            self._sleep(slot - now)
            now = slot
        self._next_slot[host] = now + 1.0 / self.settings.rate

    def _once(self, url: str, params: Mapping[str, str] | None, accept: str | None) -> Response:
        """One attempt: the request and each redirect hop, within the deadline."""
        headers = {"Accept": accept} if accept else {}
        started = time.monotonic()
        here: str = url
        for hop in range(MAX_REDIRECTS + 1):
            self._wait_turn(here)
            self.requests += 1
            try:
                with self._http.stream("GET", here, params=params, headers=headers) as r:
                    location = r.headers.get("Location")
                    if r.status_code in _REDIRECTS and location:
                        here, params = urljoin(str(r.url), location), None
                        continue
                    return self._answer(r, url, hop > 0, started)
            except httpx.TimeoutException:
                raise _Retry(f"timed out after {self.settings.timeout:g} s") from None
            except httpx.TransportError as exc:  # refused, reset, or a body cut short
                raise _Retry(f"connection failed ({type(exc).__name__}: {exc})") from None
        raise HttpError(f"{_short(url)}: more than {MAX_REDIRECTS} redirects")

    def _answer(self, r: httpx.Response, url: str, redirected: bool,
                started: float) -> Response:
        """The final response of an attempt, read to the end, or why it failed."""
        if r.status_code == 429 or (r.status_code >= 500 and r.status_code != 501):
            raise _Retry(f"HTTP {r.status_code}",
                         retry_after(r.headers.get("Retry-After"), self._now()))
        final = str(r.url)
        if r.status_code in (404, 410) or (redirected and _SOFT_404.search(final)):
            raise NotFound(f"{_short(url)}: not found (HTTP {r.status_code})", r.status_code)
        if not 200 <= r.status_code < 300:
            raise HttpError(f"{_short(url)}: HTTP {r.status_code}", r.status_code)
        content = self._read(r, url, started)
        kind = r.headers.get("Content-Type", "").split(";")[0].strip().lower()
        return Response(final, r.status_code, kind, content)

    def _read(self, r: httpx.Response, url: str, started: float) -> bytes:
        chunks: list[bytes] = []
        size = 0
        for chunk in r.iter_bytes():
            if time.monotonic() - started > self.settings.deadline:
                raise _Retry(f"took longer than {self.settings.deadline:g} s")
            size += len(chunk)
            if size > self.settings.max_bytes:
                raise HttpError(f"{_short(url)}: too large (over "
                                f"{self.settings.max_bytes / 2**20:.0f} MiB)")
            chunks.append(chunk)
        content = b"".join(chunks)
        declared = r.headers.get("Content-Length")
        encoded = r.headers.get("Content-Encoding", "identity").lower() != "identity"
        if declared and declared.isdigit() and not encoded and int(declared) != len(content):
            raise _Retry(f"body cut short ({len(content)} of {declared} bytes)")
        return content


def _short(url: str) -> str:
    """The URL without its query, for messages a user reads."""
    return url.split("?", 1)[0]
