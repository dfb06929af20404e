"""`rag ask` filters end to end: --year, --ministry, --party, --from, --to on a built index."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from rag.cli import main
from tests.builders import write_docx

BRUG = """Vragen van het lid Jansen (CDA) aan de Minister van Infrastructuur en Waterstaat over
de brug (ingezonden 3 mei 2023).
Antwoord van Minister Harbers (Infrastructuur en Waterstaat) (ontvangen 1 juni 2023).
Vraag 1
Wat kost de nieuwe brug over de rivier?
Antwoord 1
De nieuwe brug over de rivier kost veertig miljoen euro.
"""
WONEN = """Vragen van de leden De Vries (GroenLinks-PvdA) en Bakker (NSC) aan de Minister van
Volkshuisvesting en Ruimtelijke Ordening over de brug naar een huis (ingezonden 2 oktober 2024).
Antwoord van Minister Keijzer (Volkshuisvesting en Ruimtelijke Ordening) (ontvangen
4 november 2024).
Vraag 1
Wat kost de brug naar een betaalbaar huis voor starters?
Antwoord 1
Een betaalbaar huis kost starters nog steeds te veel; de brug is een starterslening.
"""
WORD = """AH 650
2024Z19999
Antwoord van minister Heinen (Financiën), mede namens de minister van Defensie (ontvangen
9 december 2024)

1. Wat kost de brug van de landmacht over de rivier?

Antwoord vraag 1:
De pontonbrug van de landmacht kost vijf miljoen euro."""


def run(*args: str, cwd: Path) -> Result:
    """The command in-process (fast); paths are made absolute against ``cwd``."""
    absolute = [str(cwd / a) if a in ("corpus", "idx") else a for a in args]
    return CliRunner().invoke(main, absolute, catch_exceptions=False)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("filters")
    corpus = root / "corpus"
    corpus.mkdir()
    (corpus / "ah-tk-20222023-3001.txt").write_text(BRUG, encoding="utf-8")
    (corpus / "ah-tk-20242025-500.md").write_text(WONEN, encoding="utf-8")
    write_docx(corpus / "ah-tk-20242025-650.docx", WORD)
    result = run("build", "--corpus", "corpus", "--index", "idx", "--model", "hash:256", cwd=root)
    assert result.exit_code == 0, result.output
    assert "3 answer documents" in result.output
    return root


def ask(built: Path, *filters: str) -> list[str]:
    result = run("ask", "Wat kost de brug over de rivier?", "--index", "idx", "--model",
                 "hash:256", "-k", "5", "--json", *filters, cwd=built)
    assert result.exit_code == 0, result.output
    return [hit["doc_id"] for hit in json.loads(result.stdout)["hits"]]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ((), {"ah-tk-20222023-3001", "ah-tk-20242025-500", "ah-tk-20242025-650"}),
        (("--year", "2022-2023"), {"ah-tk-20222023-3001"}),
        (("--year", "2024–2025"), {"ah-tk-20242025-500", "ah-tk-20242025-650"}),
        (("--ministry", "Waterstaat"), {"ah-tk-20222023-3001"}),
        (("--ministry", "Defensie"), {"ah-tk-20242025-650"}),  # "mede namens"
        (("--ministry", "VRO"), {"ah-tk-20242025-500"}),
        (("--party", "GL-PvdA"), {"ah-tk-20242025-500"}),
        (("--party", "cda"), {"ah-tk-20222023-3001"}),
        (("--from", "2024-11-04"), {"ah-tk-20242025-500", "ah-tk-20242025-650"}),
        (("--from", "2024-01-01", "--to", "2024-11-30"), {"ah-tk-20242025-500"}),
        (("--to", "2023-06-01"), {"ah-tk-20222023-3001"}),
        (("--party", "VVD"), set()),
    ],
)
def test_ask_filters(built: Path, filters: tuple[str, ...], expected: set[str]) -> None:
    assert set(ask(built, *filters)) == expected


def test_no_match_says_so(built: Path) -> None:
    result = run("ask", "brug", "--index", "idx", "--model", "hash:256", "--party", "PVV",
                 cwd=built)
    assert result.exit_code == 0
    assert "No passages match the filters." in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [(("--from", "1-2-2024"), "--from"), (("--year", "2024"), "vergaderjaar"),
     (("--from", "2024-05-01", "--to", "2024-01-01"), "date range is empty")],
)
def test_bad_filter_is_a_usage_error(built: Path, args: tuple[str, ...], message: str) -> None:
    result = run("ask", "brug", "--index", "idx", "--model", "hash:256", *args, cwd=built)
    assert result.exit_code == 2
    assert message in result.stderr and "Traceback" not in result.output
