"""The subject measurements of `rag dossier-eval`: labels, figures and the choice of the cut.

Over the small corpus of `tests.dossier_data` (hashing embedder), with labels written for the
test: the new set is on the subject of the Rutte III answer (1002), near the Rutte IV one
(1003), and the bridge at Zwolle (1500) is off it.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from rag.dossier.questions import question_set_from_text
from rag.dossier.standing import DossierMaker, SubjectCut
from rag.evaluation.subjects import (
    NO_GROUP,
    CaseResult,
    SubjectCase,
    choose,
    gain,
    load_subject_labels,
    run_cases,
    score,
)
from rag.models.embed import HashingEmbedder
from rag.search.searcher import Searcher
from rag.store.index import load_index
from tests.dossier_data import KV_ID, KV_SET, build_dossier_index
from tests.test_app import HASH_MIN_SCORE

ON = "ah-tk-20212022-1002"
NEAR = "ah-tk-20212022-1003"
OFF = "ah-tk-20232024-1500"
LABELS = [
    {"kind": "question set", "set": KV_ID, "on": [ON], "related": [NEAR], "why": "test"},
    {"kind": "subject", "group": [ON, OFF], "why": "test"},
    {"kind": "related", "group": [NEAR, "ah-tk-20242025-2001"]},
]


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> CaseResult:
    embedder = HashingEmbedder(256)
    index = load_index(build_dossier_index(tmp_path_factory.mktemp("subjects")),
                       embedder.model_id)
    maker = DossierMaker(Searcher(index, embedder, HASH_MIN_SCORE))
    case = SubjectCase(KV_ID, "question set", question_set_from_text(KV_SET, f"{KV_ID}.txt"))
    (made,) = run_cases(maker, [case])
    return made


@pytest.fixture
def labels_file(tmp_path: Path) -> Path:
    path = tmp_path / "subjects.jsonl"
    path.write_text("".join(json.dumps(x) + "\n" for x in LABELS), encoding="utf-8")
    return path


def test_labels_of_sets_and_of_groups(labels_file: Path) -> None:
    labels = load_subject_labels(labels_file)
    assert labels.question_sets == {KV_ID}
    assert labels.on[KV_ID] == {ON} and labels.related[KV_ID] == {NEAR}
    # a group makes each member on the subject of the others, never of itself
    assert labels.on[ON] == {OFF} and labels.on[OFF] == {ON}
    assert labels.related[NEAR] == {"ah-tk-20242025-2001"}


def test_figures_count_the_line_and_the_group(result: CaseResult, labels_file: Path) -> None:
    labels = load_subject_labels(labels_file)
    before = score([result], labels, NO_GROUP)
    line = [e.hit for s in result.dossier.vragen for e in s.earlier]
    assert before.vragen == 2  # vraag 1 (the news item) and vraag 4 (procedural) are formal
    assert before.line == len(line) and before.group == 0
    assert before.line_good == sum(h.doc.doc_id in {ON, NEAR} for h in line)
    assert before.on_docs == 1 and before.found == before.found_line
    # a group of the right document gains; one of a document off the subject costs
    right = score([replace(result, scores={ON: 5.0})], labels, SubjectCut())
    wrong = score([replace(result, scores={OFF: 5.0})], labels, SubjectCut())
    assert right.group and right.group_good == right.group and right.found == 1
    assert wrong.group and wrong.group_good == 0 and gain(wrong) < 0 < gain(right)
    assert right.covered >= before.covered


def test_the_cut_is_chosen_by_what_it_gains(result: CaseResult, labels_file: Path) -> None:
    labels = load_subject_labels(labels_file)
    grid = [SubjectCut(min_z=4.0), SubjectCut(min_z=6.0)]
    # the right document stands out at 5: only the lower bound shows it
    assert choose([replace(result, scores={ON: 5.0})], labels, grid) == grid[0]
    # only a wrong document stands out: showing no group is worth more
    assert choose([replace(result, scores={OFF: 5.0})], labels, grid) == NO_GROUP
