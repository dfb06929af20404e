"""The `rag fetch` and `rag sync` commands: parse options, run, print the summary.

Registered on the `rag` group by :mod:`rag.cli`; the group turns the library's typed errors
into one line on stderr and exit code 1. The exit code of a run:

- 1 when some documents failed for a reason that may pass (the network, a server error, a
  file that did not verify): they are printed with their reasons and the next run tries them
  again, so a nightly job notices;
- 0 otherwise, also when some documents cannot be fetched as the open data lists them (no
  Aanhangselnummer or publication id to name the file, an unreadable row, no file of a
  readable type): those are printed too, recorded in the folder's state, and tried again
  only once the Tweede Kamer changes their record, because trying again cannot help before.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import click

from rag.config import DEFAULT_INDEX_DIR, DEFAULT_MODEL
from rag.opendata.ids import PUBLICATIONS_URL, TK_API_URL, USER_AGENT

KIND_NAMES = ("answers", "notices")  # the keys of rag.opendata.entity.KINDS


def _kinds(ctx: click.Context, param: click.Parameter, value: str) -> tuple[str, ...]:
    kinds = tuple(dict.fromkeys(k.strip().lower() for k in value.split(",") if k.strip()))
    unknown = [k for k in kinds if k not in KIND_NAMES]
    if unknown or not kinds:
        raise click.BadParameter(f"{', '.join(unknown) or '(none)'}: choose from "
                                 f"{', '.join(KIND_NAMES)}, comma-separated")
    return kinds


_DATE = click.DateTime(["%Y-%m-%d"])


def fetch_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The options `rag fetch` and `rag sync` share."""
    options = [
        click.option("--to", "target", required=True, envvar="RAG_FETCH_DIR",
                     type=click.Path(file_okay=False, path_type=Path),
                     help="Folder to fill: DIR/<vergaderjaar>/<id>.<ext> plus <id>.meta.json "
                          "(env RAG_FETCH_DIR)."),
        click.option("--since", type=_DATE, metavar="YYYY-MM-DD",
                     help="Only documents dated on or after this day, in Dutch time "
                          "(default: all, from September 2008)."),
        click.option("--until", type=_DATE, metavar="YYYY-MM-DD",
                     help="Only documents dated on or before this day, in Dutch time."),
        click.option("--limit", type=click.IntRange(1), metavar="N",
                     help="Stop after N downloads; the next run continues from there."),
        click.option("--kinds", default="answers", show_default=True, callback=_kinds,
                     envvar="RAG_FETCH_KINDS", metavar="answers,notices",
                     help="Answers (incl. 'nader') and/or postponement notices (env "
                          "RAG_FETCH_KINDS)."),
        click.option("--api-url", default=TK_API_URL, show_default=True,
                     envvar="RAG_TK_API_URL", help="Tweede Kamer OData v4 root (env "
                     "RAG_TK_API_URL)."),
        click.option("--publications-url", default=PUBLICATIONS_URL,
                     show_default=True, envvar="RAG_KOOP_URL",
                     help="Where to download official XML/PDF files the Tweede Kamer does "
                          "not list (a mirror or proxy of officielebekendmakingen.nl; the "
                          "sidecars always link to the official site) (env RAG_KOOP_URL)."),
        click.option("--rate", type=click.FloatRange(min=0.01), default=3.0,
                     show_default=True, envvar="RAG_FETCH_RATE",
                     help="Requests per second to each host, redirects included (env "
                          "RAG_FETCH_RATE)."),
        click.option("--user-agent", default=USER_AGENT, show_default=True,
                     envvar="RAG_FETCH_USER_AGENT",
                     help="The User-Agent header: name yourself, e.g. with a contact address "
                          "(env RAG_FETCH_USER_AGENT)."),
        click.option("--retries", type=click.IntRange(0, 20), default=4, show_default=True,
                     envvar="RAG_FETCH_RETRIES",
                     help="Retries of a request after a 429, 5xx, timeout or dropped "
                          "connection, with growing waits (env RAG_FETCH_RETRIES)."),
        click.option("--timeout", type=click.FloatRange(min=1), default=60.0,
                     show_default=True, envvar="RAG_FETCH_TIMEOUT",
                     help="Seconds to wait for a connection or for data (env "
                          "RAG_FETCH_TIMEOUT)."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _day(value: datetime | None) -> date | None:
    return value.date() if value else None


def _run(target: Path, since: datetime | None, until: datetime | None, limit: int | None,
         kinds: tuple[str, ...], api_url: str, publications_url: str, rate: float,
         user_agent: str, retries: int, timeout: float) -> Any:
    """Run one fetch with a progress bar on stderr, print its summary; returns the report."""
    from rag.opendata.fetch import FetchOptions, run_fetch
    from rag.opendata.http import Client, HttpSettings

    if since and until and until < since:
        raise click.UsageError("--until is before --since")
    if not user_agent.strip() or any(c in user_agent for c in "\r\n"):
        raise click.UsageError("--user-agent must be one non-empty line")
    options = FetchOptions(target, kinds, _day(since), _day(until), limit, api_url,
                           publications_url)
    progress = _Progress()
    try:
        settings = HttpSettings(rate=rate, attempts=retries + 1, timeout=timeout,
                                user_agent=user_agent.strip())
        with Client(settings) as client:
            report = run_fetch(options, client, progress)
    finally:
        progress.close()
    click.echo(f"Listed {report.listed} documents: {report.new} new, {report.changed} changed, "
               f"{report.deleted} deleted, {report.unchanged} unchanged, "
               f"{len(report.failed)} failed, {len(report.unfetchable)} unfetchable, "
               f"in {report.seconds:.1f} s. Folder: {target}")
    if report.stopped_at_limit:
        click.echo(f"Stopped at --limit {limit}; run again to continue.")
    if report.cursor:
        click.echo(f"The next run lists what changed since {report.cursor}.")
    for failure in report.failed:
        click.echo(f"  failed {failure.name}: {failure.reason}")
    for failure in report.unfetchable:
        click.echo(f"  unfetchable {failure.name}: {failure.reason} (tried again when the "
                   "Tweede Kamer changes it)")
    return report


class _Progress:
    """A progress bar over the listing's count (or a plain counter when there is none)."""

    def __init__(self) -> None:
        self.bar: Any = None
        self.shown = 0

    def __call__(self, counts: Any) -> None:
        summary = (f"{counts.new} new, {counts.changed} changed, {counts.deleted} deleted, "
                   f"{counts.unchanged} unchanged, {len(counts.failed)} failed, "
                   f"{len(counts.unfetchable)} unfetchable")
        if counts.total:
            if self.bar is None:
                self.bar = click.progressbar(length=counts.total, label="Fetching",
                                             file=sys.stderr, show_pos=True,
                                             item_show_func=lambda item: item).__enter__()
            self.bar.update(max(0, min(counts.listed, counts.total) - self.bar.pos), summary)
        elif counts.listed - self.shown >= 50:
            self.shown = counts.listed
            click.echo(f"Fetching: {counts.listed} listed, {summary}", err=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


def _fail_if_any(report: Any) -> None:
    if report.failed:
        raise click.ClickException(f"{len(report.failed)} documents could not be fetched "
                                   "(listed above); the next run tries them again")


@click.command(context_settings={"help_option_names": ["-h", "--help"],
                                 "max_content_width": 100})
@fetch_options
def fetch(**options: Any) -> None:
    """Fetch answered Kamervragen from the official open data into a folder.

    Lists the Tweede Kamer's documents, downloads each (the official XML where published,
    else the Tweede Kamer's PDF or Word file) with a sidecar of metadata, and keeps the
    folder in sync: a second run fetches only what changed and removes what was deleted.
    It only ever overwrites or deletes files it wrote itself. Exits 1 when documents
    failed that the next run tries again; documents that cannot be fetched as listed are
    reported and recorded, and do not change the exit code.

    \b
    Examples:
      rag fetch --since 2023-01-01 --to data
      rag fetch --to data --kinds answers,notices --rate 1
    """
    _fail_if_any(_run(**options))


@click.command(context_settings={"help_option_names": ["-h", "--help"],
                                 "max_content_width": 100})
@fetch_options
@click.option("--index", "index_dir", type=click.Path(file_okay=False, path_type=Path),
              default=DEFAULT_INDEX_DIR, show_default=True, envvar="RAG_INDEX",
              help="Index folder (env RAG_INDEX).")
@click.option("--model", default=DEFAULT_MODEL, show_default=True, envvar="RAG_MODEL",
              help="Embedding model, as for rag build (env RAG_MODEL).")
def sync(index_dir: Path, model: str, **options: Any) -> None:
    """Fetch (as rag fetch), then update the index over the folder (as rag build).

    \b
    For a nightly job, e.g. in crontab:
      30 5 * * *  cd /srv/vraagbaak && .venv/bin/rag sync --to data --index index
    """
    report = _run(**options)
    _build(options["target"], index_dir, model)
    _fail_if_any(report)


def _build(corpus_dir: Path, index_dir: Path, model: str) -> None:
    """The incremental build of `rag build`, with its progress bar and summary."""
    from rag.build import build_index
    from rag.config import Settings
    from rag.models.embed import load_embedder

    settings = Settings(index_dir=index_dir, model=model)
    embedder = load_embedder(model, batch_size=settings.batch_size,
                             notify=lambda m: click.echo(m, err=True))
    bar: Any = None

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = click.progressbar(length=total, label="Embedding chunks", file=sys.stderr,
                                    show_pos=True).__enter__()
        bar.update(done - bar.pos)

    try:
        report = build_index(corpus_dir, settings, embedder, progress=progress)
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    c = report.changes
    click.echo(f"Index {report.index_dir}: {report.documents} answer documents, "
               f"{report.chunks} chunks ({c.added} added, {c.changed} changed, {c.removed} "
               f"removed, {c.unchanged} unchanged; {c.embedded} embedded), "
               f"{len(report.skipped)} files skipped, in {report.seconds:.1f} s.")
