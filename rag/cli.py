"""The `rag` command: parses arguments, calls the library, formats the result. No logic here."""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

import click

from rag import __version__
from rag.config import DEFAULT_INDEX_DIR, DEFAULT_MODEL, Settings
from rag.errors import RagError
from rag.opendata.commands import fetch, sync
from rag.store.coarse import COARSE_MIN_PASSAGES

_CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
# The values of rag.search.rank.Retriever, spelled out so that `rag --help` imports no numpy.
RETRIEVERS = ("bm25", "dense", "hybrid")


class _Group(click.Group):
    """Turns the library's typed errors into one line on stderr and exit code 1.

    A reader that goes away (``rag ask … | head -1``) ends the command quietly with the
    status other command-line tools get from SIGPIPE (141); output is flushed here so the
    broken pipe surfaces inside, not as a message at interpreter exit.
    """

    def invoke(self, ctx: click.Context) -> Any:
        try:
            result = super().invoke(ctx)
            sys.stdout.flush()
            return result
        except BrokenPipeError:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(128 + signal.SIGPIPE)
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
    help="Folder with .txt, .md, .pdf, .docx, .html and .xml documents (searched recursively).")


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
    from rag.logs import configure

    configure()  # libraries' warnings only; their debug lines never reach the terminal


@main.command()
@corpus_option
@index_option
@model_option
@click.option("--full", is_flag=True,
              help="Re-embed everything instead of reusing unchanged passages' vectors.")
@click.option("--scheduler", metavar="URL", envvar="RAG_SCHEDULER",
              help="Embed on the workers of this Dask cluster, e.g. tcp://host:8786 "
                   "(env RAG_SCHEDULER); the index is still written here.")
@click.option("--workers", type=click.IntRange(1), metavar="N",
              help="Embed on a local Dask cluster of N one-thread worker processes.")
@click.option("--coarse-from", type=click.IntRange(1), metavar="N",
              default=COARSE_MIN_PASSAGES, show_default=True,
              help="From N passages on, also write a coarse (IVF) index, so questions score "
                   "exactly only candidates instead of every passage.")
def build(corpus_dir: Path, index_dir: Path, model: str, full: bool, scheduler: str | None,
          workers: int | None, coarse_from: int) -> None:
    """Build or update the index over a corpus folder (incremental unless --full).

    \b
    Examples:
      rag build --corpus data
      rag build --corpus data --scheduler tcp://scheduler:8786
    """
    import contextlib

    from rag.build import build_index
    from rag.models.embed import Embedder, load_embedder

    if scheduler and workers:
        raise click.UsageError("give --scheduler (a running cluster) or --workers (a local "
                               "one), not both")
    settings = Settings(index_dir=index_dir, model=model, coarse_from=coarse_from)
    embedder: Embedder = load_embedder(model, batch_size=settings.batch_size, notify=_notify)
    bar: Any = None

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:  # opened on the first batch, so errors before it print alone
            bar = click.progressbar(length=total, label="Embedding chunks", file=sys.stderr,
                                    show_pos=True).__enter__()
        bar.update(done - bar.pos)

    with contextlib.ExitStack() as stack:
        if scheduler or workers:
            from rag.models.cluster import ClusterEmbedder, cluster_client

            client = stack.enter_context(cluster_client(scheduler, workers))
            embedder = ClusterEmbedder(embedder, client, settings.batch_size)
        try:
            report = build_index(corpus_dir, settings, embedder, progress=progress, full=full)
        finally:
            if bar is not None:
                bar.__exit__(None, None, None)
    if report.up_to_date:
        click.echo(f"Index {report.index_dir} is up to date: no file changed since the last "
                   f"build ({report.documents} answer documents, {report.chunks} chunks). "
                   "Nothing written (--full rebuilds anyway).")
        return
    click.echo(f"Read {report.files_read} files: {report.documents} answer documents, "
               f"{report.chunks} chunks, {len(report.skipped)} skipped, "
               f"in {report.seconds:.1f} s. Index: {report.index_dir}")
    click.echo(f"Files: {report.unread} unchanged (not read again), {report.rehashed} read "
               f"but unchanged, {report.parsed} parsed.")
    c = report.changes
    click.echo(f"Chunks: {c.added} added, {c.changed} changed, {c.removed} removed, "
               f"{c.unchanged} unchanged; {c.embedded} embedded, {c.reused} vectors reused"
               + (f" ({c.note})" if c.note else "") + ".")
    for skipped in report.skipped:
        click.echo(f"  skipped {skipped.source}: {skipped.reason}")
    for damaged in report.damaged:
        click.echo(f"  damaged {damaged.source}: {damaged.reason}; indexed what could be read")


