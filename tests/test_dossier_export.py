"""The dossier as JSON, Markdown and Word, the `rag dossier` command, and the chat tab's desk.

Word files are reopened with python-docx: the vraag texts are there, every quote is
verbatim from the index, every citation is a real hyperlink.
"""

from __future__ import annotations

import io
import json
import os
import stat
from dataclasses import replace
from pathlib import Path

import docx
import pytest
from click.testing import CliRunner

from rag.cli import main
from rag.dossier.desk import Desk, choices, export_name, parse_key, section_html, unit_key
from rag.dossier.export import dossier_json, select, to_markdown, write
from rag.dossier.questions import question_set_from_text
from rag.dossier.standing import DossierMaker, subject_line
from rag.dossier.word import QUOTE_STYLE, to_docx
from rag.models.embed import HashingEmbedder
from rag.render import to_json
from rag.search.searcher import Searcher
from rag.store.index import load_index
from rag.types import Answer, Dossier
from tests.dossier_data import (
    KV_ID,
    KV_SET,
    ORAL_QUESTION,
    OWN,
    OWN_ID,
    UNNUMBERED_SET,
    build_dossier_index,
)
from tests.test_app import HASH_MIN_SCORE


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_dossier_index(tmp_path_factory.mktemp("export"))


@pytest.fixture(scope="module")
def searcher(index_dir: Path) -> Searcher:
    embedder = HashingEmbedder(256)
    return Searcher(load_index(index_dir, embedder.model_id), embedder, HASH_MIN_SCORE)


@pytest.fixture(scope="module")
def dossier(searcher: Searcher) -> Dossier:
    return DossierMaker(searcher).make(question_set_from_text(KV_SET, f"{KV_ID}.txt"), k=5)


def _answers(searcher: Searcher) -> list[str]:
    return [c.answer for c in searcher.index.chunks]


def _pieces(quote: str) -> list[str]:
    """The verbatim pieces of a shown quote (" … " joins them, "…" marks a cut end)."""
    quote = quote.removeprefix("… ").removesuffix(" …")
    return quote.split(" … ")


# -- JSON -------------------------------------------------------------------------------------


def test_json_contract(dossier: Dossier) -> None:
    data = json.loads(json.dumps(dossier_json(dossier), ensure_ascii=False))
    assert data["title"] == "Concept-beantwoording — de start van de AI-adviesraad"
    assert data["source"] == f"{KV_ID}.txt"
    assert [v["vraag"] for v in data["vragen"]] == [[1], [2], [3], [4]]
    searched = next(s.searched for s in dossier.vragen if s.searched.hits)
    ask_fields = set(to_json(Answer("q", searched.hits[:1]))["hits"][0])
    for vraag, section in zip(data["vragen"], dossier.vragen, strict=True):
        assert vraag["question"] == section.vraag.text
        assert vraag["own_answer"]["doc_id"] == OWN_ID
        assert vraag["own_answer"]["vraag"] == vraag["vraag"]
        for hit in vraag["hits"]:
            assert ask_fields <= set(hit)  # the `rag ask --json` hit fields, then ours
            assert {"date", "ministries", "cabinet", "url", "newer_than_top"} <= set(hit)
            assert hit["doc_id"] != OWN_ID
            assert hit["url"] == f"https://zoek.officielebekendmakingen.nl/{hit['doc_id']}.html"
        dates = [h["date"] for h in vraag["hits"]]
        assert dates == sorted(dates, reverse=True)
    third = data["vragen"][2]
    assert third["newer_answer_available"] is True
    assert [h["cabinet"] for h in third["hits"]] == ["Schoof", "Rutte IV", "Rutte III"]
    assert [d["doc_id"] for d in third["near_duplicates"]] == ["ah-tk-20212022-1002"]
    assert third["near_duplicates"][0]["date"] == "2022-01-09"


# -- Word -------------------------------------------------------------------------------------


