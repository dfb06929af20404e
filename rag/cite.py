"""Citations and quotes: pure functions with exact, tested output."""

from __future__ import annotations

from rag.types import DocumentMeta


def vraag_label(vraag: tuple[int, ...]) -> str:
    """``vraag 3``, ``vragen 4 en 5``, ``vragen 1, 2 en 3``."""
    if len(vraag) == 1:
        return f"vraag {vraag[0]}"
    numbers = [str(n) for n in vraag]
    return f"vragen {', '.join(numbers[:-1])} en {numbers[-1]}"


def document_citation(doc_id: str, meta: DocumentMeta) -> str:
    """``Aanhangsel Handelingen 2023–2024, nr. 2096``, or the document id when unknown."""
    if meta.vergaderjaar and meta.ah_nr is not None:
        return f"Aanhangsel Handelingen {meta.vergaderjaar}, nr. {meta.ah_nr}"
    return doc_id


def citation(doc_id: str, meta: DocumentMeta, vraag: tuple[int, ...]) -> str:
    """``Aanhangsel Handelingen 2023–2024, nr. 2096, vraag 3``: the short form for lists."""
    return f"{document_citation(doc_id, meta)}, {vraag_label(vraag)}"
