"""The import rules that keep the pipeline's stages apart, checked on the source itself.

Every import in ``rag/`` counts, also those inside functions (made lazily for speed).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import ROOT

PACKAGE = ROOT / "rag"

# module (or package prefix) -> project modules it may not import
RULES: dict[str, tuple[str, ...]] = {
    # The nouns stand alone.
    "rag.types": ("rag",),
    # Shared data and text helpers know only the nouns.
    "rag.dutch": ("rag.ingest", "rag.search", "rag.store", "rag.models", "rag.render"),
    "rag.government": ("rag.ingest", "rag.search", "rag.store", "rag.models", "rag.render"),
    "rag.names": ("rag.ingest", "rag.search", "rag.store", "rag.models", "rag.render"),
    # Ranking is pure: no storage, no models, no citation wording, no output.
    "rag.search.rank": ("rag.store", "rag.models", "rag.cite", "rag.quote", "rag.render",
                        "rag.ingest"),
    "rag.search.fuse": ("rag.store", "rag.models", "rag.cite", "rag.quote", "rag.render",
                        "rag.ingest"),
    "rag.search.filters": ("rag.store", "rag.models", "rag.cite", "rag.quote", "rag.render",
                           "rag.ingest"),
    "rag.search.query": ("rag.store", "rag.models", "rag.cite", "rag.quote", "rag.render",
                         "rag.ingest"),
    "rag.search.candidates": ("rag.store", "rag.models", "rag.cite", "rag.quote",
                              "rag.render", "rag.ingest"),
    "rag.search.relevance": ("rag.store", "rag.models", "rag.cite", "rag.quote", "rag.render",
                             "rag.ingest"),
    "rag.search.language": ("rag.store", "rag.models", "rag.cite", "rag.quote", "rag.render",
                            "rag.ingest"),
    # Judging knows the model's spec (its relevance file), not storage or wording.
    "rag.search.judge": ("rag.store", "rag.cite", "rag.quote", "rag.render", "rag.ingest"),
    "rag.search": ("rag.cite", "rag.quote", "rag.render", "rag.chat", "rag.cli", "rag.dossier"),
    # Rendering works from an Answer alone.
    "rag.cite": ("rag.search", "rag.store", "rag.ingest", "rag.models"),
    "rag.quote": ("rag.search", "rag.store", "rag.ingest", "rag.models"),
    "rag.render": ("rag.search", "rag.store", "rag.ingest", "rag.models", "rag.dossier"),
    # Reading files knows nothing of what comes after it.
    "rag.ingest": ("rag.search", "rag.store", "rag.models", "rag.render", "rag.cite",
                   "rag.chat", "rag.build", "rag.evaluation", "rag.opendata", "rag.dossier"),
    # Fetching writes files for the build; it answers no questions.
    "rag.opendata": ("rag.search", "rag.render", "rag.chat", "rag.evaluation"),
    "rag.models": ("rag.ingest", "rag.search", "rag.store", "rag.render", "rag.chat",
                   "rag.build", "rag.evaluation"),
    "rag.store": ("rag.search", "rag.render", "rag.chat", "rag.build", "rag.evaluation"),
    # Feedback storage knows judgements only: no searching, no files of the index, no output.
    "rag.feedback": ("rag.search", "rag.store", "rag.ingest", "rag.models", "rag.render",
                     "rag.chat", "rag.build", "rag.evaluation", "rag.cite", "rag.quote"),
    # Logging set-up is for the entry points and knows nothing of the pipeline.
    "rag.logs": ("rag.search", "rag.store", "rag.ingest", "rag.models", "rag.render",
                 "rag.chat", "rag.build", "rag.evaluation", "rag.feedback"),
    # The chat goes through the searcher, never around it.
    "rag.chat": ("rag.store", "rag.ingest", "rag.models", "rag.dossier"),
    # A dossier is made through the one searcher and the readers, never around them; the
    # chat tab's desk is glued to the chat by app.py, not by importing it.
    "rag.dossier": ("rag.store", "rag.models", "rag.build", "rag.chat", "rag.cli",
                    "rag.evaluation", "rag.opendata"),
    "rag.evaluation": ("rag.render", "rag.chat", "rag.cli"),
}
# Nothing in the library imports the front ends.
FRONT_ENDS = ("rag.cli", "app")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> set[str]:
    """Every module ``path`` imports, resolved to dotted names."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


MODULES = {module_name(p): imports(p) for p in sorted(PACKAGE.rglob("*.py"))}


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_follow_the_rules(module: str) -> None:
    wrong = []
    for rule, forbidden in RULES.items():
        if not _under(module, rule):
            continue
        for name in MODULES[module]:
            if any(_under(name, f) for f in forbidden) and not _under(name, module):
                wrong.append(f"{module} imports {name} (rule for {rule})")
    if module != "rag.__main__":
        wrong += [f"{module} imports front end {name}" for name in MODULES[module]
                  if any(_under(name, f) for f in FRONT_ENDS)]
    assert not wrong, "\n".join(wrong)


def test_the_nouns_import_nothing_of_the_project() -> None:
    assert not {n for n in MODULES["rag.types"] if _under(n, "rag")}


def test_the_rules_name_real_modules() -> None:
    """A rule for a module that was renamed away would pass for nothing."""
    for rule in RULES:
        assert any(_under(m, rule) for m in MODULES), rule