def test_docx_reopened_holds_vragen_verbatim_quotes_and_links(dossier: Dossier,
                                                              searcher: Searcher) -> None:
    document = docx.Document(io.BytesIO(to_docx(dossier)))
    paragraphs = document.paragraphs
    texts = [p.text for p in paragraphs]
    assert texts[0] == "Concept-beantwoording — de start van de AI-adviesraad"
    for section in dossier.vragen:
        assert section.vraag.text in texts
    quotes = [p.text for p in paragraphs if p.style.name == QUOTE_STYLE]
    assert len(quotes) == sum(len(s.earlier) for s in dossier.vragen) >= 3
    answers = _answers(searcher)
    for quote in quotes:
        for piece in _pieces(quote):
            assert any(piece in answer for answer in answers), piece
    links = [link for p in paragraphs for link in p.hyperlinks]
    shown = {e.hit.doc.doc_id for s in dossier.vragen for e in s.earlier} | {OWN_ID}
    assert {link.url for link in links} == {
        f"https://zoek.officielebekendmakingen.nl/{d}.html" for d in shown}
    assert all(link.text.startswith("Aanhangsel Handelingen") for link in links)
    # per vraag: "Eerdere antwoorden" newest first, then an empty "Antwoord" paragraph
    headings = [i for i, t in enumerate(texts) if t == "Antwoord"]
    assert len(headings) == len(dossier.vragen)
    assert all(texts[i + 1] == "" for i in headings)


def test_only_ticked_passages_are_exported(dossier: Dossier) -> None:
    third = dossier.vragen[2]
    keep = third.earlier[1].hit.chunk.unit
    chosen = select(dossier, {2: {keep}})
    assert [len(s.earlier) for s in chosen.vragen] == [0, 0, 1, 0]
    document = docx.Document(io.BytesIO(to_docx(chosen)))
    quotes = [p.text for p in document.paragraphs if p.style.name == QUOTE_STYLE]
    assert len(quotes) == 1 and "Autoriteit Persoonsgegevens" in quotes[0]


def test_newer_than_the_best_hit_only_when_the_best_hit_is_exported(dossier: Dossier) -> None:
    third = dossier.vragen[2]
    top = next(e for e in third.earlier if e.top)
    newer = next(e for e in third.earlier if e.newer_than_top)
    alone = select(dossier, {2: {newer.hit.chunk.unit}})
    text = " ".join(p.text for p in docx.Document(io.BytesIO(to_docx(alone))).paragraphs)
    assert "recenter" not in text and not alone.vragen[2].earlier[0].newer_than_top
    both = select(dossier, {2: {newer.hit.chunk.unit, top.hit.chunk.unit}})
    text = " ".join(p.text for p in docx.Document(io.BytesIO(to_docx(both))).paragraphs)
    assert "recenter dan de beste treffer" in text and "Let op: recenter antwoord" in text


def test_passages_on_the_subject_are_shown_apart_in_every_form(dossier: Dossier) -> None:
    """A vraag's group on the subject (the fixture is too small for one to stand out, so one
    is given here): under its own heading in Markdown and Word, as "on_subject" in JSON, with
    checkboxes of their own in the tab, and exported only when ticked."""
    section = dossier.vragen[1]
    on_line = {e.hit.chunk.unit for e in section.earlier}
    (extra,) = subject_line((next(h for h in section.searched.hits
                                  if h.chunk.unit not in on_line),), section.vraag.text)
    second = replace(dossier.vragen[1], on_subject=(extra,))
    made = replace(dossier, vragen=(dossier.vragen[0], second, *dossier.vragen[2:]))
    markdown = to_markdown(made)
    assert markdown.count("#### Over hetzelfde onderwerp") == 1
    data = dossier_json(made)["vragen"][1]
    assert [h["doc_id"] for h in data["on_subject"]] == [extra.hit.doc.doc_id]
    assert dossier_json(made)["vragen"][0]["acknowledgement"] is True
    labels = [label for label, _ in choices(second)]
    assert labels[-1].endswith("(over hetzelfde onderwerp)") and len(labels) == len(
        second.earlier) + 1
    assert "Over hetzelfde onderwerp" in section_html(second)
    ticked = select(made, {1: {extra.hit.chunk.unit}})
    assert [e.hit.chunk.unit for e in ticked.vragen[1].on_subject] == [extra.hit.chunk.unit]
    assert ticked.vragen[1].earlier == ()
    texts = [p.text for p in docx.Document(io.BytesIO(to_docx(ticked))).paragraphs]
    assert "Over hetzelfde onderwerp" in texts
    assert not select(made, {}).vragen[1].on_subject  # not ticked: not exported


