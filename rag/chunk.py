"""Blocks become chunks: one per vraag (or combined vragen), long answers split into parts.

A chunk keeps its vraag numbers whatever happens to its text, so every part of a long answer
still cites the right question. Chunk ids derive from document id, vraag numbers and part
only, so a citation survives a rebuild.
"""

from __future__ import annotations

import re

from rag.dutch import sentence_spans
from rag.types import Chunk, ChunkSettings, Document, QABlock


def chunk_id(doc_id: str, vraag: tuple[int, ...], part: int, n_parts: int) -> str:
    """Stable id such as ``ah-tk-20232024-2096#v4-5`` or ``…#v3/p2``."""
    base = f"{doc_id}#v{'-'.join(str(n) for n in vraag)}"
    return base if n_parts == 1 else f"{base}/p{part}"


def chunk_document(doc: Document, settings: ChunkSettings) -> list[Chunk]:
    """All chunks of a document, in block order."""
    return [chunk for block in doc.blocks for chunk in chunk_block(doc.doc_id, block, settings)]


def chunk_block(doc_id: str, block: QABlock, settings: ChunkSettings) -> list[Chunk]:
    """One chunk for the block, or several when question context plus answer is too long."""
    question_words = min(_count_words(block.question), settings.max_question_words)
    budget = max(settings.max_words - question_words, settings.max_words // 3)
    parts = split_answer(block.answer, budget)
    return [
        Chunk(
            chunk_id=chunk_id(doc_id, block.vraag, i, len(parts)),
            doc_id=doc_id,
            vraag=block.vraag,
            part=i,
            n_parts=len(parts),
            question=block.question,
            answer=text,
        )
        for i, text in enumerate(parts, start=1)
    ]


def split_answer(answer: str, max_words: int) -> list[str]:
    """Split at sentence or paragraph ends into verbatim pieces of at most ``max_words`` words.

    Each piece is an exact substring of ``answer`` (no re-joining with other whitespace), so
    quotes taken from a piece are quotes from the source. A single sentence longer than the
    budget is cut at word boundaries.
    """
    if _count_words(answer) <= max_words:
        return [answer]
    spans = _sentence_spans(answer, max_words)
    pieces: list[tuple[int, int]] = []
    start, end, words = spans[0][0], spans[0][1], _count_words(answer[spans[0][0] : spans[0][1]])
    for s, e in spans[1:]:
        n = _count_words(answer[s:e])
        if words + n > max_words:
            pieces.append((start, end))
            start, words = s, 0
        end, words = e, words + n
    pieces.append((start, end))
    return [answer[s:e] for s, e in pieces]


def _sentence_spans(text: str, max_words: int) -> list[tuple[int, int]]:
    """(start, end) of each sentence (the quotes' sentences too), over-long ones cut into
    word runs."""
    return [run for start, end in sentence_spans(text)
            for run in _word_runs(text, start, end, max_words)]


def _word_runs(text: str, start: int, end: int, max_words: int) -> list[tuple[int, int]]:
    words = list(re.finditer(r"\S+", text[start:end]))
    return [
        (start + words[i].start(), start + words[min(i + max_words, len(words)) - 1].end())
        for i in range(0, len(words), max_words)
    ]


def _count_words(text: str) -> int:
    return len(text.split())