@main.command()
@click.argument("question")
@index_option
@model_option
@click.option("-k", "k", default=5, show_default=True, type=click.IntRange(1, 50),
              help="Number of passages.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--year", "vergaderjaar", metavar="YYYY-YYYY",
              help="Only this vergaderjaar, e.g. 2023-2024.")
@click.option("--ministry", metavar="TEXT",
              help="Only answers from (or addressed to) a ministry: name part or BZK, SZW ...")
@click.option("--party", metavar="TEXT",
              help="Only questions asked by members of a party, e.g. VVD, GL-PvdA, NSC.")
@click.option("--from", "date_from", type=click.DateTime(["%Y-%m-%d"]), metavar="YYYY-MM-DD",
              help="Only answers received on or after this date.")
@click.option("--to", "date_to", type=click.DateTime(["%Y-%m-%d"]), metavar="YYYY-MM-DD",
              help="Only answers received on or before this date.")
@click.option("--retriever", type=click.Choice(RETRIEVERS), default="hybrid", show_default=True,
              help="Ranking: Dutch BM25, dense (the model) or both fused.")
@click.option("--min-score", type=float, default=None, envvar="RAG_MIN_SCORE",
              help="Decide 'nothing found' by this best dense cosine instead of the relevance "
                   "model (env RAG_MIN_SCORE; -1 never abstains).")
def ask(question: str, index_dir: Path, model: str, k: int, as_json: bool,
        vergaderjaar: str | None, ministry: str | None, party: str | None,
        date_from: Any, date_to: Any, retriever: str, min_score: float | None) -> None:
    """Quote the earlier answers most relevant to QUESTION, with citations.

    \b
    Filters (combine freely):
      rag ask "stikstof" --year 2023-2024 --ministry LNV
      rag ask "AI op de werkvloer" --party VVD --from 2024-01-01 --to 2024-12-31
    """
    from rag.render import to_json, to_text
    from rag.search.filters import Filter
    from rag.search.searcher import open_searcher

    try:
        where = Filter(vergaderjaar=vergaderjaar, ministry=ministry, party=party,
                       date_from=date_from.date().isoformat() if date_from else None,
                       date_to=date_to.date().isoformat() if date_to else None)
    except RagError as exc:
        raise click.UsageError(str(exc)) from None
    searcher = open_searcher(Settings(index_dir=index_dir, model=model, min_score=min_score),
                             notify=_notify)
    answer = searcher.ask(question, k=k, where=where, retriever=retriever)
    if as_json:
        click.echo(json.dumps(to_json(answer), ensure_ascii=False))
    else:
        click.echo(to_text(answer))


@main.command("parse-report")
@corpus_option
def parse_report(corpus_dir: Path) -> None:
    """Print, per file, the blocks found and any anomaly; then the parse-quality share."""
    from rag.ingest.corpus import load_corpus
    from rag.ingest.parse import is_consecutive
    from rag.types import DocKind

    corpus = load_corpus(corpus_dir)
    for doc in corpus.documents:
        numbers = ",".join("+".join(map(str, b.vraag)) for b in doc.blocks)
        # Documents that are not indexed get "-": their skip line below says why.
        flag = ("-" if doc.kind is not DocKind.ANSWERS
                else "ok" if is_consecutive(doc) else "CHECK")
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


