"""`rag fetch` and `rag sync` as a user runs them: real processes, a real kill -9, and the
way from the official open data to a cited answer. The services are the local stand-in of
``tests/opendata_server.py`` (fixtures: see ``tests/data/opendata/README.md``)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from rag.opendata.store import identity_on_disk
from rag.store.index import load_index
from tests.opendata_server import DOCX_ID, PDF_ID, XML_FILE, XML_ID, FakeServices, real_rows

RAG = [sys.executable, "-m", "rag"]
RESOURCE = "/OData/v4/2.0/Document({})/resource"
PDF_FILE = "2023-2024/ah-tk-20232024-1893.pdf"


@pytest.fixture
def services() -> Iterator[FakeServices]:
    with FakeServices() as fake:
        yield fake


def fetch_args(services: FakeServices, target: Path, *more: str) -> list[str]:
    return [*RAG, "fetch", "--to", str(target), "--since", "2023-01-01",
            "--api-url", services.api_url, "--publications-url", services.publications_url,
            "--rate", "200", "--retries", "1", *more]


def run(args: list[str], cwd: Path,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})})


def test_kill_9_in_the_middle_and_resume(services: FakeServices, tmp_path: Path) -> None:
    """Killed while the third document downloads: the two finished stay finished and are not
    fetched again, nothing half-written is left, and the next run completes."""
    target = tmp_path / "data"
    services.fault(RESOURCE.format(DOCX_ID), "hang")
    process = subprocess.Popen(fetch_args(services, target), cwd=tmp_path,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert services.arrived.wait(60), "the run never reached the third document"
        os.kill(process.pid, signal.SIGKILL)
        process.wait(30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == -signal.SIGKILL
    written = sorted(p.relative_to(target).as_posix() for p in target.rglob("*")
                     if p.is_file() and ".vraagbaak-fetch" not in p.parts)
    assert written == ["2023-2024/ah-tk-20232024-1893.meta.json", PDF_FILE,
                       "2023-2024/ah-tk-20232024-2096.meta.json",
                       "2023-2024/ah-tk-20232024-2096.xml"]
    assert (target / "2023-2024/ah-tk-20232024-2096.xml").read_bytes() == XML_FILE.read_bytes()

    result = run(fetch_args(services, target), tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Listed 3 documents: 1 new, 0 changed, 0 deleted, 2 unchanged, 0 failed" \
        in result.stdout
    assert services.count(RESOURCE.format(PDF_ID)) == 1  # not fetched again
    xml = services.documents[XML_ID]["HuidigeDocumentVersie"]["DocumentPublicatie"][0]
    assert services.count(f"/OData/v4/2.0/DocumentPublicatie({xml['Id']})/Resource") == 1
    assert services.count(RESOURCE.format(DOCX_ID)) == 2
    assert not list(target.rglob("*.part"))
    state = json.loads((target / ".vraagbaak-fetch/state.json").read_text(encoding="utf-8"))
    assert set(state["documents"]) == {PDF_ID, XML_ID, DOCX_ID}
    for record in state["documents"].values():
        for rel, recorded in record["files"].items():
            identity = identity_on_disk(target / rel)
            assert identity is not None and identity.sha256 == recorded["sha256"], rel


def test_from_open_data_to_a_cited_answer(services: FakeServices, tmp_path: Path) -> None:
    """fetch -> build -> ask: the fetched PDF is found, and what the citation and the
    stored metadata say comes from the sidecar (the PDF prints no zaak number)."""
    result = run(fetch_args(services, tmp_path / "data"), tmp_path)
    assert result.returncode == 0, result.stderr
    build = run([*RAG, "build", "--corpus", "data", "--index", "idx", "--model", "hash:256"],
                tmp_path)
    assert build.returncode == 0, build.stderr
    assert "Read 3 files: 3 answer documents" in build.stdout
    assert ".json" not in build.stdout  # sidecars are companions, not skipped files
    ask = run([*RAG, "ask", "Blijft Corendon Russische toeristen naar de zon vliegen?",
               "--index", "idx", "--model", "hash:256", "--json", "-k", "1"], tmp_path)
    assert ask.returncode == 0, ask.stderr
    (hit,) = json.loads(ask.stdout)["hits"]
    assert hit["doc_id"] == "ah-tk-20232024-1893" and hit["source"] == PDF_FILE
    assert hit["citation"].startswith("Aanhangsel Handelingen 2023–2024, nr. 1893, vraag ")
    records = {k: r.meta for k, r in load_index(tmp_path / "idx").documents.items()}
    meta = records["ah-tk-20232024-1893"]
    assert meta.zaak_nr == "2024Z06771" and meta.tk_document_id == PDF_ID
    # the official page, not the mirror the files may come from
    assert meta.official_url == "https://zoek.officielebekendmakingen.nl/ah-tk-20232024-1893.html"
    word = records["ah-tk-20232024-1178"]
    assert word.answered_by == "Minister Jansen (Infrastructuur en Waterstaat)"
    assert word.asked_by == "het lid De Vries (CDA)" and word.zaak_nr == "2024Z18435"


def test_sync_fetches_then_updates_the_index(services: FakeServices, tmp_path: Path) -> None:
    args = ["sync", *fetch_args(services, tmp_path / "data")[4:], "--index", "idx",
            "--model", "hash:256"]
    first = run([*RAG, *args], tmp_path)
    assert first.returncode == 0, first.stderr
    assert "3 new" in first.stdout and "3 answer documents" in first.stdout
    services.apply_delta()
    second = run([*RAG, *args], tmp_path)
    assert second.returncode == 0, second.stderr
    assert "1 changed, 1 deleted" in second.stdout and "2 answer documents" in second.stdout
    assert "0 embedded" in second.stdout  # the changed answer's text is the same


def test_failures_are_listed_and_exit_1(services: FakeServices, tmp_path: Path) -> None:
    services.fault(RESOURCE.format(PDF_ID), "html")
    result = run(fetch_args(services, tmp_path / "data"), tmp_path)
    assert result.returncode == 1
    assert "2 new" in result.stdout and "1 failed" in result.stdout
    assert "  failed ah-tk-20232024-1893: tk-resource: an HTML page where a PDF was expected" \
        in result.stdout
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error")]
    assert errors == ["Error: 1 documents could not be fetched (listed above); the next run "
                      "tries them again"]
    assert result.stderr.rstrip().endswith(errors[0])


def test_an_unreachable_service_is_one_line(tmp_path: Path) -> None:
    with FakeServices() as fake:
        dead = fake.api_url
    result = run([*RAG, "fetch", "--to", "data", "--api-url", dead, "--retries", "0"],
                 tmp_path)
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("Error: ") and "connection failed" in line


def test_bad_options_are_usage_errors(tmp_path: Path) -> None:
    result = run([*RAG, "fetch", "--to", "data", "--kinds", "answers,questions"], tmp_path)
    assert result.returncode == 2 and "questions: choose from answers, notices" in result.stderr
    result = run([*RAG, "fetch", "--to", "data", "--since", "2024-02-01",
                  "--until", "2024-01-01"], tmp_path)
    assert result.returncode == 2 and "--until is before --since" in result.stderr


def test_options_fall_back_to_environment_variables(services: FakeServices,
                                                    tmp_path: Path) -> None:
    """Every fetch option set by its environment variable alone, each seen to act."""
    agent = "Vraagbaak (griffie; beheer@example.org)"
    env = {"RAG_FETCH_DIR": str(tmp_path / "data"), "RAG_TK_API_URL": services.api_url,
           "RAG_KOOP_URL": services.publications_url, "RAG_FETCH_RATE": "200",
           "RAG_FETCH_RETRIES": "0", "RAG_FETCH_TIMEOUT": "1",
           "RAG_FETCH_USER_AGENT": agent, "RAG_FETCH_KINDS": "answers,notices"}
    # the XML of 2096 as a mirror serves it, to a listing that does not name it
    del services.documents[XML_ID]["HuidigeDocumentVersie"]["DocumentPublicatie"]
    services.put("/koop/ah-tk-20232024-2096.xml", "application/xml", XML_FILE.read_bytes())
    services.fault(RESOURCE.format(DOCX_ID), "slow:1.5")  # one timeout, and no retry
    result = run([*RAG, "fetch", "--since", "2023-01-01"], tmp_path, env)
    assert result.returncode == 1, result.stderr
    assert "2 new" in result.stdout
    assert "  failed ah-tk-20232024-1178: tk-resource: " in result.stdout
    assert "timed out after 1 s (gave up after 1 attempts)" in result.stdout
    assert (tmp_path / "data" / "2023-2024" / "ah-tk-20232024-2096.xml").exists()
    assert services.count("/koop/ah-tk-20232024-2096.xml") == 1
    assert {r.headers["User-Agent"] for r in services.requests} == {agent}
    assert "Mededeling (uitstel antwoord)" in services.listing_requests()[0].query["$filter"][0]


def test_unfetchable_documents_are_listed_and_exit_0(services: FakeServices,
                                                     tmp_path: Path) -> None:
    row = real_rows()["2024D47139"]
    services.documents[row["Id"]] = dict(row)
    result = run(fetch_args(services, tmp_path / "data"), tmp_path)
    assert result.returncode == 0, result.stderr
    assert "3 new, 0 changed, 0 deleted, 0 unchanged, 0 failed, 1 unfetchable" in result.stdout
    assert ("  unfetchable 2024D47139: no Aanhangselnummer and no publication id, so no file "
            "name (tried again when the Tweede Kamer changes it)") in result.stdout


def test_a_user_agent_must_be_one_line(tmp_path: Path) -> None:
    result = run([*RAG, "fetch", "--to", "data", "--user-agent", " "], tmp_path)
    assert result.returncode == 2 and "--user-agent must be one non-empty line" in result.stderr


def test_the_rate_is_read_from_its_environment_variable(tmp_path: Path) -> None:
    result = run([*RAG, "fetch", "--to", "data"], tmp_path, {"RAG_FETCH_RATE": "0"})
    assert result.returncode == 2
    assert "Invalid value for '--rate': 0.0 is not in the range x>=0.01" in result.stderr
    assert not (tmp_path / "data").exists()
