"""The real default model on the bundled sample: paraphrased questions find their vraag first."""

from __future__ import annotations

import pytest

from rag.answer import Searcher
from rag.build import build_index
from rag.config import Settings
from rag.embed import load_embedder
from rag.index import load_index
from tests.conftest import SAMPLE_DIR, SAMPLE_FILE

SOURCE = SAMPLE_FILE

# (question in our own words, the vraag whose answer holds the information)
PARAPHRASES = [
    ("Komt er een Nederlandse fabriek voor kunstmatige intelligentie, en wat kost dat?", 8),
    ("Wordt er een adviesorgaan voor AI opgericht en wat mag het gaan doen?", 11),
    ("Gebruiken kleine bedrijven AI minder vaak dan grote ondernemingen?", 4),
    ("Why are Dutch employers more hesitant about AI than employers in Poland or Germany?", 5),
    ("Kent de minister het krantenartikel over terughoudende werkgevers en AI?", 1),
]


@pytest.fixture(scope="module")
def searcher(tmp_path_factory: pytest.TempPathFactory) -> Searcher:
    settings = Settings(index_dir=tmp_path_factory.mktemp("e2e") / "index")
    embedder = load_embedder(settings.model)
    build_index(SAMPLE_DIR, settings, embedder)
    return Searcher(load_index(settings.index_dir, embedder.model_id), embedder)


@pytest.mark.slow
@pytest.mark.parametrize(("question", "vraag"), PARAPHRASES)
def test_paraphrase_finds_its_vraag_first(searcher: Searcher, question: str, vraag: int) -> None:
    answer = searcher.ask(question, k=3)
    top = answer.hits[0]
    assert top.chunk.vraag == (vraag,), [h.citation for h in answer.hits]
    assert top.citation == f"Aanhangsel Handelingen 2023–2024, nr. 2096, vraag {vraag}"
    # The stored answer is the source's words with only line breaks unwrapped.
    assert " ".join(top.chunk.answer.split()) in " ".join(SOURCE.read_text().split())
