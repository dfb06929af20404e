"""The "Nieuwe Kamervragen" tab end to end: the real app in a subprocess, headless Chromium.

Upload a question set, read its sections (newest first, flags visible), tick two passages,
download the Word file and reopen it; then "Meer over dit onderwerp" from a chat hit. The
index is `tests.dossier_data`'s (hashing embedder). Screenshot: ``artifacts/dossier.png``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docx
import pytest

from rag.dossier.word import QUOTE_STYLE
from tests.conftest import ROOT
from tests.dossier_data import KV_ID, KV_SET, build_dossier_index
from tests.test_app import HASH_MIN_SCORE
from tests.test_browser import (
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    REPLY_TIMEOUT,
    _free_port,
    _require_browser,
    _wait_until_serving,
)


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    _require_browser()
    root = tmp_path_factory.mktemp("browser-dossier")
    index_dir = build_dossier_index(root)
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
        _wait_until_serving(proc, url, log)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def page(app_url: str) -> Iterator[Any]:
    sync_playwright = _require_browser()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 1000},
                                      accept_downloads=True)
        page = context.new_page()
        page.goto(app_url, wait_until="domcontentloaded")
        page.locator("#vb-question textarea").wait_for(timeout=REPLY_TIMEOUT)
        yield page
        context.close()
        browser.close()


def _sections(page: Any) -> Any:
    sections = page.locator(".vb-section")
    sections.first.wait_for(timeout=REPLY_TIMEOUT)
    return sections


def test_upload_tick_two_and_download_the_word_file(page: Any, tmp_path: Path) -> None:
    source = tmp_path / f"{KV_ID}.txt"
    source.write_text(KV_SET, encoding="utf-8")
    page.get_by_role("tab", name="Nieuwe Kamervragen").click()
    page.locator("#vb-upload input[type=file]").set_input_files(str(source))
    sections = _sections(page)
    assert sections.count() == 4
    message = page.locator("#vb-dossier-message")
    assert "Concept-beantwoording — de start van de AI-adviesraad" in message.inner_text()
    # vraag 3: three earlier answers, newest first, the newer ones flagged
    third = sections.nth(2)
    third.get_by_text("Vraag 3:", exact=False).first.click()
    body = third.locator(".vb-vraag")
    body.wait_for(timeout=REPLY_TIMEOUT)
    text = body.inner_text()
    assert "Reeds beantwoord" in text and "nr. 3001" in text
    assert text.index("kabinet-Schoof") < text.index("kabinet-Rutte IV") < text.index(
        "kabinet-Rutte III")
    assert "Recenter antwoord beschikbaar" in text
    assert "bijna dezelfde vraag eerder gesteld" in text
    boxes = third.locator(".vb-pick input[type=checkbox]")
    assert boxes.count() == 3
    boxes.nth(0).check()
    boxes.nth(2).check()
    # at once, without waiting: the file is made from the boxes as ticked at the click
    with page.expect_download(timeout=REPLY_TIMEOUT) as download:
        page.locator("#vb-download").click()
    saved = tmp_path / "concept.docx"
    download.value.save_as(str(saved))
    document = docx.Document(str(saved))
    quotes = [p.text for p in document.paragraphs if p.style.name == QUOTE_STYLE]
    assert len(quotes) == 2
    assert quotes[0].startswith("Het kabinet stelt de adviesraad")  # Schoof, newest
    assert quotes[1].startswith("Het kabinet ziet op dit moment geen noodzaak")  # Rutte III
    texts = [p.text for p in document.paragraphs]
    assert "Komt er een adviesraad voorkunstmatige intelligentie?" in texts
    assert len([link for p in document.paragraphs for link in p.hyperlinks]) >= 2
    assert download.value.suggested_filename == (
        "concept-beantwoording-2024Z99999-de-start-van-de-ai-adviesraad.docx")
    # untick one, tick none anew, download again at once: the new file follows
    boxes.nth(0).uncheck()
    with page.expect_download(timeout=REPLY_TIMEOUT) as again:
        page.locator("#vb-download").click()
    saved = tmp_path / "concept-2.docx"
    again.value.save_as(str(saved))
    quotes = [p.text for p in docx.Document(str(saved)).paragraphs
              if p.style.name == QUOTE_STYLE]
    assert len(quotes) == 1 and quotes[0].startswith("Het kabinet ziet op dit moment")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dossier.png"), full_page=True)


def test_more_about_a_chat_hit_opens_its_standing_line(page: Any) -> None:
    box = page.locator("#vb-question textarea")
    box.fill("Wanneer wordt de adviesraad voor kunstmatige intelligentie ingesteld?")
    box.press("Enter")
    page.locator("#vb-chat .vb-head").first.wait_for(timeout=REPLY_TIMEOUT)
    page.locator("#vb-more").click()
    sections = _sections(page)
    assert sections.count() == 1
    assert page.get_by_role("tab", name="Nieuwe Kamervragen").get_attribute(
        "aria-selected") == "true"
    text = sections.first.inner_text()
    assert "Reeds beantwoord" in text and "kabinet-" in text
