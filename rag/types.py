"""Every noun of the pipeline, from a parsed document to an answer (imports nothing of the project).

Reading order follows the pipeline: a file becomes a :class:`Document` of numbered
:class:`QABlock` s with its :class:`DocumentMeta`; blocks become :class:`Chunk` s (the unit
that is embedded and retrieved); the index keeps a :class:`DocRecord` per document; a search
returns an :class:`Answer` of :class:`Hit` s, each quoted as a :class:`Quote`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from enum import StrEnum

UnitKey = tuple[str, tuple[int, ...]]  # (doc_id, vraag numbers): one numbered answer
# A hit's relevance label from its calibrated probability of answering the question: the
# lower bound of each band (checked on held-out questions, see eval/README.md).
RELEVANCE_BANDS = (("hoog", 0.6), ("redelijk", 0.2), ("laag", 0.0))


def relevance_band(probability: float) -> str:
    """``hoog``, ``redelijk`` or ``laag`` for a probability that a hit answers."""
    return next(label for label, low in RELEVANCE_BANDS if probability >= low)


class Language(StrEnum):
    """The languages the searcher tells apart (`rag.search.language`)."""

    NL = "nl"
    EN = "en"


class DocKind(StrEnum):
    """What a parsed file turned out to be; only ANSWERS documents are indexed."""

    ANSWERS = "antwoord"  # an Aanhangsel document with answers
    QUESTIONS = "vragen"  # questions as submitted, no answers yet
    NOTICE = "mededeling"  # a postponement notice ("Mededeling ... uitstel")
    UNKNOWN = "onbekend"  # no recognisable question/answer structure


@dataclass(frozen=True)
class Answerer:
    """One member of the government who answered: ``minister`` Van Hijum of ``Sociale Zaken
    en Werkgelegenheid``. Read once, at ingest (`rag.ingest.people`)."""

    role: str  # "minister", "staatssecretaris", "minister-president"
    name: str  # as written: "Van Hijum"; "" when the text names only the office
    ministry: str  # the portfolio in brackets, without a sub-portfolio after a dash


@dataclass(frozen=True)
class DocumentMeta:
    """Whatever metadata the text gives; every field is optional because sources vary.

    Dates are ISO strings (``2024-09-02``); ``vergaderjaar`` uses an en dash (``2023–2024``)
    as the official citation does.
    """

    title: str | None = None  # "Antwoord op vragen van het lid X over <subject>"
    vergaderjaar: str | None = None
    ah_nr: int | None = None
    zaak_nr: str | None = None
    asked_by: str | None = None  # e.g. "de leden Aartsen en Rajkowski (VVD)"
    asked_to: str | None = None  # e.g. "de Minister voor Sociale Zaken en Werkgelegenheid"
    answered_by: str | None = None  # e.g. "Minister Van Hijum (Sociale Zaken en Werkgelegenheid)"
    date_submitted: str | None = None
    date_received: str | None = None
    subject: str | None = None  # the "over ..." part: "de huiverigheid van werkgevers om ..."
    # structured forms of the people above, for citations and filters (`rag.ingest.people`)
    askers: tuple[str, ...] = ()  # surnames as written: ("Aartsen", "Rajkowski")
    parties: tuple[str, ...] = ()  # as written: ("VVD",), ("GroenLinks-PvdA", "D66")
    answerers: tuple[Answerer, ...] = ()  # who signed the answer, "mede namens" not included
    ministries: tuple[str, ...] = ()  # answering, co-answering ("mede namens"), then asked
    # from a fetched file's sidecar (`rag.ingest.sidecar`): the official page, the TK id
    official_url: str | None = None  # "https://zoek.officielebekendmakingen.nl/ah-….html"
    tk_document_id: str | None = None  # the Tweede Kamer open-data Document Id (a GUID)

    def __post_init__(self) -> None:
        # JSON gives lists and objects back; tuples and Answerers keep the record hashable
        # and comparable after a reload.
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, list):
                object.__setattr__(self, f.name, tuple(value))
        if any(isinstance(a, dict) for a in self.answerers):
            object.__setattr__(self, "answerers", tuple(
                Answerer(**a) if isinstance(a, dict) else a for a in self.answerers))


@dataclass(frozen=True)
class QABlock:
    """One numbered Vraag with its Antwoord; a combined answer carries several numbers.

    ``question`` and ``answer`` are the cleaned text as stored in the index: quotes are
    verbatim substrings of them.
    """

    vraag: tuple[int, ...]
    question: str
    answer: str


@dataclass(frozen=True)
class Document:
    """One parsed file: its id (the file stem), kind, metadata and blocks."""

    doc_id: str
    source: str  # path relative to the corpus folder, in `rag.names.printable` form
    kind: DocKind
    meta: DocumentMeta
    blocks: tuple[QABlock, ...] = ()
    anomalies: tuple[str, ...] = field(default=())  # e.g. "gap in numbering: 3 -> 5"
    damaged: str | None = None  # read only in part (a damaged PDF): what is missing


@dataclass(frozen=True)
class Extracted:
    """The text a reader got out of a file, before parsing."""

    text: str
    damage: str | None = None  # read only in part: what is missing
    note: str | None = None  # worth reporting, e.g. "not UTF-8: decoded as cp1252"


@dataclass(frozen=True)
class Skipped:
    """A file that is not in the index (or only in part), with the reason a user can act on."""

    source: str
    reason: str


@dataclass(frozen=True)
class ChunkSettings:
    """How blocks become chunks; recorded in the index manifest because vectors depend on it.

    Word budgets stand in for the model's 512-token limit: Dutch text runs at roughly 1.5
    XLM-R tokens per word, so 300 words stay safely under it with the prompt prefix.
    """

    max_words: int = 300  # question context + answer, per chunk
    max_question_words: int = 80  # the question is cut to this as context for long answers


@dataclass(frozen=True)
class Chunk:
    """The unit that is embedded, retrieved and quoted.

    ``answer`` is a verbatim substring of the block's stored answer; ``question`` is the
    whole question it answers (context for the reader and, cut, for the embedding).
    """

    chunk_id: str
    doc_id: str
    vraag: tuple[int, ...]
    part: int  # 1-based
    n_parts: int
    question: str
    answer: str

    @property
    def unit(self) -> UnitKey:
        """The numbered answer this chunk belongs to."""
        return (self.doc_id, self.vraag)

    def passage(self, settings: ChunkSettings) -> str:
        """The text that is embedded: the question (cut) as context, then the answer part."""
        words = self.question.split()
        question = (self.question if len(words) <= settings.max_question_words
                    else " ".join(words[: settings.max_question_words]) + " …")
        return f"Vraag: {question}\nAntwoord: {self.answer}"


@dataclass(frozen=True)
class DocRecord:
    """What the index keeps of a document: enough to cite and filter it."""

    doc_id: str
    source: str
    meta: DocumentMeta


@dataclass(frozen=True)
class Hit:
    """One retrieved numbered answer: its best-scoring chunk, all its parts, and its document.

    The score is the retriever's own (cosine for dense, BM25 for lexical, the fused score
    for hybrid) and ranks hits within one answer only; ``relevance`` is the calibrated
    probability that this answer is what was asked for, comparable across questions (None
    when the model has no calibration).
    """

    rank: int  # 1-based
    score: float
    chunk: Chunk  # the best-scoring part: what is quoted
    doc: DocRecord
    parts: tuple[Chunk, ...] = ()  # every part of the answer, in order (empty: the chunk alone)
    relevance: float | None = None

    @property
    def whole_answer(self) -> str:
        """The complete answer: all its parts in order, or the chunk's own text."""
        if len(self.parts) <= 1:
            return self.chunk.answer
        return "\n\n".join(part.answer for part in self.parts)


