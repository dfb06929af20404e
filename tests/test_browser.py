"""End to end, as staff use it: the real app in a subprocess, driven in headless Chromium.

Needs Debian's ``chromium`` (``apt-get install -y chromium``) and the ``playwright`` Python
package; Playwright never downloads a browser of its own here. Outside CI the test skips
when Chromium is missing; in CI (``CI=true``) that is a failure. The screenshot of the chat
is saved to ``artifacts/chat.png``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT
from tests.test_app import (
    ADVIESRAAD,
    ADVIESRAAD_CITATION,
    ADVIESRAAD_QUOTE,
    HASH_MIN_SCORE,
    HOSTILE_QUESTION,
    NONSENSE,
    build_test_index,
)

CHROMIUM = Path("/usr/bin/chromium")
# The flags this machine's Chromium needs headless as root, and none of its background traffic.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
ARTIFACTS = ROOT / "artifacts"
START_TIMEOUT = 120  # seconds; the hashing model makes start-up a few seconds
REPLY_TIMEOUT = 30_000  # milliseconds


def _require_browser() -> Any:
    in_ci = os.environ.get("CI", "").lower() in ("1", "true", "yes")
    missing = None
    if not CHROMIUM.exists():
        missing = f"{CHROMIUM} not found (apt-get install -y chromium)"
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing = missing or "the playwright package is not installed (pip install playwright)"
    if missing:
        if in_ci:
            pytest.fail(f"browser test cannot run in CI: {missing}")
        pytest.skip(missing)
    return sync_playwright


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_serving(proc: subprocess.Popen, url: str, log: Path) -> float:
    started = time.perf_counter()
    while time.perf_counter() - started < START_TIMEOUT:
        if proc.poll() is not None:
            pytest.fail(f"app exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return time.perf_counter() - started
        except OSError:
            time.sleep(0.3)
    pytest.fail(f"app did not serve {url} within {START_TIMEOUT} s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app on a free loopback port over the test index; always stopped afterwards."""
    _require_browser()
    root = tmp_path_factory.mktemp("browser")
    index_dir = build_test_index(root)
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAG_", "GRADIO_"))}
    env.update(GRADIO_ANALYTICS_ENABLED="False", PYTHONUNBUFFERED="1")
    log = root / "app.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, str(ROOT / "app.py"), "--index", str(index_dir), "--model",
             "hash:256", "--port", str(port), "--min-score", str(HASH_MIN_SCORE)],
            cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}/"
        seconds = _wait_until_serving(proc, url, log)
        print(f"app serving after {seconds:.1f} s")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def browser(app_url: str) -> Iterator[Any]:
    sync_playwright = _require_browser()
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Any, app_url: str) -> Iterator[Any]:
    """A fresh page on the chat; every JavaScript dialog it opens is recorded in ``.dialogs``."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.dialogs = []
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(app_url, wait_until="domcontentloaded")
    page.locator("#vb-question textarea").wait_for(timeout=REPLY_TIMEOUT)
    yield page
    context.close()


def ask(page: Any, question: str, replies_before: int = 0) -> Any:
    """Type a question, press Enter, and wait for the next reply; returns that reply."""
    box = page.locator("#vb-question textarea")
    box.fill(question)
    box.press("Enter")
    replies = page.locator("#vb-chat .vb-head, #vb-chat .vb-notice")
    replies.nth(replies_before).wait_for(timeout=REPLY_TIMEOUT)
    return replies.nth(replies_before)


def _injected(page: Any) -> int:
    """Elements inside the chat that only document text could have produced."""
    return page.evaluate(
        "document.querySelectorAll('#vb-chat script, #vb-chat img, #vb-chat iframe, "
        "#vb-chat a[href^=\"javascript\"], #vb-chat .katex').length")


def test_question_gets_the_quote_and_citation(page: Any) -> None:
    started = time.perf_counter()
    ask(page, ADVIESRAAD)
    print(f"reply after {time.perf_counter() - started:.2f} s")
    first = page.locator("#vb-chat .vb-hit").first
    assert ADVIESRAAD_CITATION in first.locator(".vb-cite").inner_text()
    assert ADVIESRAAD_QUOTE in first.locator(".vb-quote").inner_text()
    assert page.locator("#vb-chat .vb-hit").count() == 5  # the default number of results
    # the side panel holds the long citation to copy, and the whole vraag and antwoord
    citation = page.locator("#vb-citation textarea").input_value()
    assert citation.startswith(f"{ADVIESRAAD_CITATION} — antwoord van de minister van Sociale")
    assert page.dialogs == [] and _injected(page) == 0
    # the screenshot shows the conversation from its start: question, then the best passages
    page.wait_for_timeout(500)  # let the chat's own autoscroll finish first
    page.evaluate("document.querySelectorAll('#vb-chat *').forEach("
                  "e => { if (e.scrollHeight > e.clientHeight + 10) e.scrollTop = 0; })")
    page.locator("#vb-chat .vb-head").wait_for(state="visible")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "chat.png"), full_page=True)
    first.locator("details.vb-full summary").click()
    assert "Naar verwachting wordt dit najaar een voorstel" in first.locator(
        "details.vb-full").inner_text()


def test_hostile_document_is_shown_as_text(page: Any) -> None:
    reply = ask(page, HOSTILE_QUESTION)
    assert reply.is_visible()
    first = page.locator("#vb-chat .vb-hit").first
    first.locator("details.vb-full summary").click()
    shown = first.inner_text()
    assert "<script>alert('antwoord')</script>" in shown
    assert "[de handreiking](javascript:alert('md'))" in shown
    assert "$$x^2$$" in shown
    page.wait_for_timeout(500)  # give any injected handler the chance to fire
    assert page.dialogs == []
    assert _injected(page) == 0
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "hostile.png"), full_page=True)


def test_no_answer_and_empty_input_are_messages(page: Any) -> None:
    reply = ask(page, NONSENSE)
    assert "Geen eerder antwoord gevonden" in reply.inner_text()
    assert page.locator("#vb-chat .vb-hit").count() == 0
    reply = ask(page, "   ", replies_before=1)
    assert "De vraag is leeg" in reply.inner_text()
    reply = ask(page, f"<b>{NONSENSE}</b>", replies_before=2)
    assert "Geen eerder antwoord gevonden" in reply.inner_text()
    assert page.locator("#vb-chat b").count() == 0  # the echoed question is text too
    assert f"<b>{NONSENSE}</b>" in page.locator("#vb-chat").inner_text()
