"""Lexical retrieval: BM25 for Dutch (bm25s with a Snowball stemmer and Dutch stopwords).

The BM25 index is a folder of plain files written by bm25s itself (``params.index.json``,
``vocab.index.json``, sparse score arrays as ``.npy``) plus ``lexical.json`` with our own
tokenizer settings, so a query is always tokenized the way the passages were.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rag.errors import IndexError_

LEXICAL_DIR = "bm25"  # sub-folder of an index generation
SETTINGS_FILE = "lexical.json"
_INSTALL_HINT = "pip install bm25s PyStemmer"


@dataclass(frozen=True)
class LexicalSettings:
    """Tokenizer and BM25 parameters; stored with the index so queries match passages.

    The defaults were compared on the gold set, self-retrieval and the dev pairs (see
    eval/README.md): the Snowball ``dutch`` stemmer (Kraaij–Pohlmann since Snowball 3)
    and the bm25s Dutch stopword list, Lucene BM25 with k1 = 1.2 and b = 0.75.
    """

    stemmer: str = "dutch"
    stopwords: str = "nl"
    k1: float = 1.2
    b: float = 0.75


class LexicalIndex:
    """A BM25 index over passages, in passage (= chunk row) order."""

    def __init__(self, model: Any, settings: LexicalSettings) -> None:
        self._model = model
        self.settings = settings
        self._stemmer = _stemmer(settings.stemmer)

    @property
    def size(self) -> int:
        """Number of indexed passages."""
        return int(self._model.scores["num_docs"])

    def tokenize(self, text: str) -> list[str]:
        """The stemmed, stopword-free tokens of ``text`` as the index sees them."""
        return tokenize([text], self.settings, self._stemmer)[0]

    def document_frequency(self, tokens: Sequence[str]) -> np.ndarray:
        """How many passages contain each token (0 for a token the index never saw)."""
        vocab, indptr = self._model.vocab_dict, self._model.scores["indptr"]
        ids = [vocab.get(t) for t in tokens]
        return np.array([0 if i is None else int(indptr[i + 1] - indptr[i]) for i in ids],
                        dtype=np.int64)

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every passage for ``query`` (zeros when no query word is indexed)."""
        ids = self._model.get_tokens_ids(self.tokenize(query))
        if not ids:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._model.get_scores_from_ids(ids), dtype=np.float32)


def tokenize(texts: Sequence[str], settings: LexicalSettings,
             stemmer: Any | None = None) -> list[list[str]]:
    """Lower-case word tokens, Dutch stopwords removed, stemmed."""
    import bm25s

    stemmer = stemmer if stemmer is not None else _stemmer(settings.stemmer)
    return bm25s.tokenize(list(texts), stopwords=settings.stopwords, stemmer=stemmer,
                          return_ids=False, show_progress=False)


def build_lexical(passages: Sequence[str],
                  settings: LexicalSettings | None = None) -> LexicalIndex:
    """Index ``passages`` with BM25; row i of the scores is passage i."""
    bm25s = _import_bm25s()
    settings = settings or LexicalSettings()
    stemmer = _stemmer(settings.stemmer)
    model = bm25s.BM25(k1=settings.k1, b=settings.b, method="lucene")
    if not passages:
        raise IndexError_("BM25 needs at least one passage to index")
    model.index(tokenize(passages, settings, stemmer), show_progress=False)
    return LexicalIndex(model, settings)


def save_lexical(index: LexicalIndex, folder: Path) -> list[str]:
    """Write the index into ``folder``; returns the written file names relative to it."""
    folder.mkdir(parents=True, exist_ok=True)
    index._model.save(str(folder), show_progress=False)
    (folder / SETTINGS_FILE).write_text(json.dumps(asdict(index.settings), indent=2) + "\n",
                                        encoding="utf-8")
    return sorted(p.name for p in folder.iterdir() if p.is_file())


def save_into_generation(index: LexicalIndex, generation: Path) -> list[str]:
    """Write the index into ``generation/bm25``; returns paths relative to ``generation``."""
    return [f"{LEXICAL_DIR}/{name}" for name in save_lexical(index, generation / LEXICAL_DIR)]