def test_markdown_has_every_part(dossier: Dossier, searcher: Searcher) -> None:
    text = to_markdown(dossier)
    assert text.startswith("# Concept-beantwoording — de start van de AI-adviesraad\n")
    assert text.count("### Eerdere antwoorden") == text.count("### Antwoord\n") == 4
    assert "kabinet-Rutte III" in text and "recenter antwoord beschikbaar" in text
    quotes = [line[2:] for line in text.splitlines() if line.startswith("> ")]
    answers = _answers(searcher)
    vragen = {" ".join(s.vraag.text.split()) for s in dossier.vragen}
    for quote in quotes:
        if quote not in vragen:
            assert all(any(p in a for a in answers) for p in _pieces(quote)), quote


def test_write_is_all_or_nothing(dossier: Dossier, tmp_path: Path) -> None:
    for suffix in (".docx", ".md", ".json"):
        out = write(dossier, tmp_path / f"concept{suffix}")
        assert out.stat().st_size > 100
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "concept.docx", "concept.json", "concept.md"]  # no temporary file left behind


# -- the command ------------------------------------------------------------------------------


def _run(index_dir: Path, *args: str, stdin: str | None = None) -> object:
    return CliRunner().invoke(main, ["dossier", *args, "--index", str(index_dir), "--model",
                                     "hash:256", "--min-score", str(HASH_MIN_SCORE)],
                              input=stdin)


def test_rag_dossier_json_and_out(index_dir: Path, tmp_path: Path) -> None:
    source = tmp_path / f"{KV_ID}.txt"
    source.write_text(KV_SET, encoding="utf-8")
    out = tmp_path / "concept.docx"
    result = _run(index_dir, str(source), "--json", "--out", str(out))
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["vragen"][0]["own_answer"] == {**data["vragen"][0]["own_answer"],
                                               "doc_id": OWN_ID, "vraag": [1]}
    assert "Written:" in result.stderr
    assert docx.Document(str(out)).paragraphs[0].text.startswith("Concept-beantwoording")


def test_rag_dossier_reads_pasted_text(index_dir: Path) -> None:
    result = _run(index_dir, "-", stdin=KV_SET)
    assert result.exit_code == 0, result.output
    # the terminal speaks English; titles, citations and offices keep their Dutch
    assert result.stdout.startswith("Dossier: de start van de AI-adviesraad")
    assert ("Already answered (this is the answer to this vraag): Aanhangsel Handelingen "
            "2024–2025, nr. 3001") in result.stdout
    for dutch in ("Reeds beantwoord", "Let op", "procedurele vraag", "Geen eerder antwoord",
                  "beste treffer", "bijna dezelfde vraag"):
        assert dutch not in result.stdout, dutch
    assert "(procedural vraag: no earlier answers searched)" in result.stdout
    assert "Note: a more recent answer than the best hit is available." in result.stdout
    assert "· cabinet Schoof · minister Beljaarts van Economische Zaken  [" in result.stdout
    assert "[best hit" in result.stdout and "newer than the best hit]" in result.stdout


@pytest.mark.parametrize("kind", ["pdf", "docx"])
def test_rag_dossier_reads_a_pdf_or_word_file_piped_in(index_dir: Path, tmp_path: Path,
                                                      kind: str) -> None:
    from tests.builders import write_docx, write_pdf

    source = (write_pdf(tmp_path / "vragen.pdf", KV_SET.splitlines()) if kind == "pdf"
              else write_docx(tmp_path / "vragen.docx", KV_SET, autonumber=False))
    result = CliRunner().invoke(main, ["dossier", "-", "--index", str(index_dir), "--model",
                                       "hash:256", "--min-score", str(HASH_MIN_SCORE),
                                       "--json"], input=source.read_bytes())
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [v["vraag"] for v in data["vragen"]] == [[1], [2], [3], [4]]
    assert data["vragen"][0]["own_answer"]["doc_id"] == OWN_ID


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_out_files_follow_the_umask(dossier: Dossier, tmp_path: Path, umask: int,
                                    mode: int) -> None:
    old = os.umask(umask)
    try:
        out = write(dossier, tmp_path / "concept.md")
    finally:
        os.umask(old)
    assert stat.S_IMODE(out.stat().st_mode) == mode


