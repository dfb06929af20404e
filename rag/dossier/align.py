"""The set's own answer: the answer document to this very question set, when the index has it.

A document is the set's own answer when it carries the same zaak number or the same
Aanhangsel number (vergaderjaar and nr.), or when its question texts are the set's: at
least half of the set's substantive vragen (procedural ones left aside) have a near-identical
question in it (`rag.dossier.text.similarity` ≥ 0.8). Candidates for the text test are the
documents an index search for each vraag ranks high, so no index is scanned whole. A second
("nader") answer to the same set is an own answer as well.

Each vraag is then matched to the numbered answer of the own documents whose question is most
like it (a kv-vraag 4 to an ah-block "vragen 4 en 5" answered together); when no question is
alike enough (< 0.5, a text mangled in extraction), to the block that carries its number.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from rag.dossier.text import NEAR_IDENTICAL, dice, is_procedural, shingles
from rag.types import Chunk, DocRecord, OwnAnswer, QuestionSet, Vraag

VRAAG_MATCH = NEAR_IDENTICAL  # a vraag counts as found in a document
VRAAG_ALIGN = 0.5  # below this the vraag number decides within an own document


@dataclass(frozen=True)
class _Unit:
    vraag: tuple[int, ...]
    parts: tuple[frozenset[str], ...]  # shingles of the whole question and of each part


class Library:
    """What the dossier looks up in an index besides searching it: every document's numbered
    questions, and the documents per zaak and per Aanhangsel number. Built once per index."""

    def __init__(self, documents: Mapping[str, DocRecord], chunks: Sequence[Chunk]) -> None:
        self.documents = documents
        self._questions: dict[str, dict[tuple[int, ...], str]] = {}
        for chunk in chunks:
            self._questions.setdefault(chunk.doc_id, {}).setdefault(chunk.vraag, chunk.question)
        self._units: dict[str, list[_Unit]] = {}
        self.by_zaak: dict[str, list[str]] = {}
        self.by_aanhangsel: dict[tuple[str, int], list[str]] = {}
        for doc_id, doc in documents.items():
            if doc.meta.zaak_nr:
                self.by_zaak.setdefault(doc.meta.zaak_nr.upper(), []).append(doc_id)
            if doc.meta.vergaderjaar and doc.meta.ah_nr is not None:
                key = (_year(doc.meta.vergaderjaar), doc.meta.ah_nr)
                self.by_aanhangsel.setdefault(key, []).append(doc_id)

    def units(self, doc_id: str) -> list[_Unit]:
        """The numbered questions of a document, compared in shingles (worked out once)."""
        if doc_id not in self._units:
            self._units[doc_id] = [
                _Unit(vraag, tuple(shingles(t) for t in _parts(question)))
                for vraag, question in self._questions.get(doc_id, {}).items()]
        return self._units[doc_id]

    def question(self, doc_id: str, vraag: tuple[int, ...]) -> str:
        """The stored question of a numbered answer ("" when unknown)."""
        return self._questions.get(doc_id, {}).get(vraag, "")


def own_answers(qset: QuestionSet, library: Library,
                candidates: Iterable[str]) -> dict[int, OwnAnswer]:
    """Per vraag (by its position in the set) its answer in the index, if the set's own
    answer document is there; ``candidates`` are documents the searches ranked high."""
    strong = _by_identifiers(qset, library)
    texts = [shingles(v.text) for v in qset.vragen]
    scored: dict[str, list[tuple[float, tuple[int, ...] | None]]] = {}
    for doc_id in dict.fromkeys([*strong, *candidates]):
        if doc_id in library.documents:
            scored[doc_id] = [_best_unit(t, library.units(doc_id)) for t in texts]
    own = {doc_id: strong.get(doc_id, "tekst") for doc_id, best in scored.items()
           if doc_id in strong or _answers_the_set(qset.vragen, best)}
    result: dict[int, OwnAnswer] = {}
    for i, vraag in enumerate(qset.vragen):
        choice = _choose(i, vraag, own, scored, library)
        if choice is not None:
            doc_id, unit, sim = choice
            result[i] = OwnAnswer(library.documents[doc_id], unit, own[doc_id], round(sim, 4))
    return result


def _by_identifiers(qset: QuestionSet, library: Library) -> dict[str, str]:
    meta = qset.meta
    found: dict[str, str] = {}
    if meta.vergaderjaar and meta.ah_nr is not None:
        for doc_id in library.by_aanhangsel.get((_year(meta.vergaderjaar), meta.ah_nr), []):
            found[doc_id] = "aanhangsel"
    if meta.zaak_nr:
        for doc_id in library.by_zaak.get(meta.zaak_nr.upper(), []):
            found.setdefault(doc_id, "zaak")
    return found


def _best_unit(text: frozenset[str], units: list[_Unit]) -> tuple[float, tuple[int, ...] | None]:
    best: tuple[float, tuple[int, ...] | None] = (0.0, None)
    for unit in units:
        sim = max(dice(text, part) for part in unit.parts)
        if sim > best[0]:
            best = (sim, unit.vraag)
    return best


def _answers_the_set(vragen: Sequence[Vraag],
                     best: list[tuple[float, tuple[int, ...] | None]]) -> bool:
    """At least half of the substantive vragen (all of them when every one is procedural)
    have a near-identical question in the document. An acknowledgement ("Bent u bekend met
    het bericht «…»?") counts: it names the set's own news item."""
    counted = ([i for i, v in enumerate(vragen) if not is_procedural(v.text)]
               or list(range(len(vragen))))
    found = sum(1 for i in counted if best[i][0] >= VRAAG_MATCH)
    return found >= max(1, math.ceil(len(counted) / 2))


def _choose(i: int, vraag: Vraag, own: dict[str, str],
            scored: dict[str, list[tuple[float, tuple[int, ...] | None]]],
            library: Library) -> tuple[str, tuple[int, ...], float] | None:
    """The own document's numbered answer for vraag ``i``: the most alike question, else
    the block that carries the vraag's number (the first own document that has one)."""
    best = max(((scored[d][i][0], d) for d in own), default=(0.0, ""))
    chosen = scored[best[1]][i][1] if best[1] else None
    if best[0] >= VRAAG_ALIGN and chosen is not None:
        return best[1], chosen, best[0]
    for doc_id in own:
        for candidate in library.units(doc_id):
            if set(candidate.vraag) & set(vraag.numbers):
                return doc_id, candidate.vraag, scored[doc_id][i][0]
    return None


def _parts(question: str) -> list[str]:
    parts = [p for p in question.split("\n\n") if p.strip()]
    return [question, *parts] if len(parts) > 1 else [question]


def _year(vergaderjaar: str) -> str:
    return "".join(ch for ch in vergaderjaar if ch.isdigit())
