"""The figures ``README.md`` quotes, measured on the recorded rows of tommyvanderwal/motiematcher.

Usage (needs git and a clone of that repository; reads, writes nothing)::

    git clone https://github.com/tommyvanderwal/motiematcher /tmp/motiematcher
    python tests/data/opendata/recorded_figures.py /tmp/motiematcher

Every ``Document`` row of ``bronmateriaal-onbewerkt/document/`` in every commit that holds
some (the last version of a row by Id), and the ``Document`` rows of the cached ``Zaak``
answers in ``bronmateriaal-onbewerkt/cache/zaak_documents/`` (their publications).
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime
from typing import Any

ANSWERS = ("Antwoord schriftelijke vragen", "Antwoord schriftelijke vragen (nader)",
           "Mededeling (uitstel antwoord)")


def _git(repo: str, *args: str) -> bytes:
    return subprocess.run(["git", "-C", repo, *args], capture_output=True, check=True).stdout


def _moment(text: str) -> datetime:
    head, _, rest = text.replace("Z", "+00:00").partition(".")
    if rest:
        digits = len(rest) - len(rest.lstrip("0123456789"))
        head = f"{head}.{rest[:digits][:6].ljust(6, '0')}{rest[digits:]}"
    return datetime.fromisoformat(head)


def _json_files(repo: str, commit: str, folder: str) -> list[Any]:
    names = _git(repo, "ls-tree", "-r", "--name-only", commit, folder).decode().split()
    found = []
    for name in names:
        try:
            found.append(json.loads(_git(repo, "show", f"{commit}:{name}")))
        except (subprocess.CalledProcessError, ValueError):
            continue  # a file stored outside git (LFS) or not JSON
    return found


def main(repo: str) -> None:
    """Print the figures."""
    folder = "bronmateriaal-onbewerkt/document/"
    rows: dict[str, dict[str, Any]] = {}
    commits = _git(repo, "log", "--all", "--format=%H", "--", folder).decode().split()
    for commit in reversed(commits):
        for page in _json_files(repo, commit, folder):
            for row in page if isinstance(page, list) else page.get("value", []):
                rows[row["Id"]] = row
    lags = sorted((_moment(r["ApiGewijzigdOp"]) - _moment(r["GewijzigdOp"])).total_seconds()
                  for r in rows.values())
    late = sum(1 for lag in lags if lag > 2 * 86400)
    print(f"Document rows: {len(rows)}; ApiGewijzigdOp more than two days after GewijzigdOp: "
          f"{late} ({late / len(lags):.1%}), at most {lags[-1] / 86400:.0f} days")
    answers = [r for r in rows.values() if r["Soort"] in ANSWERS]
    unnamed = [r for r in answers if not r["Aanhangselnummer"]]
    print(f"answers and notices: {len(answers)}; without Aanhangselnummer: {len(unnamed)}")
    local = sum(1 for r in answers if r["Datum"].endswith(("T00:00:00+01:00",
                                                           "T00:00:00+02:00")))
    print(f"of those, Datum at local midnight with an offset: {local}")
    later = total = 0
    for zaak in _json_files(repo, "HEAD", "bronmateriaal-onbewerkt/cache/zaak_documents/"):
        for doc in zaak.get("Document") or []:
            publications = (doc.get("HuidigeDocumentVersie") or {}).get("DocumentPublicatie")
            if publications:
                total += 1
                newest = max(_moment(p["ApiGewijzigdOp"]) for p in publications)
                later += newest > _moment(doc["ApiGewijzigdOp"])
    print(f"documents with publications: {total}; a publication changed after the document's "
          f"own ApiGewijzigdOp: {later}")


if __name__ == "__main__":
    main(sys.argv[1])