def _huge(path: Path) -> Path:
    with path.open("wb") as fh:
        fh.truncate(26 * 2**20)
    return path


@pytest.mark.parametrize(("name", "make", "message"), [
    ("mondeling.txt", lambda p: p.write_text(ORAL_QUESTION), "no vragen found"),
    ("antwoord.txt", lambda p: p.write_text(OWN), "this is an answer document"),
    ("binair.txt", lambda p: p.write_bytes(b"\x00\xff" * 5000), "binary data"),
    ("groot.txt", _huge, "too large"),
    ("vragen.exe", lambda p: p.write_text(KV_SET), "unsupported file type"),
])
def test_bad_input_gives_one_message_and_writes_nothing(
        index_dir: Path, tmp_path: Path, name: str, make: object, message: str) -> None:
    source = tmp_path / name
    make(source)  # type: ignore[operator]
    out = tmp_path / "concept.docx"
    result = _run(index_dir, str(source), "--out", str(out))
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == [name]


def test_an_unknown_output_format_is_refused_before_any_work(index_dir: Path,
                                                             tmp_path: Path) -> None:
    result = _run(index_dir, str(tmp_path / "nergens.txt"), "--out", str(tmp_path / "x.pdf"))
    assert result.exit_code == 1 and "unknown output format" in result.stderr
    assert list(tmp_path.iterdir()) == []


# -- the chat tab's desk ----------------------------------------------------------------------


def test_desk_reads_an_upload_once_and_removes_it(searcher: Searcher, tmp_path: Path) -> None:
    folder = tmp_path / "gradio-upload-hash"
    folder.mkdir()
    upload = folder / f"{KV_ID}.txt"
    upload.write_text(KV_SET, encoding="utf-8")
    view = Desk(searcher, export_dir=tmp_path).from_upload(str(upload))
    assert view.dossier is not None and len(view.dossier.vragen) == 4
    assert "4 vragen" in view.message
    assert not upload.exists() and not folder.exists()


def test_desk_messages_instead_of_traces(searcher: Searcher, tmp_path: Path) -> None:
    desk = Desk(searcher, export_dir=tmp_path)
    upload = tmp_path / "antwoord.txt"
    upload.write_text(OWN, encoding="utf-8")
    view = desk.from_upload(str(upload))
    assert view.dossier is None and "Geen dossier gemaakt" in view.message
    assert "answer document" in view.message and not upload.exists()
    assert desk.from_text("   ").dossier is None
    assert desk.from_upload(None).dossier is None
    assert desk.from_hit(None).dossier is None


def test_desk_exports_only_the_ticked_passages(searcher: Searcher, tmp_path: Path) -> None:
    desk = Desk(searcher, export_dir=tmp_path)
    view = desk.from_text(KV_SET)
    assert view.dossier is not None
    third = view.dossier.vragen[2]
    keys = [unit_key(e.hit.chunk.unit) for e in third.earlier[:2]]
    assert [parse_key(k) for k in keys] == [e.hit.chunk.unit for e in third.earlier[:2]]
    path = desk.export(view.dossier, {2: keys, 0: ["onzin"]})
    assert path is not None and path.parent.parent == tmp_path
    quotes = [p.text for p in docx.Document(str(path)).paragraphs
              if p.style.name == QUOTE_STYLE]
    assert len(quotes) == 2


def test_word_files_are_named_after_the_subject(searcher: Searcher, tmp_path: Path) -> None:
    desk = Desk(searcher, export_dir=tmp_path)
    pasted = desk.from_text(KV_SET).dossier
    unnumbered = desk.from_text(UNNUMBERED_SET.replace("2024Z99998", "")).dossier
    assert pasted is not None and unnumbered is not None
    assert export_name(pasted.questions) == (
        "concept-beantwoording-2024Z99999-de-start-van-de-ai-adviesraad.docx")
    assert export_name(unnumbered.questions) == "concept-beantwoording-de-ai-adviesraad.docx"


