"""The chat's start: the index it serves, built first when there is none yet.

Without options the chat serves ``index/``, built once from the bundled sample. With a corpus
folder (``python app.py --corpus DIR``) it serves that folder's index, built on first start
and brought up to date (incrementally: unchanged passages keep their vectors) on every later
start, so it always shows what the folder holds. Building goes through `rag.build`, which
refuses the same folders `rag build` refuses (the corpus itself, a folder inside or above
it, a folder holding other files, ``/``, the home folder).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from rag.build import BuildReport, build_index
from rag.config import Settings
from rag.models.batching import BatchingEmbedder
from rag.models.embed import Embedder, load_embedder
from rag.search.live import LiveSearcher
from rag.search.searcher import open_searcher
from rag.store.folder import WriteFailed
from rag.store.index import CURRENT, MANIFEST

log = logging.getLogger("vraagbaak.startup")

SAMPLE_CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "sample"


def index_exists(index_dir: Path) -> bool:
    """Whether ``index_dir`` holds an index (complete or not: loading checks the rest)."""
    return (index_dir / CURRENT).exists() or (index_dir / MANIFEST).is_file()


def corpus_index_dir(corpus_dir: Path) -> Path:
    """The default index folder of a corpus folder: ``index-<folder name>`` in the working
    folder (``data`` -> ``index-data``)."""
    name = corpus_dir.resolve().name or "corpus"
    return Path(f"index-{name}")


def _progress(say: Callable[[str], None]) -> Callable[[int, int], None]:
    """Embedding progress as a line per quarter: ``  passages embedded: 7/14 (50%)``."""
    last = -1

    def progress(done: int, total: int) -> None:
        nonlocal last
        percent = 100 * done // max(total, 1)
        if percent // 25 != last // 25 or done == total:
            say(f"  passages embedded: {done}/{total} ({percent}%)")
        last = percent

    return progress


def ensure_index(settings: Settings, embedder: Embedder, corpus_dir: Path = SAMPLE_CORPUS,
                 notify: Callable[[str], None] | None = None,
                 update: bool = False) -> BuildReport | None:
    """Build the index over ``corpus_dir`` when ``settings.index_dir`` has none yet; with
    ``update``, also bring an existing one up to date with the folder.

    Returns the build report, or None when an index was there and ``update`` is false (it is
    not touched then: a wrong or stale index is reported when it is loaded). ``notify`` gets
    a few progress lines.
    """
    say = notify or (lambda _message: None)
    exists = index_exists(settings.index_dir)
    if exists and not update:
        return None
    if exists:
        say(f"Updating the index {settings.index_dir} from {corpus_dir} …")
    else:
        say(f"No index in {settings.index_dir}: building it once from {corpus_dir} "
            f"(model {settings.model}).")
    report = build_index(corpus_dir, settings, embedder, progress=_progress(say))
    c = report.changes
    say(f"Index ready: {report.documents} document(s), {report.chunks} passages "
        f"({c.added} added, {c.changed} changed, {c.removed} removed), "
        f"{len(report.skipped)} file(s) skipped, in {report.seconds:.1f} s.")
    return report


def ensure_sample_index(settings: Settings, embedder: Embedder,
                        corpus_dir: Path = SAMPLE_CORPUS,
                        notify: Callable[[str], None] | None = None) -> BuildReport | None:
    """`ensure_index` for the bundled sample: built once, never updated."""
    return ensure_index(settings, embedder, corpus_dir, notify)


def open_chat_searcher(settings: Settings, build_sample: bool = False,
                       notify: Callable[[str], None] | None = None,
                       corpus_dir: Path | None = None) -> LiveSearcher:
    """The chat's searcher, following its index folder (`rag.search.live`), with questions
    of concurrent sessions embedded together (`rag.models.batching`); first what is missing
    is built with the same embedder, so the model loads once: with ``corpus_dir`` its index
    (built, or updated), else with ``build_sample`` the sample index when there is none.

    An update that cannot be written (`rag.store.folder.WriteFailed`: a full disk) leaves the
    previous index whole: the chat then serves it, with a warning line.
    """
    embedder = load_embedder(settings.model, batch_size=settings.batch_size, notify=notify)
    if corpus_dir is not None:
        try:
            ensure_index(settings, embedder, corpus_dir, notify=notify, update=True)
        except WriteFailed as exc:
            if not index_exists(settings.index_dir):
                raise
            # The update could not be written (a full disk): the index that was there is
            # whole, and serving it beats serving nothing.
            (notify or log.warning)(f"Warning: {exc}; the chat serves it without the latest "
                                    f"changes in {corpus_dir}.")
    elif build_sample:
        ensure_sample_index(settings, embedder, notify=notify)
    batching = BatchingEmbedder(embedder)
    return LiveSearcher(settings.index_dir,
                        lambda: open_searcher(settings, notify=notify, embedder=batching))
