"""End to end, as staff use it: the real app in a subprocess, driven in headless Chromium.

Needs Debian's ``chromium`` (``apt-get install -y chromium``) and the ``playwright`` Python
package; Playwright never downloads a browser of its own here. Outside CI the test skips
when Chromium is missing; in CI (``CI=true``) that is a failure. Screenshots of the chat are
saved to ``artifacts/``: ``chat-desktop.png`` (1400 px wide), ``chat-mobile.png`` (390 px),
``hostile.png``.
"""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rag.feedback import FEEDBACK_FILE
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

OFFICIAL = "https://zoek.officielebekendmakingen.nl/ah-tk-20232024-2096.html"
FIRST_HEADER = "1. nr. 2096 · vraag 11 · 2 sep 2024 · SZW, EZ"

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


def _start_app(root: Path, index_dir: Path, port: int) -> subprocess.Popen:
    """app.py over ``index_dir`` on ``port``, logging into ``root/app.log`` (appended, so a
    restart keeps the first run's lines); serving when this returns."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAG_", "GRADIO_"))}
    env.update(GRADIO_ANALYTICS_ENABLED="False", PYTHONUNBUFFERED="1")
    log = root / "app.log"
    with log.open("a") as out:
        proc = subprocess.Popen(
            [sys.executable, str(ROOT / "app.py"), "--index", str(index_dir), "--model",
             "hash:256", "--port", str(port), "--min-score", str(HASH_MIN_SCORE)],
            cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        seconds = _wait_until_serving(proc, f"http://127.0.0.1:{port}/", log)
    except BaseException:
        _stop(proc)
        raise
    print(f"app serving after {seconds:.1f} s")
    return proc


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="module")
def app_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    _require_browser()
    root = tmp_path_factory.mktemp("browser")
    build_test_index(root)
    return root


@pytest.fixture(scope="module")
def app_url(app_root: Path) -> Iterator[str]:
    """The app on a free loopback port over the test index; always stopped afterwards."""
    port = _free_port()
    proc = _start_app(app_root, app_root / "index", port)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        _stop(proc)


@pytest.fixture(scope="module")
def browser(app_url: str) -> Iterator[Any]:
    sync_playwright = _require_browser()
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def _open(browser: Any, url: str, width: int = 1400, height: int = 1000) -> Any:
    """A fresh page on the chat; every JavaScript dialog it opens is recorded in ``.dialogs``."""
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.dialogs = []
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(url, wait_until="domcontentloaded")
    page.locator("#vb-question textarea").wait_for(timeout=REPLY_TIMEOUT)
    return page


@pytest.fixture
def page(browser: Any, app_url: str) -> Iterator[Any]:
    page = _open(browser, app_url)
    yield page
    page.context.close()


def ask(page: Any, question: str, replies_before: int = 0) -> Any:
    """Type a question, press Enter, and wait for the next reply; returns that reply."""
    box = page.locator("#vb-question textarea")
    box.fill(question)
    box.press("Enter")
    return _reply(page, replies_before)


def _reply(page: Any, replies_before: int) -> Any:
    replies = page.locator("#vb-chat .vb-head, #vb-chat .vb-notice")
    replies.nth(replies_before).wait_for(timeout=REPLY_TIMEOUT)
    page.wait_for_timeout(400)  # the reply is opened at its top in the next animation frame
    return replies.nth(replies_before)


def _in_view_and_uncovered(page: Any, element: Any) -> None:
    """``element`` lies inside the window and inside the chat's visible area, and what is
    drawn at its corners and middle is the element itself (no label, arrow or button over
    it)."""
    box = element.bounding_box()
    assert box is not None
    viewport = page.viewport_size
    assert box["y"] >= 0 and box["y"] + box["height"] <= viewport["height"], box
    assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"], box
    log_box = page.locator("#vb-chat [role=log]").bounding_box()
    assert log_box["y"] <= box["y"] and box["y"] + box["height"] <= log_box["y"] + log_box[
        "height"], (box, log_box)
    covered = element.evaluate("""e => {
        const r = e.getBoundingClientRect();
        const points = [[r.left + 2, r.top + 2], [r.right - 2, r.top + 2],
                        [r.left + r.width / 2, r.top + r.height / 2],
                        [r.left + 2, r.bottom - 2], [r.right - 2, r.bottom - 2]];
        return points.filter(([x, y]) => {
            const hit = document.elementFromPoint(x, y);
            return !(hit && (e.contains(hit) || hit.contains(e)));
        }).length; }""")
    assert covered == 0


def _injected(page: Any) -> int:
    """Elements inside the chat that only document text could have produced."""
    return page.evaluate(
        "document.querySelectorAll('#vb-chat script, #vb-chat img, #vb-chat iframe, "
        "#vb-chat a[href^=\"javascript\"], #vb-chat .katex').length")


def test_the_terminal_shows_the_chats_own_lines(app_root: Path, app_url: str) -> None:
    log = (app_root / "app.log").read_text()
    assert f"Open {app_url.rstrip('/')} in a browser; stop with Ctrl-C." in log
    # Gradio's hint about share=True contradicts the chat's own --share flag
    assert "share=True" not in log and "To create a public link" not in log


def test_question_gets_the_quote_and_citation(page: Any) -> None:
    started = time.perf_counter()
    ask(page, ADVIESRAAD)
    print(f"reply after {time.perf_counter() - started:.2f} s")
    first = page.locator("#vb-chat .vb-hit").first
    assert first.locator(".vb-cite").inner_text() == FIRST_HEADER
    assert ADVIESRAAD_QUOTE in first.locator(".vb-quote").inner_text()
    assert page.locator("#vb-chat .vb-hit").count() == 5  # the default number of results
    # the full citation one click away, in the hit and in the side panel to copy
    first.locator("details.vb-citation summary").click()
    assert first.locator("details.vb-citation").inner_text().endswith(
        f"{ADVIESRAAD_CITATION} — antwoord van de minister van Sociale Zaken en "
        "Werkgelegenheid en de minister van Economische Zaken, ontvangen 2 september 2024")
    citation = page.locator("#vb-citation textarea").input_value()
    assert citation.startswith(f"{ADVIESRAAD_CITATION} — antwoord van de minister van Sociale")
    # the result picker names the vraag
    assert page.locator("#vb-pick input").input_value() == "1. nr. 2096 · vraag 11"
    assert page.dialogs == [] and _injected(page) == 0
    first.locator("details.vb-full summary").click()
    assert "Naar verwachting wordt dit najaar een voorstel" in first.locator(
        "details.vb-full").inner_text()


def test_each_reply_opens_at_its_top(page: Any) -> None:
    """The question just asked and the best hit are in view after every reply, not the
    weakest hit at the bottom, and nothing is drawn over the header."""
    for n, question in enumerate([ADVIESRAAD, "Komt er een AI-fabriek in Nederland?",
                                  "Wat doet het kabinet om het mkb te helpen met AI?"]):
        reply = ask(page, question, replies_before=n)
        header = reply.locator("xpath=..").locator(".vb-cite").first
        _in_view_and_uncovered(page, header)
        asked = page.locator("#vb-chat .message-row").filter(has_text=question).last
        _in_view_and_uncovered(page, asked)
    assert page.locator("#vb-chat .scroll-down-button-container:visible").count() == 0
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "chat-desktop.png"))


def test_on_a_phone_the_reply_opens_at_its_top(browser: Any, app_url: str) -> None:
    page = _open(browser, app_url, width=390, height=844)
    try:
        ask(page, ADVIESRAAD)
        reply = ask(page, "Komt er een AI-fabriek in Nederland?", replies_before=1)
        _in_view_and_uncovered(page, reply.locator("xpath=..").locator(".vb-cite").first)
        # the whole best hit fits, its relevance, link and source line included
        _in_view_and_uncovered(page, reply.locator("xpath=..").locator(".vb-meta").first)
        first = reply.locator("xpath=..").locator(".vb-hit").first.bounding_box()
        log = page.locator("#vb-chat [role=log]").bounding_box()
        assert first["y"] + first["height"] <= log["y"] + log["height"], (first, log)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "chat-mobile.png"))
    finally:
        page.context.close()


def test_every_hit_links_to_the_official_publication(page: Any) -> None:
    ask(page, ADVIESRAAD)
    links = page.locator("#vb-chat .vb-hit a")
    assert links.count() == 5  # the sanitizer kept every link
    for i in range(links.count()):
        link = links.nth(i)
        assert link.get_attribute("href") == OFFICIAL
        assert link.get_attribute("target") == "_blank"
        assert set((link.get_attribute("rel") or "").split()) >= {"noopener", "noreferrer"}
        assert link.inner_text() == "officiële tekst ↗"


def test_an_over_long_question_stays_in_the_box(page: Any) -> None:
    pasted = ("Dit is een lange geplakte tekst over AI en werk. " * 70)[:2999] + "?"
    reply = ask(page, pasted)
    assert "De vraag is te lang (3000 tekens)" in reply.inner_text()
    assert page.locator("#vb-question textarea").input_value() == pasted
    ask(page, "Komt er een AI-adviesraad?", replies_before=1)
    assert page.locator("#vb-question textarea").input_value() == ""  # asked: box emptied


def test_an_example_asks_at_once(page: Any) -> None:
    page.locator("#vb-examples").get_by_text("Komt er een AI-fabriek in Nederland?").click()
    reply = _reply(page, 0)
    assert "eerdere antwoorden gevonden" in reply.inner_text()
    assert page.locator("#vb-chat .message-row").first.inner_text().strip() == (
        "Komt er een AI-fabriek in Nederland?")
    assert page.locator("#vb-chat .vb-hit").count() == 5


def _judgements(db: Path) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT verdict, reason, question, doc_id, vraag, rank "
                            "FROM judgement ORDER BY id").fetchall()


def _own_app(root: Path) -> tuple[Path, int, subprocess.Popen]:
    """A test index and a database of its own in ``root`` (created), and the app serving
    them on a free port: (index folder, port, process)."""
    root.mkdir()
    index_dir = build_test_index(root)
    port = _free_port()
    return index_dir, port, _start_app(root, index_dir, port)


def test_a_thumbs_up_is_stored_and_kept_across_a_restart(browser: Any,
                                                         tmp_path: Path) -> None:
    root = tmp_path / "restart"
    index_dir, port, proc = _own_app(root)
    db = index_dir / FEEDBACK_FILE
    try:
        page = _open(browser, f"http://127.0.0.1:{port}/")
        ask(page, ADVIESRAAD)
        hits = page.locator("#vb-chat .message-row", has=page.locator(".vb-hit"))
        hits.nth(0).get_by_role("button", name="Like", exact=True).click()
        hits.nth(1).get_by_role("button", name="Feedback").hover()
        hits.nth(1).get_by_role("button", name="Verkeerde vraag").click()
        page.locator("#vb-none").click()
        deadline = time.perf_counter() + 20
        while len(_judgements(db) if db.exists() else []) < 3:
            assert time.perf_counter() < deadline, "judgements were not stored"
            time.sleep(0.2)
        page.context.close()
    finally:
        _stop(proc)
    stored = _judgements(db)
    assert stored[0] == ("up", None, ADVIESRAAD, "ah-tk-20232024-2096", "[11]", 1)
    assert stored[1][:2] == ("down", "verkeerde vraag") and stored[1][5] == 2
    assert stored[2] == ("none", None, ADVIESRAAD, None, "[]", None)
    assert len(stored) == 3  # the reason menu's double message is stored once
    proc = _start_app(root, index_dir, port)  # the chat starts again on the same index
    try:
        assert _judgements(db) == stored
        page = _open(browser, f"http://127.0.0.1:{port}/")
        ask(page, "Komt er een AI-fabriek in Nederland?")
        page.locator("#vb-chat .message-row", has=page.locator(".vb-hit")).nth(0) \
            .get_by_role("button", name="Like", exact=True).click()
        deadline = time.perf_counter() + 20
        while len(_judgements(db)) < 4:
            assert time.perf_counter() < deadline, "the judgement after the restart was lost"
            time.sleep(0.2)
        page.context.close()
    finally:
        _stop(proc)
    assert _judgements(db)[:3] == stored
    assert "Judgements are stored in" in (root / "app.log").read_text()
    shutil.rmtree(root / "index")


def test_none_of_these_after_a_notice_judges_nothing(browser: Any, tmp_path: Path) -> None:
    """"Geen van deze" belongs to the latest reply: after "Geen eerder antwoord gevonden" or a
    refused question it stores nothing (not a row against the question before it) and says
    so; after a reply with hits it judges that reply."""
    index_dir, port, proc = _own_app(tmp_path / "none")
    db = index_dir / FEEDBACK_FILE
    try:
        page = _open(browser, f"http://127.0.0.1:{port}/")
        ask(page, ADVIESRAAD)
        for n, question in enumerate([NONSENSE, "   "], start=1):
            ask(page, question, replies_before=n)
            page.locator("#vb-none").click()
            toast = page.get_by_text("er valt niets te beoordelen")
            toast.first.wait_for(timeout=REPLY_TIMEOUT)
        page.wait_for_timeout(1000)  # a row, if one were written, is written by now
        assert not db.exists() or _judgements(db) == []
        ask(page, "Komt er een AI-fabriek in Nederland?", replies_before=3)
        page.locator("#vb-none").click()
        deadline = time.perf_counter() + 20
        while not (db.exists() and _judgements(db)):
            assert time.perf_counter() < deadline, "the judgement was not stored"
            time.sleep(0.2)
        page.context.close()
    finally:
        _stop(proc)
    assert _judgements(db) == [("none", None, "Komt er een AI-fabriek in Nederland?", None,
                                "[]", None)]


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
    hrefs = page.eval_on_selector_all("#vb-chat a", "links => links.map(a => a.href)")
    assert hrefs and all(h.startswith("https://zoek.officielebekendmakingen.nl/") for h in hrefs)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "hostile.png"), full_page=True)


def test_no_answer_and_empty_input_are_messages(page: Any) -> None:
    reply = ask(page, NONSENSE)
    assert "Geen eerder antwoord gevonden" in reply.inner_text()
    assert page.locator("#vb-chat .vb-hit").count() == 0
    assert page.locator("#vb-chat button[aria-label=Like]:visible").count() == 0  # nothing to judge
    reply = ask(page, "   ", replies_before=1)
    assert "De vraag is leeg" in reply.inner_text()
    reply = ask(page, f"<b>{NONSENSE}</b>", replies_before=2)
    assert "Geen eerder antwoord gevonden" in reply.inner_text()
    assert page.locator("#vb-chat b").count() == 0  # the echoed question is text too
    assert f"<b>{NONSENSE}</b>" in page.locator("#vb-chat").inner_text()
