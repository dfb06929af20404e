"""Gold questions: hand-written sets, self-retrieval, and BEIR queries, as one question type."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rag.chunk import chunk_id
from rag.errors import RagError
from rag.evaluation.beir import BeirDataset
from rag.search.filters import Filter
from rag.types import Chunk, UnitKey

KINDS = ("paraphrase", "topical", "crosslingual", "unanswerable")
SELF_KIND = "self"
# A gold line may narrow its search as a user does (`rag ask --year …`, the chat's filters).
FILTER_FIELDS = ("vergaderjaar", "ministry", "party", "date_from", "date_to")


class EvalError(RagError):
    """A gold file is malformed or does not fit the index."""


@dataclass(frozen=True)
class GoldQuestion:
    """A question with the document and vraag numbers whose answers hold the information."""

    id: str
    question: str
    doc_id: str | None
    vraag: tuple[int, ...]
    kind: str
    filters: tuple[tuple[str, str], ...] = ()  # (field, value) of `FILTER_FIELDS`, if any

    @property
    def answerable(self) -> bool:
        """False for the questions the corpus has no answer to."""
        return self.doc_id is not None

    @property
    def where(self) -> Filter | None:
        """The filter the question is searched with, as `rag ask` would apply it."""
        if not self.filters:
            return None
        given = dict(self.filters)
        return Filter(vergaderjaar=given.get("vergaderjaar"), ministry=given.get("ministry"),
                      party=given.get("party"), date_from=given.get("date_from"),
                      date_to=given.get("date_to"))


def load_gold(path: Path) -> list[GoldQuestion]:
    """Read and validate a gold JSON Lines file; raise `EvalError` naming the bad line."""
    out: list[GoldQuestion] = []
    seen: set[str] = set()
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise EvalError(f"cannot read gold file {path}: {exc}") from None
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{path} line {n}"
        try:
            row = json.loads(line)
            q = GoldQuestion(str(row["id"]), str(row["question"]), row["doc_id"],
                             tuple(int(v) for v in row["vraag"]), str(row["kind"]),
                             tuple(sorted((str(k), str(v))
                                          for k, v in (row.get("filters") or {}).items())))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise EvalError(f"{where}: needs id, question, doc_id, vraag, kind ({exc})") from None
        unknown = sorted({k for k, _ in q.filters} - set(FILTER_FIELDS))
        if unknown:
            raise EvalError(f"{where}: unknown filter {', '.join(unknown)}; use "
                            f"{', '.join(FILTER_FIELDS)}")
        try:
            q.where  # noqa: B018  (a bad date or year is refused as `rag ask` refuses it)
        except RagError as exc:
            raise EvalError(f"{where}: {exc}") from None
        if q.kind not in KINDS:
            raise EvalError(f"{where}: kind must be one of {', '.join(KINDS)}")
        if (q.kind == "unanswerable") != (q.doc_id is None) or (q.doc_id is None) != (not q.vraag):
            raise EvalError(f"{where}: unanswerable questions have doc_id null and vraag [], "
                            f"the others a doc_id and vraag numbers")
        if q.id in seen:
            raise EvalError(f"{where}: duplicate id {q.id!r}")
        seen.add(q.id)
        out.append(q)
    return out


def self_retrieval_questions(chunks: Sequence[Chunk]) -> list[GoldQuestion]:
    """Every parsed question as its own query, its own vraag as the answer."""
    out: dict[UnitKey, GoldQuestion] = {}
    for chunk in chunks:
        text = " ".join(chunk.question.split())[:2000]
        if chunk.unit not in out and text:
            out[chunk.unit] = GoldQuestion(chunk_id(chunk.doc_id, chunk.vraag, 1, 1), text,
                                           chunk.doc_id, chunk.vraag, SELF_KIND)
    return list(out.values())


def beir_questions(dataset: BeirDataset) -> tuple[list[GoldQuestion], list[dict[str, float]]]:
    """BEIR queries as questions (kind ``paraphrase``) with their graded judgements."""
    questions = [GoldQuestion(qid, " ".join(text.split()), "beir", (), "paraphrase")
                 for qid, text in dataset.queries.items()]
    return questions, [dataset.qrels[q.id] for q in questions]