def test_the_desk_keeps_only_its_recent_exports(searcher: Searcher, tmp_path: Path) -> None:
    desk = Desk(searcher, export_dir=tmp_path, keep_seconds=0)
    mine = tmp_path / "notities.txt"  # not the desk's: never touched
    mine.write_text("eigen aantekeningen", encoding="utf-8")
    dossier = desk.from_text(KV_SET).dossier
    first = desk.export(dossier, {})
    second = desk.export(dossier, {})
    assert first is not None and second is not None and first != second
    assert not first.exists() and not first.parent.exists() and second.exists()
    assert mine.read_text(encoding="utf-8") == "eigen aantekeningen"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [second.parent.name, mine.name])
    kept = Desk(searcher, export_dir=tmp_path)  # the default keeps a minute's files
    assert kept.export(dossier, {}) is not None and second.exists()


def test_more_about_a_chat_hit_gives_its_standing_line(searcher: Searcher,
                                                       tmp_path: Path) -> None:
    hit = next(h for h in searcher.ask("adviesraad kunstmatige intelligentie", k=5).hits
               if h.doc.doc_id == "ah-tk-20242025-2001")
    view = Desk(searcher, export_dir=tmp_path).from_hit(hit)
    assert view.dossier is not None
    (section,) = view.dossier.vragen
    assert section.own_answer is not None and section.own_answer.doc.doc_id == hit.doc.doc_id
    # the result itself is the starting point, not one of the earlier answers
    assert section.earlier and all(e.hit.chunk.unit != hit.chunk.unit
                                   for e in (*section.earlier, *section.on_subject))


def test_more_about_a_chat_hit_keeps_the_rest_of_its_document(searcher: Searcher,
                                                              tmp_path: Path) -> None:
    """The result's own document is the most on-subject source there is: only the result
    itself leaves the hits, its other vragen stay (before, the whole document left)."""
    hit = next(h for h in searcher.ask("adviesraad kunstmatige intelligentie", k=10).hits
               if h.chunk.unit == ("ah-tk-20212022-1002", (1,)))
    view = Desk(searcher, export_dir=tmp_path).from_hit(hit)
    assert view.dossier is not None
    (section,) = view.dossier.vragen
    own = section.own_answer
    assert own is not None and (own.doc.doc_id, own.vraag, own.matched) == (
        "ah-tk-20212022-1002", (1,), "resultaat")
    shown = [e.hit.chunk.unit for e in (*section.earlier, *section.on_subject)]
    assert hit.chunk.unit not in shown
    assert ("ah-tk-20212022-1002", (2,)) in shown


def test_rag_dossier_eval_reports_every_measurement(tmp_path: Path) -> None:
    from tests.dossier_data import write_corpus

    corpus = write_corpus(tmp_path / "corpus")
    (corpus / f"{KV_ID}.txt").write_text(KV_SET, encoding="utf-8")
    args = ["dossier-eval", "--corpus", str(corpus), "--model", "hash:256"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "| test | rerank |" in result.stdout or "| tune | rerank |" in result.stdout
    assert "kv-document: 4/4 (100.0%)" in result.stdout
    data = json.loads(CliRunner().invoke(main, [*args, "--json"]).stdout)
    assert data["alignment"]["counts"]["kv-document"] == [4, 4]
    assert {r["mode"] for r in data["context"]} == {"none", "append", "fused", "rerank"}


def test_desk_follows_the_searcher_in_use(searcher: Searcher, index_dir: Path,
                                          tmp_path: Path) -> None:
    embedder = HashingEmbedder(256)
    rebuilt = Searcher(load_index(index_dir, embedder.model_id), embedder, HASH_MIN_SCORE)
    current = [searcher]
    desk = Desk(lambda: current[0], export_dir=tmp_path)
    first = desk.maker
    assert desk.maker is first and first.searcher is searcher
    current[0] = rebuilt  # a rebuild of the index replaced the chat's searcher
    assert desk.maker is not first and desk.maker.searcher is rebuilt