@main.command("eval")
@click.option("--gold", "gold_files", multiple=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Gold questions (JSON Lines); repeatable.")
@click.option("--self-retrieval", "self_retrieval", is_flag=True,
              help="Also query every parsed question against its own answer.")
@click.option("--beir", "beir_dirs", multiple=True,
              type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="A BEIR folder (corpus.jsonl, queries.jsonl, qrels/test.tsv); repeatable.")
@click.option("--pairs", "pairs_file", type=click.Path(exists=True, dir_okay=False,
              path_type=Path), help="Question/answer pairs (dev.jsonl) to convert and score.")
@click.option("--write-beir", "write_beir_dir", type=click.Path(file_okay=False, path_type=Path),
              help="With --pairs: also write the converted BEIR dataset here.")
@click.option("--limit", type=click.IntRange(1), help="With --pairs: the first N pairs only.")
@index_option
@click.option("--corpus", "corpus_dir", type=click.Path(exists=True, file_okay=False,
              path_type=Path), help="Build a temporary index over this corpus instead of --index.")
@model_option
@click.option("--retriever", "retrievers", multiple=True, type=click.Choice(RETRIEVERS),
              help="Retrievers to compare (repeatable; default all three).")
@click.option("--threshold", type=float,
              help="Abstention threshold (default: the model's calibrated one).")
@click.option("--calibrate", is_flag=True,
              help="Choose the abstention threshold on the gold set instead.")
@click.option("--trust", is_flag=True,
              help="With --gold: also score the relevance model's 'nothing found' per language "
                   "and kind, over the index and its leave-document-out views, and its "
                   "calibration.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("eval/results"), show_default=True,
              help="Folder for report.md and recall.png (build output, not committed).")
@click.option("--no-plot", is_flag=True, help="Skip the PNG plot.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def eval_(gold_files: tuple[Path, ...], self_retrieval: bool, beir_dirs: tuple[Path, ...],
          pairs_file: Path | None, write_beir_dir: Path | None, limit: int | None,
          index_dir: Path, corpus_dir: Path | None, model: str, retrievers: tuple[str, ...],
          threshold: float | None, calibrate: bool, trust: bool, out_dir: Path, no_plot: bool,
          as_json: bool) -> None:
    """Measure retrieval: Recall@1/5/10, MRR@10, nDCG@10 and abstention, per retriever.

    \b
    Examples:
      rag eval --gold eval/gold_sample.jsonl --corpus corpus/sample
      rag eval --gold eval/gold.jsonl --self-retrieval --index index-shared
      rag eval --pairs ../shared/qa_pairs/dev.jsonl --limit 200 --retriever hybrid
      rag eval --gold eval/gold.jsonl --gold eval/unanswerable.jsonl --trust --index index-shared
    """
    import tempfile

    from rag.build import build_index
    from rag.evaluation import report
    from rag.evaluation.beir import load_beir, pairs_to_beir, write_beir
    from rag.evaluation.gold import load_gold
    from rag.evaluation.run import beir_reports, index_reports
    from rag.models.embed import load_embedder
    from rag.search.rank import Retriever
    from rag.search.searcher import open_searcher

    if not (gold_files or self_retrieval or beir_dirs or pairs_file):
        raise click.UsageError("give at least one of --gold, --self-retrieval, --beir, --pairs")
    if write_beir_dir and not pairs_file:
        raise click.UsageError("--write-beir needs --pairs")
    if trust and not gold_files:
        raise click.UsageError("--trust needs --gold")
    chosen = [Retriever(r) for r in (retrievers or RETRIEVERS)]
    embedder = load_embedder(model, notify=_notify)
    reports = []
    trust_figures = None
    if gold_files or self_retrieval:
        with tempfile.TemporaryDirectory(prefix="rag-eval-") as tmp:
            if corpus_dir is not None:
                index_dir = Path(tmp) / "index"
                _notify(f"Building a temporary index over {corpus_dir} …")
                build_index(corpus_dir, Settings(index_dir=index_dir, model=model), embedder)
            searcher = open_searcher(Settings(index_dir=index_dir, model=model,
                                              min_score=threshold), embedder=embedder)
            gold_sets = [(path.stem, load_gold(path)) for path in gold_files]
            reports += index_reports(searcher, gold_sets, self_retrieval, chosen, calibrate)
            if trust:
                from rag.evaluation import calibration

                if searcher.relevance is None:
                    raise click.UsageError(f"no relevance model for model {model!r}; train one "
                                           "with: python eval/train_relevance.py --index DIR")
                trust_figures = calibration.trust_figures(searcher.index, embedder, gold_sets,
                                                          searcher.relevance)
    datasets = [(path.name, load_beir(path)) for path in beir_dirs]
    if pairs_file is not None:
        dataset = pairs_to_beir(pairs_file, limit)
        if write_beir_dir is not None:
            write_beir(dataset, write_beir_dir)
        datasets.append((pairs_file.stem + (f"[:{limit}]" if limit else ""), dataset))
    for name, dataset in datasets:
        with click.progressbar(length=len(dataset.corpus), label=f"Embedding {name}",
                               file=sys.stderr) as bar:
            reports += beir_reports(name, dataset, embedder, chosen, progress=bar.update)
    table = report.markdown_table(reports) + (f"\n{trust_figures.markdown()}"
                                              if trust_figures else "")
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "report.md").write_text(table, encoding="utf-8")
    if not no_plot:
        report.plot_recall(reports, out_dir / "recall.png")
    if as_json:
        result = report.to_json(reports)
        if trust_figures is not None:
            result["trust"] = trust_figures.to_json()
        click.echo(json.dumps(result, ensure_ascii=False))
    else:
        click.echo(table)
        click.echo(f"Written: {out_dir / 'report.md'}"
                   + ("" if no_plot else f", {out_dir / 'recall.png'}"))


