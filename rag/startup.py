"""First start of the chat: build the bundled sample index once when no index exists yet."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from rag.build import BuildReport, build_index
from rag.config import Settings
from rag.models.embed import Embedder, load_embedder
from rag.search.searcher import Searcher, open_searcher
from rag.store.index import CURRENT, MANIFEST

SAMPLE_CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "sample"


def index_exists(index_dir: Path) -> bool:
    """Whether ``index_dir`` holds an index (complete or not: loading checks the rest)."""
    return (index_dir / CURRENT).exists() or (index_dir / MANIFEST).is_file()


def ensure_sample_index(settings: Settings, embedder: Embedder,
                        corpus_dir: Path = SAMPLE_CORPUS,
                        notify: Callable[[str], None] | None = None) -> BuildReport | None:
    """Build the index over the sample corpus when ``settings.index_dir`` has none yet.

    Returns the build report, or None when an index was already there (it is never
    rebuilt here: a wrong or stale index is reported when it is loaded). ``notify`` gets
    a few progress lines.
    """
    if index_exists(settings.index_dir):
        return None
    say = notify or (lambda _message: None)
    say(f"Geen index in {settings.index_dir}: de voorbeeldindex wordt eenmalig gebouwd "
        f"uit {corpus_dir} (model {settings.model}).")
    last = -1

    def progress(done: int, total: int) -> None:
        nonlocal last
        percent = 100 * done // max(total, 1)
        if percent // 25 != last // 25 or done == total:
            say(f"  passages ingebed: {done}/{total} ({percent}%)")
        last = percent

    report = build_index(corpus_dir, settings, embedder, progress=progress)
    say(f"Voorbeeldindex klaar: {report.documents} document(en), {report.chunks} passages, "
        f"in {report.seconds:.1f} s.")
    return report


def open_chat_searcher(settings: Settings, build_sample: bool = False,
                       notify: Callable[[str], None] | None = None) -> Searcher:
    """`rag.search.searcher.open_searcher`, but when ``build_sample`` is true and there is no index
    yet, the sample index is built first with the same embedder, so the model loads once."""
    embedder = load_embedder(settings.model, batch_size=settings.batch_size, notify=notify)
    if build_sample:
        ensure_sample_index(settings, embedder, notify=notify)
    return open_searcher(settings, notify=notify, embedder=embedder)
