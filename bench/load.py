"""The chat under load: many clients asking at once over Gradio's HTTP API, as browsers do.

One app process on a free loopback port over a given index (the real model); clients are
threads, each asking its questions one after the other through ``/gradio_api/call/ask``
(queue a request, then read its event stream to the end) in a session of its own, as a
browser tab does (Gradio sets up a session's state once: a new session for every question
cost the server as much as the search). Figures: questions a second over
the run, p50 / p95 seconds per question, and how many questions got an answer, a "busy"
notice, or an error.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bench.coldstart import ask_app, running_app
from bench.common import CACHE, MODEL, ROOT, load_average, questions

BUSY = "Het is nu erg druk"


def _ask(url: str, question: str, session: str | None = None) -> tuple[str, float]:
    """One question: ("answer" | "busy" | "error: …", seconds)."""
    started = time.perf_counter()
    try:
        text = ask_app(url, question, timeout=300, session=session)
    except (OSError, urllib.error.HTTPError, ValueError, KeyError) as exc:
        return f"error: {type(exc).__name__}", time.perf_counter() - started
    seconds = time.perf_counter() - started
    if "event: complete" not in text:
        return "error: " + (text.split("data:", 1)[-1].strip()[:60] or "no answer"), seconds
    return ("busy" if BUSY in text else "answer"), seconds


def sample_index() -> Path:
    """An index of the bundled sample built with the real model (cached in the bench cache)."""
    from rag.build import build_index
    from rag.config import Settings
    from rag.models.embed import load_embedder

    path = CACHE / "index-sample"
    if not (path / "current").exists():
        build_index(ROOT / "corpus" / "sample", Settings(index_dir=path, model=MODEL),
                    load_embedder(MODEL))
    return path


def run(index: Path, clients: int, per_client: int) -> dict[str, Any]:
    """``clients`` threads asking ``per_client`` questions each against one app process."""
    with running_app(index, "load-app.log") as (url, _):
        pool = questions()
        _ask(url, pool[0])  # the first answer pays one-off costs
        work = [[pool[(c * per_client + i) % len(pool)] for i in range(per_client)]
                for c in range(clients)]

        def client(qs: list[str]) -> list[tuple[str, float]]:
            session = uuid.uuid4().hex  # one browser tab: its questions share a session
            return [_ask(url, q, session) for q in qs]

        t0 = time.perf_counter()
        with ThreadPoolExecutor(max_workers=clients) as executor:
            results = [r for rows in executor.map(client, work) for r in rows]
        wall = time.perf_counter() - t0
    answered = [s for outcome, s in results if outcome == "answer"]
    outcomes: dict[str, int] = {}
    for outcome, _ in results:
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return {
        "clients": clients, "questions": len(results), "wall_s": wall,
        "per_s": len(answered) / wall if wall else 0.0,
        "p50_s": statistics.median(answered) if answered else None,
        "p95_s": (statistics.quantiles(answered, n=20)[-1] if len(answered) >= 20
                  else max(answered, default=None)),
        "outcomes": outcomes, "load": load_average(),
    }


def main() -> None:
    """``python -m bench.load INDEX CLIENTS PER_CLIENT`` prints one JSON line."""
    index, clients, per_client = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    print(json.dumps(run(index, clients, per_client)))


if __name__ == "__main__":
    main()
