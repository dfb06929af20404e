"""Measure metadata extraction on ../shared/corpus: fill rate per field, and disagreements with
the regex hints in ``documents.jsonl`` (which are hints, not ground truth).

    python eval/metadata_fill.py                  # ../shared beside the repository
    python eval/metadata_fill.py --shared DIR     # or $RAG_SHARED_DIR
    python eval/metadata_fill.py --json           # one JSON object for tools

A disagreement is either "differs" (both have a value, they differ) or "missing" (the hint has
a value, the extraction none). Parties and ministries are compared with the hint's intro lines
run through the same name splitter, so they check the intro-finding, not the splitter.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rag.errors import ParseError  # noqa: E402
from rag.ingest.people import answerers_and_ministries, askers_and_parties  # noqa: E402
from rag.ingest.readers import load_document  # noqa: E402
from rag.types import Document, DocumentMeta  # noqa: E402

FIELDS = [
    "title", "subject", "vergaderjaar", "ah_nr", "zaak_nr", "asked_by", "asked_to", "answered_by",
    "date_submitted", "date_received", "askers", "parties", "answerers", "ministries",
]
# fields a document of that kind can have at all (questions have no answer, notices no askers)
APPLIES = {
    "antwoord": set(FIELDS),
    "vragen": {"title", "subject", "vergaderjaar", "zaak_nr", "asked_by", "asked_to",
               "date_submitted", "askers", "parties", "ministries"},
    "uitstel_mededeling": {"title", "subject", "vergaderjaar", "ah_nr", "zaak_nr", "answered_by",
                           "date_received", "answerers", "ministries"},
}
_ASKED = re.compile(r"Vragen van (.+?) aan (.+?)(?: over |\s*\(ingezonden|$)", re.S)
_ANSWERED = re.compile(r"(?:Antwoord|Mededeling) van (.+?)\s*\((?:ontvangen|ingezonden)", re.S)


def _norm(value: object) -> object:
    if isinstance(value, str):
        value = re.sub(r"[«»‘’“”'\"]", '"', value.replace("–", "-").replace("_", ""))
        return re.sub(r"\s+", " ", value).strip(" .").casefold()
    return value


def _hint_people(hint: dict) -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    asked = _ASKED.search(hint.get("intro_vragen") or "")
    if asked:
        out["parties"] = askers_and_parties(asked.group(1))[1]
    answered = _ANSWERED.search(hint.get("intro_antwoord") or "")
    if answered:
        out["answer_ministries"] = answerers_and_ministries(answered.group(1))[1]
    return out


def compare(meta: DocumentMeta, hint: dict) -> list[tuple[str, str, object, object]]:
    """(field, "differs"/"missing", ours, hint) for every disagreement with the hint."""
    problems = []
    for name in ("vergaderjaar", "ah_nr", "zaak_nr", "date_submitted", "date_received", "title"):
        theirs = hint.get(name)
        ours = getattr(meta, name)
        if theirs in (None, ""):
            continue
        if ours in (None, ""):
            problems.append((name, "missing", ours, theirs))
        elif _norm(ours) != _norm(theirs):
            problems.append((name, "differs", ours, theirs))
    people = _hint_people(hint)
    if people.get("parties") and set(meta.parties) != set(people["parties"]):
        problems.append(("parties", "missing" if not meta.parties else "differs",
                         meta.parties, people["parties"]))
    wanted = people.get("answer_ministries") or ()
    if wanted and not set(wanted) <= set(meta.ministries):
        problems.append(("ministries", "missing" if not meta.ministries else "differs",
                         meta.ministries, wanted))
    return problems


def measure(shared: Path) -> dict:
    """Read every file listed in documents.jsonl and tally fill rates and disagreements."""
    corpus = shared / "corpus"
    hints = [json.loads(line) for line in (corpus / "documents.jsonl").open(encoding="utf-8")]
    filled: dict[str, Counter] = {}
    applicable: Counter = Counter()
    problems: list[dict] = []
    failures: list[dict] = []
    for hint in hints:
        path = corpus / hint["file"]
        kind = hint.get("doc_type", "antwoord")
        try:
            doc: Document = load_document(path, source=hint["file"])
        except ParseError as exc:
            failures.append({"file": hint["file"], "error": str(exc)})
            continue
        applicable[kind] += 1
        counts = filled.setdefault(kind, Counter())
        for name in FIELDS:
            if getattr(doc.meta, name) not in (None, "", ()):
                counts[name] += 1
        for name, how, ours, theirs in compare(doc.meta, hint):
            problems.append({"file": hint["file"], "field": name, "problem": how,
                             "ours": ours, "hint": theirs})
    rates = {
        kind: {name: round(filled[kind][name] / applicable[kind], 3)
               for name in FIELDS if name in APPLIES.get(kind, set(FIELDS))}
        for kind in sorted(applicable)
    }
    return {"documents": dict(applicable), "fill_rate": rates, "disagreements": problems,
            "unreadable": failures}


def main() -> int:
    """Print the fill-rate table and the disagreements (or one JSON object)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    default = Path(os.environ.get("RAG_SHARED_DIR", ROOT.parent / "shared"))
    parser.add_argument("--shared", type=Path, default=default)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not (args.shared / "corpus" / "documents.jsonl").is_file():
        print(f"no corpus at {args.shared}/corpus", file=sys.stderr)
        return 1
    result = measure(args.shared)
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=1, default=list))
        return 0
    kinds = list(result["fill_rate"])
    print("fill rate per field (share of documents of that kind with a value; - = n/a)")
    print(f"{'field':16}" + "".join(f"{k[:12]:>14}" for k in kinds))
    print(f"{'documents':16}" + "".join(f"{result['documents'][k]:>14}" for k in kinds))
    for name in FIELDS:
        cells = [result["fill_rate"][k].get(name) for k in kinds]
        print(f"{name:16}" + "".join(f"{'-' if c is None else f'{c:.0%}':>14}" for c in cells))
    print(f"\n{len(result['disagreements'])} disagreements with the documents.jsonl hints:")
    for p in result["disagreements"]:
        print(f"  {p['file']}: {p['field']} {p['problem']}: ours={p['ours']!r} "
              f"hint={p['hint']!r}")
    for f in result["unreadable"]:
        print(f"  unreadable {f['file']}: {f['error']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
