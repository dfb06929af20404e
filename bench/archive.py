"""Rebuilds of an archive the size of the real one: 41,000 answer files, simulated.

The real archive is about 41,000 answer documents; a nightly sync usually changes none or a
few of them. The simulation copies the shared corpus's plain-text answer documents under new
official-looking names (``ah-tk-<year>-<n>.txt``, each copy with one word of its own, so no
two passages are the same) until there are ``n_files``; the embedder is the hashing one, as
this measures reading, parsing, chunking and writing, not the model (which unchanged passages
never reach: their vectors are reused). Figures: the first build, a rebuild with nothing
changed, one with one file touched (same bytes, new modification time) and one with one
file's answer edited; each with the build's own count of files parsed and read.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import CACHE, SHARED, load_average

N_FILES = 41_000


def simulated_archive(n_files: int) -> Path:
    """A folder of ``n_files`` answer documents (cached under the bench cache)."""
    folder = CACHE / f"archive-{n_files}"
    done = folder / ".complete"
    if done.is_file():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    sources = sorted((SHARED / "corpus" / "antwoorden").glob("*.txt"))
    texts = [p.read_text(encoding="utf-8") for p in sources]
    for i in range(n_files):
        text = texts[i % len(texts)]
        # One word of its own in the first answer line keeps every copy's passages distinct.
        marker = f"Antwoord 1\n(archiefkopie {i})"
        year = 2000 + (i // 4000) % 25
        (folder / f"ah-tk-{year}{year + 1}-{10_000 + i}.txt").write_text(
            text.replace("Antwoord 1", marker, 1), encoding="utf-8")
    done.write_text("", "utf-8")
    return folder


def run(n_files: int = N_FILES) -> dict[str, Any]:
    """Build once, then the three rebuilds; seconds and what each build read."""
    from rag.build import build_index
    from rag.config import Settings
    from rag.models.embed import HashingEmbedder

    corpus = simulated_archive(n_files)
    rows: dict[str, Any] = {"files": n_files}
    with tempfile.TemporaryDirectory(prefix="vb-archive-", dir=CACHE) as tmp:
        settings = Settings(index_dir=Path(tmp) / "index", model="hash:256")

        def build(name: str) -> None:
            report = build_index(corpus, settings, HashingEmbedder())
            rows[name] = {"s": report.seconds, "parsed": report.parsed,
                          "unread": report.unread, "rehashed": report.rehashed,
                          "up_to_date": report.up_to_date, "chunks": report.chunks,
                          "embedded": report.changes.embedded, "load": load_average()}
            print(f"[archive] {name}: {report.seconds:.1f} s", flush=True)

        build("first build")
        build("nothing changed")
        victim = sorted(corpus.glob("*.txt"))[n_files // 2]
        stat = victim.stat()
        os.utime(victim, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
        build("one file touched")
        original = victim.read_text(encoding="utf-8")
        try:
            # A sentence added at the end lands in the last antwoord of any numbering
            # style: one passage changes (a copy need not carry the marker above).
            victim.write_text(original.rstrip() + " Deze zin is later toegevoegd.\n",
                              encoding="utf-8")
            time.sleep(0.01)
            build("one file edited")
        finally:
            victim.write_text(original, encoding="utf-8")
    return rows
