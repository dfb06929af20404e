"""The `rag` command: parses arguments, calls the library, formats the result. No logic here."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path
from typing import Any

import click

from rag import __version__
from rag.config import DEFAULT_INDEX_DIR, DEFAULT_MODEL, Settings
from rag.errors import RagError

_CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class _Group(click.Group):
    """Turns the library's typed errors into one line on stderr and exit code 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (RagError, OSError) as exc:
            raise click.ClickException(str(exc)) from None


def _notify(message: str) -> None:
    click.echo(message, err=True)


index_option = click.option(
    "--index", "index_dir", type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_INDEX_DIR, show_default=True, envvar="RAG_INDEX",
    help="Index folder (env RAG_INDEX).")
model_option = click.option(
    "--model", default=DEFAULT_MODEL, show_default=True, envvar="RAG_MODEL",
    help="Sentence-transformers name or local path; the default is provisioned offline "
         "(env RAG_MODEL).")
corpus_option = click.option(
    "--corpus", "corpus_dir", required=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Folder with .txt, .md and .pdf documents (searched recursively).")


@click.group(cls=_Group, context_settings=_CONTEXT)
@click.version_option(__version__, "--version", prog_name="rag")
def main() -> None:
    """Vraagbaak: find and quote earlier answers to Kamervragen, with exact citations.

    \b
    Examples:
      rag build --corpus corpus/sample
      rag ask "Wat zei de minister over AI in het mkb?"
      rag ask "AI adviesraad" -k 3 --json
    """


@main.command()
@corpus_option
@index_option
@model_option
def build(corpus_dir: Path, index_dir: Path, model: str) -> None:
    """Build (or rebuild) the index over a corpus folder."""
    from rag.build import build_index
    from rag.embed import load_embedder

    settings = Settings(index_dir=index_dir, model=model)
    embedder = load_embedder(model, batch_size=settings.batch_size, notify=_notify)
    bar: Any = None

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:  # opened on the first batch, so errors before it print alone
            bar = click.progressbar(length=total, label="Embedding chunks", file=sys.stderr,
                                    show_pos=True).__enter__()
        bar.update(done - bar.pos)

    try:
        report = build_index(corpus_dir, settings, embedder, progress=progress)
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    click.echo(f"Read {report.files_read} files: {report.documents} answer documents, "
               f"{report.chunks} chunks, {len(report.skipped)} skipped, "
               f"in {report.seconds:.1f} s. Index: {report.index_dir}")
    for skipped in report.skipped:
        click.echo(f"  skipped {skipped.source}: {skipped.reason}")


@main.command()
@click.argument("question")
@index_option
@model_option
@click.option("-k", "k", default=5, show_default=True, type=click.IntRange(1, 50),
              help="Number of passages.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def ask(question: str, index_dir: Path, model: str, k: int, as_json: bool) -> None:
    """Quote the earlier answers most relevant to QUESTION, with citations."""
    from rag.answer import answer_to_json, open_searcher

    searcher = open_searcher(Settings(index_dir=index_dir, model=model), notify=_notify)
    answer = searcher.ask(question, k=k)
    if as_json:
        click.echo(json.dumps(answer_to_json(answer), ensure_ascii=False))
        return
    for hit in answer.hits:
        click.echo(f"{hit.rank}. {hit.citation}  (score {hit.score:.3f})")
        click.echo(f"   bron: {hit.doc.source}")
        click.echo(textwrap.indent(textwrap.fill(f"Vraag: {hit.chunk.question}", 96,
                                                 max_lines=3, placeholder=" …"), "   "))
        for paragraph in hit.chunk.answer.split("\n\n"):
            click.echo(textwrap.indent(textwrap.fill(paragraph, 96), "   > "))
        click.echo()


@main.command("parse-report")
@corpus_option
def parse_report(corpus_dir: Path) -> None:
    """Print, per file, the blocks found and any anomaly; then the parse-quality share."""
    from rag.corpus import load_corpus
    from rag.parse import is_consecutive

    corpus = load_corpus(corpus_dir)
    for doc in corpus.documents:
        numbers = ",".join("+".join(map(str, b.vraag)) for b in doc.blocks)
        flag = "ok" if is_consecutive(doc) else "CHECK"
        click.echo(f"{flag:5} {doc.source}: {doc.kind.value}, {len(doc.blocks)} blocks [{numbers}]")
        for anomaly in doc.anomalies:
            click.echo(f"        {anomaly}")
    for skipped in corpus.skipped:
        click.echo(f"skip  {skipped.source}: {skipped.reason}")
    answers = corpus.answer_documents
    clean = sum(1 for d in answers if is_consecutive(d))
    share = clean / len(answers) if answers else 0.0
    click.echo(f"{clean}/{len(answers)} answer documents ({share:.1%}) parse into consecutive, "
               f"non-empty blocks; {corpus.files_read} files read.")