@dataclass(frozen=True)
class Answer:
    """The question as searched and its hits, best first.

    ``abstained`` is true when even the best hit is not relevant enough: the honest reply is
    then "no earlier answer found", not weak passages (the hits are kept for tools that want
    them). ``confidence`` is the signal that decided it: the probability that the top hit
    answers (with a relevance model), else the best dense cosine. ``filtered`` tells
    whether filters narrowed the search, ``language`` what the question was read as.
    """

    question: str
    hits: tuple[Hit, ...]
    abstained: bool = False
    confidence: float | None = None
    filtered: bool = False
    language: Language = Language.NL


@dataclass(frozen=True)
class Quote:
    """Verbatim pieces of an answer, in order; ``cut_*`` say whether text was left out there."""

    pieces: tuple[str, ...]
    cut_start: bool = False
    cut_end: bool = False

    @property
    def text(self) -> str:
        """The quote as shown: pieces joined by " … ", with a leading/trailing "…" when cut."""
        body = " … ".join(self.pieces)
        return f"{'… ' if self.cut_start else ''}{body}{' …' if self.cut_end else ''}"


# -- the dossier: a new set of Kamervragen with the earlier answers to each vraag ----------


@dataclass(frozen=True)
class Vraag:
    """One vraag of a new question set, as the parser split it (combined vragen keep all
    their numbers); ``procedural`` marks a vraag with no standing line to look up: a request
    about the answering itself ("Kunt u deze vragen afzonderlijk beantwoorden?") or one that
    only asks whether the minister knows the news item or how they react to it ("Bent u
    bekend met het bericht …?"), whose earlier "answers" are "Ja."."""

    numbers: tuple[int, ...]
    text: str
    procedural: bool = False


