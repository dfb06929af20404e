"""The HTTP client against a local server with injected faults (no network).

Waits are recorded by an injected ``sleep`` instead of being slept, so backoff and
``Retry-After`` are checked exactly and the tests stay fast. The bodies are synthetic bytes;
the faults act out what the issue and the services' documentation describe (429 with
``Retry-After`` in seconds or as an HTTP date, 5xx, timeouts, cut-off bodies, and
officielebekendmakingen.nl's redirect to an error page for a missing file, as
``berthubert/tkconv`` ``oppull.cc`` and ``openkamer/tkapi`` ``tkapi/util/document.py`` detect it).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from rag import __version__
from rag.opendata.http import Client, HttpError, HttpSettings, NotFound, retry_after
from tests.opendata_server import FakeServices

PATH = "/koop/test.pdf"
BODY = b"%PDF-1.4\n" + b"x" * 5000 + b"\n%%EOF\n"


@pytest.fixture
def services() -> Iterator[FakeServices]:
    with FakeServices() as fake:
        fake.put(PATH, "application/pdf", BODY)
        yield fake


@pytest.fixture
def waits() -> list[float]:
    return []


@pytest.fixture
def client(waits: list[float]) -> Iterator[Client]:
    settings = HttpSettings(rate=0, timeout=0.4, attempts=4, backoff=0.5, max_wait=30)
    with Client(settings, sleep=waits.append) as c:
        yield c


def test_a_plain_get_names_the_project(services: FakeServices, client: Client) -> None:
    response = client.get(services.base + PATH, accept="application/pdf")
    assert response.content == BODY and response.content_type == "application/pdf"
    agent = services.requests[0].headers["User-Agent"]
    assert agent == f"Vraagbaak/{__version__} (rag fetch)"  # no address it cannot vouch for
    assert services.requests[0].headers["Accept"] == "application/pdf"


def test_the_user_agent_is_the_users_to_choose(services: FakeServices) -> None:
    agent = "Vraagbaak/0.1.0 (griffie ICT; contact: beheer@example.org)"
    with Client(HttpSettings(rate=0, user_agent=agent)) as c:
        c.get(services.base + PATH)
    assert services.requests[0].headers["User-Agent"] == agent


def test_redirect_hops_are_requests_of_their_own(services: FakeServices,
                                                 waits: list[float]) -> None:
    """Each hop of a redirect is counted and waits its turn under the host's rate limit:
    two GETs that each redirect once are four requests, 0.5 s apart at 2 a second."""
    services.files["/moved.pdf"] = (302, PATH, b"")
    clock = iter([0.0, 0.0, 0.0, 0.0]).__next__
    with Client(HttpSettings(rate=2.0), sleep=waits.append, clock=clock) as c:
        assert c.get(services.base + "/moved.pdf").content == BODY
        assert c.get(services.base + "/moved.pdf").content == BODY
        assert c.requests == 4
    assert [r.path for r in services.requests] == ["/moved.pdf", PATH] * 2
    assert waits == pytest.approx([0.5, 1.0, 1.5])


def test_the_rate_limit_is_per_host(waits: list[float]) -> None:
    with FakeServices() as one, FakeServices() as other:
        one.put(PATH, "application/pdf", BODY)
        other.put(PATH, "application/pdf", BODY)
        clock = iter([0.0, 0.0, 0.0]).__next__
        with Client(HttpSettings(rate=1.0), sleep=waits.append, clock=clock) as c:
            c.get(one.base + PATH)
            c.get(other.base + PATH)  # another host: no wait
            c.get(one.base + PATH)  # the first host again: a second after its first
    assert waits == [1.0]


def test_a_response_that_takes_too_long_in_all_is_cut_off(services: FakeServices) -> None:
    """Every chunk arrives within the timeout, the whole does not arrive within the
    deadline: the request is retried, then given up."""
    services.fault(PATH, "drip:3", "drip:3")
    with Client(HttpSettings(rate=0, timeout=1, deadline=0.5, attempts=2, backoff=0.01)) as c, \
            pytest.raises(HttpError, match=r"took longer than 0.5 s \(gave up after 2"):
        c.get(services.base + PATH)


def test_server_errors_are_retried_with_exponential_backoff(
        services: FakeServices, client: Client, waits: list[float]) -> None:
    services.fault(PATH, "500", "500", "500")
    assert client.get(services.base + PATH).content == BODY
    assert services.count(PATH) == 4
    assert waits == [0.5, 1.0, 2.0]


def test_retries_run_out_with_the_last_reason(services: FakeServices, client: Client) -> None:
    services.fault(PATH, "500", "500", "500", "500")
    with pytest.raises(HttpError, match=r"HTTP 500 \(gave up after 4 attempts\)"):
        client.get(services.base + PATH)


def test_429_honours_retry_after_in_seconds(
        services: FakeServices, client: Client, waits: list[float]) -> None:
    services.fault(PATH, "429:7")
    assert client.get(services.base + PATH).content == BODY
    assert waits == [7.0]


def test_429_honours_retry_after_as_an_http_date(
        services: FakeServices, client: Client, waits: list[float]) -> None:
    services.fault(PATH, "429-date:12")
    assert client.get(services.base + PATH).content == BODY
    assert len(waits) == 1 and 9.0 <= waits[0] <= 12.5


def test_retry_after_is_capped(services: FakeServices, waits: list[float]) -> None:
    services.fault(PATH, "429:3600")
    with Client(HttpSettings(rate=0, max_wait=20), sleep=waits.append) as c:
        c.get(services.base + PATH)
    assert waits == [20.0]


def test_retry_after_parsing() -> None:
    now = datetime(2024, 6, 3, 12, 0, 0, tzinfo=UTC)
    assert retry_after("120", now) == 120.0
    assert retry_after("Mon, 03 Jun 2024 12:00:30 GMT", now) == 30.0
    assert retry_after("Mon, 03 Jun 2024 11:00:00 GMT", now) == 0.0
    assert retry_after("soon", now) is None and retry_after(None, now) is None


def test_a_timeout_is_retried(services: FakeServices, client: Client) -> None:
    services.fault(PATH, "slow:1.5")
    assert client.get(services.base + PATH).content == BODY
    assert services.count(PATH) == 2


def test_a_truncated_body_is_retried(services: FakeServices, client: Client) -> None:
    services.fault(PATH, "truncate", "reset")
    assert client.get(services.base + PATH).content == BODY
    assert services.count(PATH) == 3


def test_a_connection_refused_is_retried_then_reported(waits: list[float]) -> None:
    with FakeServices() as fake:
        dead = fake.base  # the port is closed once the server is gone
    with Client(HttpSettings(rate=0, attempts=3, backoff=0.1), sleep=waits.append) as c, \
            pytest.raises(HttpError, match="connection failed"):
        c.get(dead + PATH)
    assert waits == [0.1, 0.2]


def test_404_and_soft_404_are_not_found_at_once(services: FakeServices, client: Client,
                                                waits: list[float]) -> None:
    with pytest.raises(NotFound):
        client.get(services.base + "/koop/none.pdf")
    with pytest.raises(NotFound):  # a redirect to the error page, as KOOP answers
        client.get(services.publications_url + "/ah-tk-20232024-1893.xml")
    assert waits == []


def test_the_rate_limit_spaces_requests(services: FakeServices, waits: list[float]) -> None:
    clock = iter([0.0, 0.1, 0.2, 0.9]).__next__
    with Client(HttpSettings(rate=2.0), sleep=waits.append, clock=clock) as c:
        for _ in range(4):
            c.get(services.base + PATH)
    # slots at 0.0, 0.5, 1.0, 1.5: the 2nd waits 0.4, the 3rd 0.8 (clock 0.2), the 4th 0.6
    assert waits == pytest.approx([0.4, 0.8, 0.6])


def test_a_body_over_the_size_limit_is_refused(services: FakeServices) -> None:
    with Client(HttpSettings(rate=0, max_bytes=1000)) as c, \
            pytest.raises(HttpError, match="too large"):
        c.get(services.base + PATH)
