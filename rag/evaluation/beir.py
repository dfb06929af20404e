"""BEIR datasets (the field's standard layout) and the dev-pairs converter.

A BEIR dataset is a folder with ``corpus.jsonl`` (``_id``, ``title``, ``text``),
``queries.jsonl`` (``_id``, ``text``) and ``qrels/<split>.tsv`` (``query-id``, ``corpus-id``,
``score``, with a header line).
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from rag.errors import RagError


class BeirError(RagError):
    """A BEIR folder or a pairs file is missing or malformed."""


@dataclass(frozen=True)
class BeirDataset:
    """Passages, queries and graded relevance judgements, keyed by their ids."""

    corpus: dict[str, tuple[str, str]]  # id -> (title, text)
    queries: dict[str, str]  # id -> text
    qrels: dict[str, dict[str, float]]  # query id -> passage id -> grade

    def passage_text(self, passage_id: str) -> str:
        """Title and text as one passage (title first when there is one)."""
        title, text = self.corpus[passage_id]
        return f"{title}\n{text}" if title else text


def load_beir(folder: Path, split: str = "test") -> BeirDataset:
    """Read a BEIR folder; only queries with at least one positive judgement are kept."""
    qrels_file = folder / "qrels" / f"{split}.tsv"
    for needed in (folder / "corpus.jsonl", folder / "queries.jsonl", qrels_file):
        if not needed.is_file():
            raise BeirError(f"{needed} is missing: a BEIR folder holds corpus.jsonl, "
                            f"queries.jsonl and qrels/{split}.tsv")
    corpus = {str(r["_id"]): (r.get("title") or "", r.get("text") or "")
              for r in _read_jsonl(folder / "corpus.jsonl")}
    queries = {str(r["_id"]): r["text"] for r in _read_jsonl(folder / "queries.jsonl")}
    qrels: dict[str, dict[str, float]] = {}
    with qrels_file.open(encoding="utf-8", newline="") as fh:
        for i, row in enumerate(csv.reader(fh, delimiter="\t")):
            if i == 0 and row and not _is_number(row[-1]):
                continue  # header
            if len(row) < 3:
                raise BeirError(f"{qrels_file} line {i + 1}: expected query-id, corpus-id, score")
            qid, pid, score = row[0], row[1], float(row[2])
            if pid not in corpus:
                raise BeirError(f"{qrels_file} line {i + 1}: unknown corpus id {pid!r}")
            if score > 0:
                qrels.setdefault(qid, {})[pid] = score
    queries = {qid: text for qid, text in queries.items() if qid in qrels}
    return BeirDataset(corpus, queries, {q: qrels[q] for q in queries})


def write_beir(dataset: BeirDataset, folder: Path, split: str = "test") -> None:
    """Write ``dataset`` as a BEIR folder (overwriting its three files)."""
    (folder / "qrels").mkdir(parents=True, exist_ok=True)
    _write_jsonl(folder / "corpus.jsonl",
                 ({"_id": pid, "title": title, "text": text}
                  for pid, (title, text) in dataset.corpus.items()))
    _write_jsonl(folder / "queries.jsonl",
                 ({"_id": qid, "text": text} for qid, text in dataset.queries.items()))
    with (folder / "qrels" / f"{split}.tsv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, delimiter="\t", lineterminator="\n")
        writer.writerow(["query-id", "corpus-id", "score"])
        for qid, grades in dataset.qrels.items():
            for pid, score in grades.items():
                writer.writerow([qid, pid, int(score) if float(score).is_integer() else score])


def pairs_to_beir(pairs_file: Path, limit: int | None = None) -> BeirDataset:
    """Turn question → answer pairs into a BEIR dataset.

    Every ``answer`` and ``negative_answer`` becomes a passage (identical texts are one
    passage); each question's own answer is its only relevant passage. Ids are stable:
    ``q<line>`` for questions and ``p<sha1 of the text, 12 hex>`` for passages. ``limit``
    keeps the first pairs only (a smaller corpus, for quick runs).
    """
    corpus: dict[str, tuple[str, str]] = {}
    queries: dict[str, str] = {}
    qrels: dict[str, dict[str, float]] = {}
    try:
        rows = _read_jsonl(pairs_file)
    except (OSError, ValueError) as exc:
        raise BeirError(f"cannot read pairs file {pairs_file}: {exc}") from None
    for line, row in enumerate(rows[:limit], start=1):
        try:
            question, answer = row["question"], row["answer"]
        except KeyError:
            raise BeirError(f"{pairs_file} line {line}: needs 'question' and 'answer'") from None
        answer_id = _passage_id(answer)
        corpus.setdefault(answer_id, ("", answer))
        if row.get("negative_answer"):
            corpus.setdefault(_passage_id(row["negative_answer"]), ("", row["negative_answer"]))
        qid = f"q{line}"
        queries[qid] = question
        qrels[qid] = {answer_id: 1.0}
    return BeirDataset(corpus, queries, qrels)


def _passage_id(text: str) -> str:
    return "p" + hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def _read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _write_jsonl(path: Path, rows: Iterable[dict]) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
