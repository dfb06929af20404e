from __future__ import annotations

from rag.chunk import chunk_block, chunk_document, chunk_id, split_answer
from rag.config import ChunkSettings
from rag.types import DocKind, Document, DocumentMeta, QABlock


def _doc(*blocks: QABlock) -> Document:
    return Document("ah-tk-20232024-1", "x.txt", DocKind.ANSWERS, DocumentMeta(), blocks)


def test_one_chunk_per_block_with_its_numbers() -> None:
    doc = _doc(QABlock((1,), "Vraag een?", "Ja."), QABlock((2, 3), "Twee? Drie?", "Nee."))
    chunks = chunk_document(doc, ChunkSettings())
    assert [c.chunk_id for c in chunks] == ["ah-tk-20232024-1#v1", "ah-tk-20232024-1#v2-3"]
    assert chunks[1].vraag == (2, 3)
    assert chunks[1].question == "Twee? Drie?"
    assert chunks[1].passage(ChunkSettings()) == "Vraag: Twee? Drie?\nAntwoord: Nee."


def test_long_answer_is_split_into_verbatim_parts_keeping_the_vraag() -> None:
    sentences = [f"Zin nummer {i} gaat over beleid en uitvoering." for i in range(120)]
    answer = " ".join(sentences[:60]) + "\n\n" + " ".join(sentences[60:])
    settings = ChunkSettings(max_words=200, max_question_words=20)
    chunks = chunk_block("doc", QABlock((7,), "Wat is het beleid?", answer), settings)
    assert len(chunks) > 1
    assert all(c.vraag == (7,) and c.n_parts == len(chunks) for c in chunks)
    assert [c.part for c in chunks] == list(range(1, len(chunks) + 1))
    assert chunks[1].chunk_id == "doc#v7/p2"
    for c in chunks:
        assert c.answer in answer
        assert len(c.answer.split()) <= 200 - 4
        assert c.answer.startswith("Zin nummer") and c.answer.endswith(".")
    # Nothing lost: the parts cover every sentence in order.
    assert " ".join(" ".join(c.answer.split()) for c in chunks) == " ".join(answer.split())


def test_overlong_sentence_is_cut_at_words() -> None:
    answer = " ".join(f"woord{i}" for i in range(250))
    parts = split_answer(answer, 100)
    assert [len(p.split()) for p in parts] == [100, 100, 50]
    assert all(p in answer for p in parts)


def test_chunk_ids_are_stable() -> None:
    assert chunk_id("d", (4, 5), 1, 1) == "d#v4-5"
    assert chunk_id("d", (3,), 2, 3) == "d#v3/p2"
    doc = _doc(QABlock((1,), "V?", "A."))
    assert chunk_document(doc, ChunkSettings()) == chunk_document(doc, ChunkSettings())