def load_lexical(folder: Path, passages: int | None = None) -> LexicalIndex:
    """Load an index written by `save_lexical`, or raise `IndexError_` naming the fix.

    Every file is checked before use (`_check`), so a damaged index is refused here, in one
    line, rather than failing inside bm25s at the first question. ``passages`` is the number
    of passages the index must score (the chunks beside it); without it, the count in the
    generation's manifest when ``folder`` is a generation's ``bm25`` folder.
    """
    bm25s = _import_bm25s()
    try:
        raw = json.loads((folder / SETTINGS_FILE).read_text("utf-8"))
        if not isinstance(raw, dict):
            raise TypeError(f"{SETTINGS_FILE} is not an object")
        settings = LexicalSettings(**raw)
        model = bm25s.BM25.load(str(folder), show_progress=False)
        index = LexicalIndex(model, settings)
        _check(index, passages if passages is not None else _manifest_passages(folder))
    except (OSError, ValueError, TypeError, KeyError, AttributeError, IndexError) as exc:
        raise IndexError_(f"BM25 index in {folder} is damaged or unreadable ({exc}); "
                          f"rebuild it with: rag build --full --corpus DIR") from None
    return index


def _check(index: LexicalIndex, passages: int | None) -> None:
    """Raise ``ValueError`` unless the loaded files are the shape `save_lexical` writes."""
    settings, model = index.settings, index._model
    if not all(_is_number(v) for v in (settings.k1, settings.b)):
        raise ValueError(f"{SETTINGS_FILE}: k1 and b must be numbers")
    index.tokenize("controle")  # the stemmer and stopword list are ones the tokenizer knows
    for name in (model.dtype, model.int_dtype):
        np.dtype(name)  # bm25s makes its score arrays of these types at question time
    scores = model.scores
    num_docs = scores.get("num_docs")
    if type(num_docs) is not int or num_docs < 1:
        raise ValueError("params.index.json: num_docs must be a positive number")
    if passages is not None and num_docs != passages:
        raise ValueError(f"it scores {num_docs} passages, the index has {passages}")
    data, indices, indptr = scores["data"], scores["indices"], scores["indptr"]
    if not (data.ndim == indices.ndim == indptr.ndim == 1 and data.dtype.kind == "f"
            and indices.dtype.kind in "iu" and indptr.dtype.kind in "iu"
            and len(indptr) >= 1 and indptr[0] == 0 and np.all(np.diff(indptr) >= 0)
            and indptr[-1] == len(data) == len(indices) and np.all(np.isfinite(data))
            and (not len(indices) or (indices.min() >= 0 and indices.max() < num_docs))):
        raise ValueError("the score arrays do not fit together")
    vocab = model.vocab_dict
    if not isinstance(vocab, dict):
        raise ValueError("vocab.index.json is not an object")
    # bm25s stores the empty token last, past the score columns; it is never looked up.
    if not all(isinstance(token, str) and type(i) is int
               and 0 <= i < len(indptr) - (1 if token else 0) for token, i in vocab.items()):
        raise ValueError("vocab.index.json: a token id is not a score column")


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and \
        bool(np.isfinite(value))


def _manifest_passages(folder: Path) -> int | None:
    """The passage count of the generation ``folder`` belongs to (None outside one)."""
    manifest = folder.parent / "manifest.json"  # `rag.store.index.MANIFEST`
    if folder.name != LEXICAL_DIR or not manifest.is_file():
        return None
    count = json.loads(manifest.read_text(encoding="utf-8")).get("n_chunks")
    return count if type(count) is int else None


def _import_bm25s() -> Any:
    try:
        import bm25s
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise IndexError_(f"lexical retrieval needs bm25s: {_INSTALL_HINT}") from exc
    return bm25s


def _stemmer(name: str) -> Any:
    try:
        import Stemmer
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise IndexError_(f"Dutch stemming needs PyStemmer: {_INSTALL_HINT}") from exc
    return Stemmer.Stemmer(name)