@dataclass(frozen=True)
class QuestionSet:
    """A new set of Kamervragen: what the dossier is made for.

    ``subject`` is the onderwerp ("het bericht «…»"), ``context`` what every vraag is
    searched with besides its own text (the subject and the news item the set refers to).
    """

    doc_id: str
    source: str  # the file name as given, "stdin" for pasted text
    meta: DocumentMeta
    subject: str
    context: str
    vragen: tuple[Vraag, ...]


@dataclass(frozen=True)
class OwnAnswer:
    """The answer to this very vraag, already in the index ("dit is het antwoord op deze
    vraag"); ``matched`` says how the set was recognised: ``zaak``, ``aanhangsel``,
    ``tekst`` (the question texts) or ``resultaat`` (the chat result the set was made from)."""

    doc: DocRecord
    vraag: tuple[int, ...]
    matched: str
    similarity: float  # of the question texts, 0–1


@dataclass(frozen=True)
class EarlierAnswer:
    """One answer on a vraag's standing line (staande lijn), with what staff weigh it by."""

    hit: Hit
    cabinet: str | None  # "Rutte IV": the cabinet in office on the date received
    top: bool  # the best-ranked answer of the vraag
    newer_than_top: bool  # received after the best-ranked answer ("recenter antwoord")
    near_duplicate: float | None  # similarity of the questions when near-identical, else None


@dataclass(frozen=True)
class NearDuplicate:
    """An earlier question near-identical to the vraag (the same question asked before)."""

    doc: DocRecord
    vraag: tuple[int, ...]
    question: str
    similarity: float


@dataclass(frozen=True)
class VraagDossier:
    """One vraag with its own answer (if any), its standing line newest first, and apart from
    it the passages of documents on the set's subject that the relevance model does not call
    an answer to this vraag (``on_subject``, newest first: for staff to judge)."""

    vraag: Vraag
    own_answer: OwnAnswer | None
    earlier: tuple[EarlierAnswer, ...]  # newest first (date received; undated last)
    near_duplicates: tuple[NearDuplicate, ...]
    searched: Answer  # the search as made, before the relevance cut (for tools and tests)
    on_subject: tuple[EarlierAnswer, ...] = ()


@dataclass(frozen=True)
class Dossier:
    """A question set with, per vraag, what the government said before."""

    questions: QuestionSet
    vragen: tuple[VraagDossier, ...]
