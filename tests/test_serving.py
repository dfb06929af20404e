"""A chat that serves many at once: questions embedded together, no global lock, a polite
"busy" past the limit, and a rebuild picked up at the next question, also by other
processes serving the same folder."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from rag.build import build_index
from rag.chat import ALL_MINISTRIES, ALL_YEARS, Chat
from rag.config import Settings
from rag.models.batching import BatchingEmbedder
from rag.models.embed import HashingEmbedder
from rag.search.live import LiveSearcher
from rag.search.searcher import Searcher, open_searcher
from rag.store.index import current_generation, load_index
from tests.conftest import ROOT, SAMPLE_FILE
from tests.test_chat_safety import _start, _stop


class SlowEmbedder(HashingEmbedder):
    """The hashing embedder, taking a while per call and counting its calls."""

    def __init__(self, seconds: float = 0.05) -> None:
        super().__init__(256)
        self.seconds = seconds
        self.calls: list[int] = []
        self.fail_next = False

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        self.calls.append(len(texts))
        time.sleep(self.seconds)
        if self.fail_next:
            self.fail_next = False
            raise RuntimeError("model went away")
        return super().embed_queries(texts)


def test_questions_that_arrive_together_are_embedded_together() -> None:
    inner = SlowEmbedder()
    batching = BatchingEmbedder(inner)
    questions = [f"vraag nummer {i} over de brug" for i in range(24)]
    with ThreadPoolExecutor(max_workers=24) as pool:
        vectors = list(pool.map(lambda q: batching.embed_queries([q])[0], questions))
    assert len(inner.calls) < len(questions) / 3  # a handful of calls, not 24
    np.testing.assert_array_equal(np.stack(vectors), HashingEmbedder(256).embed_queries(questions))
    assert sum(batching.batches) == 24
    alone = batching.embed_queries(["een vraag alleen"])  # a lone question: at once
    assert alone.shape == (1, 256) and inner.calls[-1] == 1


class CountingLanes(SlowEmbedder):
    """The slow hashing embedder, noting how many calls run at once."""

    def __init__(self) -> None:
        super().__init__(seconds=0.1)
        self.active = self.most = 0
        self.guard = threading.Lock()

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        with self.guard:
            self.active += 1
            self.most = max(self.most, self.active)
        try:
            return super().embed_queries(texts)
        finally:
            with self.guard:
                self.active -= 1


@pytest.mark.parametrize("lanes", [1, 2])
def test_batches_are_embedded_in_as_many_lanes_as_set(lanes: int) -> None:
    inner = CountingLanes()
    batching = BatchingEmbedder(inner, max_batch=2, lanes=lanes)
    questions = [f"vraag {i} over de brug" for i in range(16)]
    with ThreadPoolExecutor(max_workers=16) as pool:
        vectors = list(pool.map(lambda q: batching.embed_queries([q])[0], questions))
    np.testing.assert_array_equal(np.stack(vectors), HashingEmbedder(256).embed_queries(questions))
    assert inner.most == lanes and max(batching.batches) <= 2


def test_a_failed_batch_fails_its_questions_only() -> None:
    inner = SlowEmbedder()
    batching = BatchingEmbedder(inner)
    inner.fail_next = True
    with pytest.raises(RuntimeError, match="model went away"):
        batching.embed_queries(["eerste"])
    assert batching.embed_queries(["tweede"]).shape == (1, 256)


def _corpus(folder: Path, marker: str, copies: int = 2) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    text = SAMPLE_FILE.read_text(encoding="utf-8")
    for i in range(copies):
        (folder / f"ah-tk-20232024-{6000 + i}.txt").write_text(
            text.replace("Ja, ik ben bekend met dit artikel.", f"Ja, {marker} {i}."),
            encoding="utf-8")
    return folder


def test_a_busy_chat_asks_the_next_question_to_wait(tmp_path: Path) -> None:
    settings = Settings(index_dir=tmp_path / "index", model="hash:256")
    build_index(_corpus(tmp_path / "c", "alfa"), settings, HashingEmbedder())
    slow = SlowEmbedder(seconds=0.5)
    chat = Chat(Searcher(load_index(settings.index_dir), slow), max_waiting=2)
    with ThreadPoolExecutor(max_workers=3) as pool:
        replies = list(pool.map(lambda q: chat.reply(q), [f"brug {i}" for i in range(3)]))
    busy = [r for r in replies if r.refused]
    assert len(busy) == 1 and "Het is nu erg druk" in busy[0].html
    assert all(r.messages and not r.refused for r in replies if r is not busy[0])
    assert not chat.reply("AI-fabriek").refused  # and afterwards all is well again


def test_a_rebuild_is_picked_up_at_the_next_question(tmp_path: Path) -> None:
    settings = Settings(index_dir=tmp_path / "index", model="hash:256")
    build_index(_corpus(tmp_path / "a", "alfa"), settings, HashingEmbedder())
    embedder = HashingEmbedder()
    live = LiveSearcher(settings.index_dir, lambda: open_searcher(settings, embedder=embedder))
    first = live.current()
    assert live.current() is first  # no rebuild: the same searcher
    build_index(_corpus(tmp_path / "b", "bravo", copies=3), settings, HashingEmbedder())
    second = live.current()
    assert second is not first and live.swaps == 1
    assert len(second.index.documents) == 3
    assert second.index.generation == current_generation(settings.index_dir)


def test_a_generation_that_will_not_load_keeps_the_old_one(tmp_path: Path,
                                                           caplog: pytest.LogCaptureFixture
                                                           ) -> None:
    settings = Settings(index_dir=tmp_path / "index", model="hash:256")
    build_index(_corpus(tmp_path / "a", "alfa"), settings, HashingEmbedder())
    embedder = HashingEmbedder()
    calls: list[int] = []

    def load() -> Searcher:
        calls.append(1)
        return open_searcher(settings, embedder=embedder)

    live = LiveSearcher(settings.index_dir, load)
    first = live.current()
    build_index(_corpus(tmp_path / "b", "bravo"), settings, HashingEmbedder())
    (current_generation(settings.index_dir) / "chunks.jsonl").write_text("kapot\n")
    assert live.current() is first and live.current() is first
    assert len(calls) == 2  # the damaged generation is tried once, not at every question
    assert "not loaded, still serving" in caplog.text


WORKER = """
import json, sys, time
from pathlib import Path
from rag.config import Settings
from rag.models.embed import HashingEmbedder
from rag.search.live import LiveSearcher
from rag.search.searcher import open_searcher
settings = Settings(index_dir=Path(sys.argv[1]), model="hash:256")
embedder = HashingEmbedder()
live = LiveSearcher(settings.index_dir, lambda: open_searcher(settings, embedder=embedder))
deadline = time.monotonic() + float(sys.argv[2])
while time.monotonic() < deadline:
    try:
        answer = live.current().ask("Ja, bravo 0.", k=1)
        print(json.dumps({"doc": answer.hits[0].doc.doc_id,
                          "docs": len(live.current().index.documents)}), flush=True)
    except Exception as exc:
        print(json.dumps({"error": repr(exc)}), flush=True)
    time.sleep(0.02)
