"""Cold start: ``rag ask`` from process start to printed answer, the chat to its first reply,
and where start-up time goes (``python -X importtime`` and a stage split)."""

from __future__ import annotations

import json
import os
import re
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import CACHE, ROOT, load_average

QUESTION = "Wat heeft de minister gezegd over een AI-adviesraad?"
START_TIMEOUT = 600

# Stages of `rag ask` in one fresh process, each timed after the one before.
_STAGES = """
import time, json
t0 = time.perf_counter()
import rag.cli
t1 = time.perf_counter()
from rag.search.searcher import open_searcher
from rag.config import Settings
t2 = time.perf_counter()
s = open_searcher(Settings(index_dir=__import__('pathlib').Path({index!r})))
t3 = time.perf_counter()
s.embedder.embed_queries(['opwarmen'])
t4 = time.perf_counter()
s.ask({question!r})
t5 = time.perf_counter()
print(json.dumps(dict(import_cli=t1-t0, import_answer=t2-t1, open_index=t3-t2,
                      load_model=t4-t3, first_ask=t5-t4)))
"""


def rag_ask(index: Path, repeat: int = 3) -> dict[str, Any]:
    """Median wall seconds of ``python -m rag ask`` (process start to exit) and a stage split."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "rag", "ask", QUESTION, "--index", str(index),
                        "-k", "3"], cwd=ROOT, check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    stages = json.loads(subprocess.run(
        [sys.executable, "-c", _STAGES.format(index=str(index), question=QUESTION)],
        cwd=ROOT, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1])
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "rag", "--help"], cwd=ROOT, check=True,
                   capture_output=True)
    return {"median_s": statistics.median(times), "runs_s": times, "stages": stages,
            "help_s": time.perf_counter() - started, "load": load_average()}


# The hits of many questions in one fresh process, through the ONNX question encoder (as a
# one-shot `rag ask`) or, with ``torch=True``, through the full model.
_HITS = """
import json, sys
from pathlib import Path
from rag.config import Settings
from rag.search.searcher import open_searcher
s = open_searcher(Settings(index_dir=Path({index!r})))
if {torch!r}:
    s.embedder._engine = False
questions = json.loads(sys.stdin.read())
vectors = s.embedder.embed_queries(questions)
answers = [s.ask(q, k=10) for q in questions]
print(json.dumps(dict(vectors=vectors.tolist(), answers=[
    [a.abstained, [[h.doc.doc_id, list(h.chunk.vraag)] for h in a.hits]] for a in answers])))
"""


def same_hits(index: Path, asked: list[str]) -> dict[str, Any]:
    """How many questions get the same ten numbered answers, in the same order, and the same
    "nothing found" decision through the ONNX question path and through torch."""
    runs = {}
    for torch in (False, True):
        out = subprocess.run([sys.executable, "-c", _HITS.format(index=str(index), torch=torch)],
                             input=json.dumps(asked), cwd=ROOT, check=True,
                             capture_output=True, text=True)
        runs[torch] = json.loads(out.stdout.strip().splitlines()[-1])
    onnx, full = (np.asarray(runs[t]["vectors"]) for t in (False, True))
    same = sum(a == b for a, b in zip(runs[False]["answers"], runs[True]["answers"],
                                      strict=True))
    return {"questions": len(asked), "same": same,
            "min_cosine": float((onnx * full).sum(axis=1).min())}


def import_profile(code: str, top: int = 8) -> list[tuple[str, float]]:
    """The slowest packages imported by ``python -c code`` (cumulative seconds, per package).

    A package counts once, at its first import, with everything it pulled in; the project's
    own ``rag.*`` modules and ``app`` are listed one by one.
    """
    err = subprocess.run([sys.executable, "-X", "importtime", "-c", code], cwd=ROOT,
                         capture_output=True, text=True, check=False).stderr
    seen: dict[str, float] = {}
    for line in err.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \| (\s*)(\S+)", line)
        if not m:
            continue
        name = m.group(4)
        if name in _BOOT or ("." in name and not name.startswith("rag.")):
            continue
        seen[name] = max(seen.get(name, 0.0), int(m.group(2)) / 1e6)
    return sorted(seen.items(), key=lambda r: -r[1])[:top]


_BOOT = {"site", "encodings", "zipimport", "_frozen_importlib_external", "io", "abc", "codecs",
         "_signal", "_abc", "time", "marshal", "posix", "_io", "_codecs", "_thread", "_warnings",
         "_weakref", "winreg"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_app(index: Path, log_name: str = "app.log") -> Iterator[tuple[str, float]]:
    """``app.py`` over ``index`` on a free loopback port: (its URL, seconds from start until
    it served its page); stopped afterwards."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    CACHE.mkdir(parents=True, exist_ok=True)
    log = CACHE / log_name
    started = time.perf_counter()
    with log.open("wb") as sink:
        proc = subprocess.Popen([sys.executable, "app.py", "--index", str(index), "--port",
                                 str(port)], cwd=ROOT, stdout=sink, stderr=subprocess.STDOUT,
                                env={**os.environ, "GRADIO_ANALYTICS_ENABLED": "False"})
    try:
        yield url, _wait(url, proc, started, log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def ask_app(url: str, question: str, timeout: float = START_TIMEOUT,
            session: str | None = None) -> str:
    """One question through Gradio's HTTP API, as a browser asks it: the event stream.
    ``session``: the session the question belongs to, as a browser tab keeps one for all
    its questions (None: a new session for this question, as a first visit)."""
    body = json.dumps({"data": [question, [], 5, "Alle vergaderjaren", "Alle ministeries"],
                       "session_hash": session}).encode()
    request = urllib.request.Request(f"{url}/gradio_api/call/ask", body,
                                     {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        event = json.loads(response.read())["event_id"]
    with urllib.request.urlopen(f"{url}/gradio_api/call/ask/{event}",
                                timeout=timeout) as response:
        return response.read().decode()


def app_first_answer(index: Path) -> dict[str, Any]:
    """Start ``app.py`` and ask one question over Gradio's HTTP API; seconds from start."""
    started = time.perf_counter()
    with running_app(index) as (url, serving):
        text = ask_app(url, QUESTION)
        answered = time.perf_counter() - started
    ok = "event: complete" in text and "vb-hit" in text
    return {"serving_s": serving, "first_answer_s": answered, "ok": ok, "load": load_average()}


def _wait(url: str, proc: subprocess.Popen, started: float, log: Path) -> float:
    while time.perf_counter() - started < START_TIMEOUT:
        if proc.poll() is not None:
            raise RuntimeError(f"app exited with {proc.returncode}: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return time.perf_counter() - started
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"app did not serve {url} within {START_TIMEOUT} s")
