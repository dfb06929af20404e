"""A question as typed, made searchable: normalised, or refused with a polite reason."""

from __future__ import annotations

import unicodedata

from rag.errors import QueryError

MAX_QUESTION_CHARS = 2000  # a Kamervraag is rarely longer; beyond this it is a paste accident


def clean_question(text: object) -> str:
    """Normalise a question, or raise `QueryError` with a polite reason."""
    if not isinstance(text, str):
        raise QueryError("the question must be text", "Stel een vraag in tekst.")
    text = unicodedata.normalize("NFC", text).strip()
    if not text:
        raise QueryError("the question is empty: type one, e.g. "
                         "'Wat zei de minister over AI in het mkb?'",
                         "De vraag is leeg: typ een vraag, bijvoorbeeld "
                         "'Wat zei de minister over AI in het mkb?'")
    if len(text) > MAX_QUESTION_CHARS:
        raise QueryError(f"the question is too long ({len(text)} characters); keep it under "
                         f"{MAX_QUESTION_CHARS}",
                         f"De vraag is te lang ({len(text)} tekens); houd het onder "
                         f"{MAX_QUESTION_CHARS} tekens.")
    controls = sum(1 for c in text if unicodedata.category(c) in ("Cc", "Cs", "Co", "Cn")
                   and c not in "\n\t\r")
    letters = sum(1 for c in text if c.isalnum())
    if controls or letters == 0:
        raise QueryError("the question holds no readable text",
                         "De vraag bevat geen leesbare tekst.")
    return " ".join(text.split())