"""


def test_two_processes_follow_a_rebuild_without_an_error(tmp_path: Path) -> None:
    settings = Settings(index_dir=tmp_path / "index", model="hash:256")
    build_index(_corpus(tmp_path / "a", "alfa"), settings, HashingEmbedder())
    workers = [subprocess.Popen([sys.executable, "-c", WORKER, str(settings.index_dir), "8"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                cwd=ROOT) for _ in range(2)]
    time.sleep(2.5)  # both are answering from the first generation
    for round_ in range(3):  # swaps while questions run, old generations deleted each time
        shutil.rmtree(tmp_path / "b", ignore_errors=True)
        build_index(_corpus(tmp_path / "b", "bravo", copies=3 + round_), settings,
                    HashingEmbedder())
        time.sleep(0.5)
    outputs = [w.communicate(timeout=60) for w in workers]
    for out, err in outputs:
        rows = [json.loads(line) for line in out.splitlines()]
        assert rows and not [r for r in rows if "error" in r], (rows[-3:], err[-500:])
        assert rows[0]["docs"] == 2 and rows[-1]["docs"] == 5  # the last rebuild, picked up
        assert len({r["docs"] for r in rows}) >= 2


def _ask_app(url: str, question: str, session: str) -> str:
    """One question through Gradio's HTTP API in ``session``, as a browser tab asks: the
    event stream as text (route and body as Gradio documents its HTTP API)."""
    body = json.dumps({"data": [question, [], 5, ALL_YEARS, ALL_MINISTRIES],
                       "session_hash": session}).encode()
    request = urllib.request.Request(f"{url}/gradio_api/call/ask", body,
                                     {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        event = json.loads(response.read())["event_id"]
    with urllib.request.urlopen(f"{url}/gradio_api/call/ask/{event}", timeout=60) as response:
        return response.read().decode()


@pytest.mark.slow
def test_two_chat_processes_follow_a_rebuild_without_an_error(tmp_path: Path) -> None:
    """Two app.py processes serve one index folder (as behind a load balancer) while builds
    swap generations in and delete the old ones; every question gets an answer, and both
    answer from the last generation from the next question on, without a restart."""
    settings = Settings(index_dir=tmp_path / "index", model="hash:256")
    build_index(_corpus(tmp_path / "a", "alfa"), settings, HashingEmbedder())
    roots = [tmp_path / f"app{i}" for i in range(2)]
    for root in roots:
        root.mkdir()
    apps = [_start(root, settings.index_dir) for root in roots]
    answers: list[tuple[str, float, float, str]] = []  # url, asked, answered, event stream
    stop = threading.Event()

    def client(url: str) -> None:
        session = uuid.uuid4().hex
        while not stop.is_set():
            asked = time.monotonic()
            text = _ask_app(url, "Ja, bravo 3.", session)
            answers.append((url, asked, time.monotonic(), text))

    clients = [threading.Thread(target=client, args=(url,)) for _, url, _ in apps
               for _ in range(2)]
    try:
        for thread in clients:
            thread.start()
        time.sleep(1.5)  # both are answering from the first generation
        for round_ in range(2):  # "bravo 3" exists in the last generation only
            shutil.rmtree(tmp_path / "b", ignore_errors=True)
            build_index(_corpus(tmp_path / "b", "bravo", copies=3 + round_), settings,
                        HashingEmbedder())
            last_swap = time.monotonic()
            time.sleep(1.5)
    finally:
        stop.set()
        for thread in clients:
            thread.join(timeout=90)
        codes = [_stop(proc) for proc, _, _ in apps]
    assert codes == [0, 0], [log.read_text()[-2000:] for _, _, log in apps]
    for _, url, log in apps:
        mine = [a for a in answers if a[0] == url]
        failed = [a[3][-300:] for a in mine
                  if "event: complete" not in a[3] or "vb-hit" not in a[3]]
        assert mine and not failed, (failed[:2], log.read_text()[-2000:])
        new = "ah-tk-20232024-6003"
        before = [a for a in mine if a[2] < last_swap]
        assert before and not any(new in a[3] for a in before)
        # The question that notices the swap loads the new generation while questions
        # asked meanwhile are answered from the old one; from then on all get the new one.
        picked_up = min((a[2] for a in mine if new in a[3] and a[1] > last_swap), default=None)
        assert picked_up is not None, "no answer from the last generation after the swap"
        later = [a for a in mine if a[1] > picked_up]
        assert later and all(new in a[3] for a in later)


def test_no_lock_around_the_search(tmp_path: Path) -> None:
    """Questions of several sessions are inside the search at the same time."""
    settings = Settings(index_dir=tmp_path / "index", model="hash:256")
    build_index(_corpus(tmp_path / "a", "alfa"), settings, HashingEmbedder())

    class Overlapping(HashingEmbedder):
        inside = most = 0
        guard = threading.Lock()

        def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
            with self.guard:
                Overlapping.inside += 1
                Overlapping.most = max(Overlapping.most, Overlapping.inside)
            time.sleep(0.2)
            with self.guard:
                Overlapping.inside -= 1
            return super().embed_queries(texts)

    chat = Chat(Searcher(load_index(settings.index_dir), Overlapping()))
    threads = [threading.Thread(target=chat.reply, args=(f"brug {i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert Overlapping.most > 1