feedback_option = click.option(
    "--feedback", "feedback_file", type=click.Path(dir_okay=False, path_type=Path),
    default=None, envvar="RAG_FEEDBACK",
    help="Feedback database (env RAG_FEEDBACK; default: feedback.sqlite in the index folder).")


def _feedback_path(index_dir: Path, feedback_file: Path | None) -> Path:
    from rag.feedback import FEEDBACK_FILE

    return feedback_file if feedback_file is not None else index_dir / FEEDBACK_FILE


@main.group("feedback", context_settings=_CONTEXT)
def feedback_group() -> None:
    """Staff judgements from the chat: export them as gold questions, or count them.

    \b
    Examples:
      rag feedback stats
      rag feedback export --out eval/gold_feedback.jsonl
      rag eval --gold eval/gold_feedback.jsonl
    """


@feedback_group.command("export")
@click.option("--out", "out_file", required=True,
              type=click.Path(dir_okay=False, path_type=Path), help="Gold file to write.")
@index_option
@feedback_option
def feedback_export(out_file: Path, index_dir: Path, feedback_file: Path | None) -> None:
    """Write the judgements as a gold file for `rag eval --gold`.

    A 👍 makes that vraag the question's answer; "geen van deze" (with no filter set and no
    👍 for the question) makes it unanswerable; a 👎 alone gives no line. Per person only
    the latest judgement of each hit counts.
    """
    from rag.feedback import FeedbackStore, export_gold

    store = FeedbackStore(_feedback_path(index_dir, feedback_file), create=False)
    judgements = store.judgements()
    lines = export_gold(judgements, out_file)
    unanswerable = sum(1 for line in lines if line["doc_id"] is None)
    click.echo(f"Wrote {len(lines)} gold questions to {out_file} ({len(lines) - unanswerable} "
               f"with a relevant vraag, {unanswerable} unanswerable) from "
               f"{len(judgements)} judgements.")


