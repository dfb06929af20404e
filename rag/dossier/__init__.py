"""The dossier for a new set of Kamervragen: every vraag with what the government said before.

A set arrives (a Word file or PDF, 5–15 numbered vragen with an introduction); the ministry
answers within three weeks, consistent with earlier answers, and where the position changed
the most recent one counts. The stages, one module each:

- `questions`: a file or pasted text -> a :class:`~rag.types.QuestionSet` (vragen as the
  parser splits them, the subject and context each vraag is searched with);
- `text`: question texts compared robustly (kv- and ah-versions differ in glued words,
  hyphenation and quotes), procedural vragen recognised;
- `align`: the set's own answer when the index already holds it (zaak number, Aanhangsel
  number or the question texts), per vraag;
- `query`: how a vraag is searched with the set's context;
- `standing`: per vraag the relevant earlier answers, newest first, with cabinet, flags and
  near-identical earlier questions -> a :class:`~rag.types.Dossier`;
- `export` (JSON, Markdown, text) and `word` (DOCX): the concept answer document;
- `desk`: what the chat's "Nieuwe Kamervragen" tab asks for.
"""
