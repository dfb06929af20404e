"""Odd names and damaged files: the build finishes, good documents are found, each odd one named.

The damaged PDF follows the way real downloads break: a PDF from ../shared with an
incremental update appended (as editors save changes), cut off in the middle of the update.
pypdf then silently reads the older, shorter revision.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from rag.ingest.corpus import load_corpus, walk_corpus
from rag.ingest.readers import load_bytes
from rag.names import printable
from rag.store.index import load_index
from tests.conftest import SAMPLE_FILE, shared_dir

RAG = [sys.executable, "-m", "rag"]
NOBODY = 65534  # the unprivileged user and group of Debian and most other systems


def damaged_pdf(shared: Path) -> tuple[bytes, int]:
    """A real two-page answer PDF with three more pages appended as an incremental update,
    cut off halfway through the update; returns the bytes and the original's page count."""
    import pypdf

    pdfs = sorted((shared / "corpus" / "pdf").glob("ah-tk-*.pdf"))
    base = pdfs[1].read_bytes()
    writer = pypdf.PdfWriter(io.BytesIO(base), incremental=True)
    for extra in pdfs[2:5]:
        writer.append(str(extra))
    out = io.BytesIO()
    writer.write(out)
    whole = out.getvalue()
    return whole[: len(base) + (len(whole) - len(base)) // 2], len(pypdf.PdfReader(pdfs[1]).pages)


def test_a_cut_off_pdf_is_indexed_and_named_damaged(shared: Path) -> None:
    data, pages = damaged_pdf(shared)
    doc = load_bytes(data, ".pdf", "ah-tk-20232024-1076", "cut.pdf")
    assert doc.blocks, "the readable revision is indexed"
    assert doc.damaged is not None
    assert doc.damaged.startswith(f"damaged PDF: read {pages} pages, the rest is unreadable")
    assert "bytes after the last complete revision" in doc.damaged
    whole = (shared / "corpus" / "pdf").glob("*.pdf")
    assert all(load_bytes(p.read_bytes(), ".pdf", p.stem, p.name).damaged is None for p in whole)


def test_a_pdf_cut_off_at_its_end_is_indexed_and_named_damaged(shared: Path) -> None:
    """Every real PDF without its last bytes (the end-of-file marker, the trailer, the
    cross-reference table): the pages that are there are read, and the file named damaged."""
    for path in sorted((shared / "corpus" / "pdf").glob("*.pdf")):
        data = path.read_bytes()
        whole = load_bytes(data, ".pdf", path.stem, path.name)
        text = "\n".join(f"{b.question}\n{b.answer}" for b in whole.blocks)
        for cut in (7, 30, 200):
            doc = load_bytes(data[:-cut], ".pdf", path.stem, path.name)
            assert doc.blocks, (path.name, cut)
            assert doc.damaged is not None and doc.damaged.startswith("damaged PDF: read ")
            assert "the file ends before its end-of-file marker, so it was cut off" in \
                doc.damaged
            assert all(b.answer[:100] in text for b in doc.blocks), (path.name, cut)


def first_30_kb(shared: Path) -> tuple[str, bytes]:
    """The first 30 kB of the largest real PDF, when one is larger than that."""
    path = max((shared / "corpus" / "pdf").glob("*.pdf"), key=lambda p: p.stat().st_size)
    data = path.read_bytes()
    if len(data) <= 30_000:
        pytest.skip("no PDF in ../shared is larger than 30 kB")
    return path.name, data[:30_000]


def test_a_build_with_the_first_30_kb_of_a_real_pdf(shared: Path, tmp_path: Path) -> None:
    name, data = first_30_kb(shared)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(SAMPLE_FILE, corpus / SAMPLE_FILE.name)
    (corpus / name).write_bytes(data)
    result = subprocess.run([*RAG, "build", "--corpus", str(corpus), "--index", "idx",
                             "--model", "hash:256"], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    named = [line for line in result.stdout.splitlines() if name in line]
    assert len(named) == 1 and named[0].startswith(f"  damaged {name}: damaged PDF: read ")
    assert "cut off" in named[0] and named[0].endswith("; indexed what could be read")
    ask = subprocess.run([*RAG, "ask", "Komt er een AI-fabriek in Nederland?", "--index", "idx",
                          "--model", "hash:256", "--json", "-k", "3"], cwd=tmp_path,
                         capture_output=True, text=True)
    assert ask.returncode == 0, ask.stderr
    assert SAMPLE_FILE.name in [h["source"] for h in json.loads(ask.stdout)["hits"]]
    assert {d.source for d in load_index(tmp_path / "idx").documents.values()} == {
        SAMPLE_FILE.name, name}


def odd_corpus(root: Path, shared: Path | None) -> Path:
    corpus = root / "corpus"
    (corpus / "sub").mkdir(parents=True)
    text = SAMPLE_FILE.read_text(encoding="utf-8")
    good = corpus / "sub" / SAMPLE_FILE.name
    good.write_text(text, encoding="utf-8")
    # Names a build meets in the wild: not UTF-8, a newline, a terminal escape, bidi override.
    for raw, n in ((b"bad\xffname", 1), (b"new\nline", 2), (b"esc\x1b[31mred", 3),
                   ("rtl\u202etxt.exe".encode(), 4)):
        name = raw + f"-ah-tk-20232024-{700 + n}.txt".encode()
        Path(os.fsdecode(os.path.join(os.fsencode(corpus), name))).write_text(
            text.replace("Ja, ik ben bekend met dit artikel.", f"Ja (kopie {n})."),
            encoding="utf-8")
    (corpus / "locked").mkdir()
    (corpus / "locked" / "ah-tk-20232024-799.txt").write_text(text, encoding="utf-8")
    os.chmod(corpus / "locked", 0)
    if shared is not None:
        (corpus / "ah-tk-20232024-1076.pdf").write_bytes(damaged_pdf(shared)[0])
    return corpus


@pytest.fixture
def odd() -> Iterator[tuple[Path, Path]]:
    """The odd corpus (with the damaged PDF when ../shared is there), in a folder another
    user can read: the walk is checked as one."""
    root = Path(tempfile.mkdtemp(prefix="vraagbaak-odd-"))
    os.chmod(root, 0o755)
    try:
        yield root, odd_corpus(root, shared_dir())
    finally:
        os.chmod(root / "corpus" / "locked", 0o755)
        shutil.rmtree(root)


def _walk_as_nobody(corpus: Path) -> list[tuple[str, str | None]]:
    """`walk_corpus` in a child process without root's right to read every folder."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os.close(read)
        try:
            if os.geteuid() == 0:
                os.setgid(NOBODY)
                os.setuid(NOBODY)
            rows = [(printable(str(p)), r) for p, r in walk_corpus(corpus)]
            os.write(write, json.dumps(rows).encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as fh:
        rows = json.loads(fh.read() or "[]")
    os.waitpid(pid, 0)
    return [tuple(r) for r in rows]


def test_names_that_would_print_alike_are_two_documents(tmp_path: Path) -> None:
    """A name holding the byte 0xff and one holding a backslash, an x and two f's."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    text = SAMPLE_FILE.read_text(encoding="utf-8")
    for raw, answer in ((b"bad\xffname.txt", "Ja (byte)."), (b"bad\\xffname.txt", "Ja (tekens).")):
        with open(os.path.join(os.fsencode(corpus), raw), "w", encoding="utf-8") as fh:
            fh.write(text.replace("Ja, ik ben bekend met dit artikel.", answer))
    result = subprocess.run([*RAG, "build", "--corpus", str(corpus), "--index", "idx",
                             "--model", "hash:256"], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "2 answer documents" in result.stdout and "0 skipped" in result.stdout
    index = load_index(tmp_path / "idx")
    assert {d.source: d.doc_id for d in index.documents.values()} == {
        "bad\\xffname.txt": "bad\\xffname", "bad\\\\xffname.txt": "bad\\\\xffname"}
    for answer, source in (("Ja (byte).", "bad\\xffname.txt"),
                           ("Ja (tekens).", "bad\\\\xffname.txt")):
        ask = subprocess.run([*RAG, "ask", answer, "--index", "idx", "--model", "hash:256",
                              "-k", "1"], cwd=tmp_path, capture_output=True, text=True)
        assert f"source: {source}" in ask.stdout, ask.stdout


def test_an_unreadable_folder_is_listed_as_skipped(odd: tuple[Path, Path]) -> None:
    _, corpus = odd
    rows = _walk_as_nobody(corpus)
    assert (str(corpus / "locked"), "unreadable folder (Permission denied)") in rows
    assert sum(1 for _, reason in rows if reason is None) == 5 + (shared_dir() is not None)


def test_a_build_lists_an_unreadable_folder_as_skipped(odd: tuple[Path, Path]) -> None:
    """The whole build, run as a user who cannot read the folder (root reads every folder,
    so as root the build runs as nobody, through util-linux's setpriv)."""
    root, corpus = odd
    out = root / "out"
    out.mkdir()
    as_user: list[str] = []
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running the build as an unprivileged user needs setpriv")
        os.chown(out, NOBODY, NOBODY)
        as_user = [setpriv, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
    result = subprocess.run([*as_user, *RAG, "build", "--corpus", str(corpus), "--index",
                             "idx", "--model", "hash:256"], cwd=out, capture_output=True,
                            text=True, env={**os.environ, "HOME": str(out)})
    if as_user and result.returncode != 0 and "setpriv:" in result.stderr:
        pytest.skip(f"cannot run the build as an unprivileged user: {result.stderr.strip()}")
    assert result.returncode == 0, result.stderr
    assert "  skipped locked: unreadable folder (Permission denied)\n" in result.stdout
    sources = {d.source for d in load_index(out / "idx").documents.values()}
    assert f"sub/{SAMPLE_FILE.name}" in sources
    assert not any(s.startswith("locked/") for s in sources)


def test_odd_names_are_indexed_stored_and_shown_on_one_line(odd: tuple[Path, Path]) -> None:
    root, corpus = odd
    load = load_corpus(corpus)
    sources = {d.source for d in load.answer_documents}
    assert "bad\\xffname-ah-tk-20232024-701.txt" in sources
    assert "new\\x0aline-ah-tk-20232024-702.txt" in sources
    assert "esc\\x1b[31mred-ah-tk-20232024-703.txt" in sources
    assert "rtl\\u202etxt.exe-ah-tk-20232024-704.txt" in sources
    # The whole build as a user runs it.
    result = subprocess.run([*RAG, "build", "--corpus", str(corpus), "--index", "idx",
                             "--model", "hash:256"], cwd=root, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    if shared_dir() is not None:
        assert "damaged ah-tk-20232024-1076.pdf: damaged PDF: read 2 pages" in result.stdout
        assert "; indexed what could be read" in result.stdout
    assert "\x1b" not in result.stdout and "\u202e" not in result.stdout
    index = load_index(root / "idx")
    assert {d.source for d in index.documents.values()} >= sources
    ask = subprocess.run([*RAG, "ask", "Ja (kopie 2).", "--index", "idx", "--model", "hash:256",
                          "-k", "3"], cwd=root, capture_output=True, text=True)
    assert ask.returncode == 0, ask.stderr
    shown = [line for line in ask.stdout.splitlines() if "source: " in line]
    assert any(line.endswith("source: new\\x0aline-ah-tk-20232024-702.txt") for line in shown)
    payload = subprocess.run([*RAG, "ask", "AI-fabriek", "--index", "idx", "--model",
                              "hash:256", "--json", "-k", "20"], cwd=root,
                             capture_output=True, text=True)
    assert all("\\x" in h["source"] or h["source"].isprintable()
               for h in json.loads(payload.stdout)["hits"])