@feedback_group.command("stats")
@index_option
@feedback_option
def feedback_stats(index_dir: Path, feedback_file: Path | None) -> None:
    """Count the judgements, and the share of questions with a 👍 for the first hit."""
    from rag.feedback import FeedbackStore, stats

    path = _feedback_path(index_dir, feedback_file)
    counts = stats(FeedbackStore(path, create=False).judgements())
    v = counts.by_verdict
    click.echo(f"{counts.judgements} judgements in {path}: {v['up']} up, {v['down']} down, "
               f"{v['none']} 'none of these', {v['withdrawn']} withdrawn.")
    for reason, n in counts.by_reason.items():
        click.echo(f"  down, {reason}: {n}")
    click.echo(f"{counts.questions} questions judged; {counts.up_at_rank_1} with an up vote "
               f"for the first hit ({counts.share_up_at_rank_1:.1%}).")


@main.command()
@click.argument("file", metavar="FILE")
@index_option
@model_option
@click.option("-k", "k", default=5, show_default=True, type=click.IntRange(1, 20),
              help="Earlier answers per vraag at most.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--out", "out_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the concept answer document: FILE.docx, FILE.md or FILE.json.")
@click.option("--min-score", type=float, default=None, envvar="RAG_MIN_SCORE",
              help="Best dense cosine below which nothing counts as found (env RAG_MIN_SCORE; "
                   "default: the model's calibrated threshold).")
def dossier(file: str, index_dir: Path, model: str, k: int, as_json: bool,
            out_file: Path | None, min_score: float | None) -> None:
    """The dossier for a new set of Kamervragen in FILE (any corpus format; - reads pasted
    text from stdin): per vraag its own answer if the index has it, and the earlier answers
    on the subject, newest first, with cabinet and flags.

    \b
    Examples:
      rag dossier kv-tk-2024Z18792.pdf
      rag dossier vragen.docx --out concept.docx
      cat vragen.txt | rag dossier - --json
    """
    from rag.dossier.export import check_out, dossier_json, to_text, write
    from rag.dossier.questions import read_question_set
    from rag.dossier.standing import DossierMaker
    from rag.search.searcher import open_searcher

    if out_file is not None:
        check_out(out_file)  # refused before any work, and nothing written
    questions = read_question_set(file)
    searcher = open_searcher(Settings(index_dir=index_dir, model=model, min_score=min_score),
                             notify=_notify)
    made = DossierMaker(searcher).make(questions, k=k)
    if out_file is not None:
        write(made, out_file)
        _notify(f"Written: {out_file} ({len(made.vragen)} vragen, "
                f"{sum(len(v.earlier) for v in made.vragen)} earlier answers)")
    if as_json:
        click.echo(json.dumps(dossier_json(made), ensure_ascii=False))
    else:
        click.echo(to_text(made))


@main.command("dossier-eval")
@corpus_option
@model_option
@click.option("--cache", "cache_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Keep the vectors in this folder, so a second run embeds nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def dossier_eval(corpus_dir: Path, model: str, cache_dir: Path | None, as_json: bool) -> None:
    """Measure the dossier on a corpus: search with and without the set's context (held-out
    documents), own-answer alignment, and how alike questions of different documents are.

    \b
    Example:
      rag dossier-eval --corpus ../shared/corpus --cache /tmp/vraagbaak-vectors
    """
    from rag.evaluation.dossier import run_all

    result = run_all(corpus_dir, model, cache_dir, notify=_notify)
    click.echo(json.dumps(result.to_json(), ensure_ascii=False) if as_json else result.text())


main.add_command(fetch)
main.add_command(sync)
