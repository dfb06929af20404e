"""The dossier: question sets, own-answer alignment, the standing line, cabinets, the cut.

Over the small corpus of `tests.dossier_data` (one subject answered under Rutte III, Rutte
IV and Schoof, the set's own answer, an unrelated answer), with the hashing embedder.
"""

from __future__ import annotations

from datetime import date, timedelta
from itertools import pairwise
from pathlib import Path

import pytest

from rag.dossier.align import Library, own_answers
from rag.dossier.query import ContextMode, combine, with_context
from rag.dossier.questions import (
    DossierError,
    question_set_from_text,
    read_question_set,
)
from rag.dossier.standing import (
    RELEVANCE_CUT,
    DossierMaker,
    SubjectCut,
    on_subject_hits,
    relevant,
    standing_line,
    subject_documents,
    subject_scores,
)
from rag.dossier.text import (
    is_acknowledgement,
    is_content_free,
    is_formal,
    is_procedural,
    similarity,
)
from rag.errors import ParseError
from rag.government import CABINETS, cabinet_on
from rag.models.embed import HashingEmbedder
from rag.search.searcher import Searcher
from rag.store.index import load_index
from rag.types import Answer, Chunk, DocRecord, DocumentMeta, Dossier, Hit
from tests.dossier_data import (
    EARLIER,
    KV_ID,
    KV_SET,
    ORAL_QUESTION,
    OWN,
    OWN_ID,
    UNNUMBERED_SET,
    ZAAK,
    build_dossier_index,
)
from tests.test_app import HASH_MIN_SCORE


@pytest.fixture(scope="module")
def searcher(tmp_path_factory: pytest.TempPathFactory) -> Searcher:
    embedder = HashingEmbedder(256)
    index = load_index(build_dossier_index(tmp_path_factory.mktemp("dossier")),
                       embedder.model_id)
    return Searcher(index, embedder, HASH_MIN_SCORE)


@pytest.fixture(scope="module")
def dossier(searcher: Searcher) -> Dossier:
    return DossierMaker(searcher).make(question_set_from_text(KV_SET, f"{KV_ID}.txt"), k=5)


# -- cabinets -------------------------------------------------------------------------------


def test_cabinet_names_right_at_every_change() -> None:
    for (before, _), (after, sworn_in) in pairwise(CABINETS):
        day = date.fromisoformat(sworn_in)
        assert cabinet_on((day - timedelta(days=1)).isoformat()) == before, sworn_in
        assert cabinet_on(sworn_in) == after
        assert cabinet_on((day + timedelta(days=1)).isoformat()) == after


# The day each cabinet was sworn in, written down independently of `CABINETS` and checked
# against public sources: rijksoverheid.nl "Kabinetten sinds 1945" (Kok I 22 Aug 1994 – 3 Aug
# 1998; Balkenende I 22 Jul 2002 – 27 May 2003; Balkenende II 27 May 2003 – 7 Jul 2006;
# Balkenende IV 22 Feb 2007 – 14 Oct 2010; Rutte IV sworn in 10 Jan 2022; Jetten sworn in
# Monday 23 Feb 2026) and parlement.com (Rutte II 5 Nov 2012 – 26 Oct 2017; Rutte III took
# office 26 Oct 2017; Schoof took office 2 Jul 2024).
SWORN_IN = [
    ("Kok I", "1994-08-22"), ("Kok II", "1998-08-03"), ("Balkenende I", "2002-07-22"),
    ("Balkenende II", "2003-05-27"), ("Balkenende III", "2006-07-07"),
    ("Balkenende IV", "2007-02-22"), ("Rutte I", "2010-10-14"), ("Rutte II", "2012-11-05"),
    ("Rutte III", "2017-10-26"), ("Rutte IV", "2022-01-10"), ("Schoof", "2024-07-02"),
    ("Jetten", "2026-02-23"),
]


@pytest.mark.parametrize(("before", "cabinet", "sworn_in"), [
    (before[0] if before else None, cabinet, day)
    for before, (cabinet, day) in zip([None, *SWORN_IN], SWORN_IN, strict=False)])
def test_cabinet_on_the_public_swearing_in_dates(before: str | None, cabinet: str,
                                                 sworn_in: str) -> None:
    day = date.fromisoformat(sworn_in)
    assert cabinet_on((day - timedelta(days=1)).isoformat()) == before
    assert cabinet_on(sworn_in) == cabinet
    assert cabinet_on((day + timedelta(days=30)).isoformat()) == cabinet


@pytest.mark.parametrize(("day", "cabinet"), [
    ("2007-02-21", "Balkenende III"), ("2007-02-22", "Balkenende IV"),
    ("2010-10-13", "Balkenende IV"), ("2010-10-14", "Rutte I"),
    ("2012-11-04", "Rutte I"), ("2012-11-05", "Rutte II"),
    ("2017-10-25", "Rutte II"), ("2017-10-26", "Rutte III"),
    ("2022-01-09", "Rutte III"), ("2022-01-10", "Rutte IV"),
    # Rutte IV fell on 7 July 2023 and stayed in office, demissionair, until Schoof
    ("2023-07-08", "Rutte IV"), ("2024-07-01", "Rutte IV"), ("2024-07-02", "Schoof"),
    ("2026-02-22", "Schoof"), ("2026-02-23", "Jetten"),
    ("1994-08-21", None), (None, None), ("2024-13-01x", None), ("2 juli 2024", None),
])
def test_cabinet_on_known_dates(day: str | None, cabinet: str | None) -> None:
    assert cabinet_on(day) == cabinet


# -- question sets ----------------------------------------------------------------------------


def test_a_kv_set_gives_its_vragen_subject_and_context() -> None:
    qset = question_set_from_text(KV_SET, f"{KV_ID}.txt")
    assert [v.numbers for v in qset.vragen] == [(1,), (2,), (3,), (4,)]
    assert qset.meta.zaak_nr == ZAAK
    assert qset.subject == "de start van de AI-adviesraad"
    assert "Adviesraad voor AI laat op zichwachten" in qset.context  # the news item
    # vraag 1 only asks whether the minister knows the news item: no standing line either
    assert [v.procedural for v in qset.vragen] == [True, False, False, True]


def test_a_footnote_mark_in_the_news_title_stays_out_of_the_context() -> None:
    text = KV_SET.replace("«Adviesraad voor AI laat op zichwachten»",
                          "«Adviesraad voor AI laat op zichwachten 1»")
    qset = question_set_from_text(text, f"{KV_ID}.txt")
    assert qset.context.endswith("Adviesraad voor AI laat op zichwachten")


def test_unnumbered_question_paragraphs_become_vragen() -> None:
    qset = question_set_from_text(UNNUMBERED_SET, "vragen.txt")
    assert [v.text for v in qset.vragen] == [
        "Wanneer wordt de adviesraad voor kunstmatige intelligentie ingesteld?",
        "Hoeveel kost de inzet van algoritmen bij de overheid?",
        "Kunt u deze vragen afzonderlijk beantwoorden?"]
    assert qset.subject == "de AI-adviesraad"


@pytest.mark.parametrize(("text", "message"), [
    (OWN, "this is an answer document (Aanhangsel Handelingen 2024–2025, nr. 3001)"),
    (ORAL_QUESTION, "no vragen found"),
    ("Mededeling van de minister: de beantwoording van de vragen van het lid Dekker "
     "(2024Z99999) wordt uitgesteld.\nMededeling\n", "postponement notice"),
    ("Een gewone tekst zonder enige vraag.\n", "no vragen found"),
])
def test_what_is_no_question_set_is_refused_with_one_message(text: str, message: str) -> None:
    with pytest.raises(DossierError) as refused:
        question_set_from_text(text, "x.txt")
    assert message in str(refused.value) and "\n" not in str(refused.value)


def test_binary_and_huge_files_are_refused_unread(tmp_path: Path) -> None:
    binary = tmp_path / "vragen.pdf"
    binary.write_bytes(b"\x00\x01\x02 not a pdf" * 100)
    with pytest.raises(ParseError):
        read_question_set(binary)
    huge = tmp_path / "vragen.txt"
    with huge.open("wb") as fh:  # sparse: 26 MiB without writing them
        fh.truncate(26 * 2**20)
    with pytest.raises(ParseError, match="too large"):
        read_question_set(huge)


# -- text -------------------------------------------------------------------------------------


def test_kv_and_ah_versions_of_a_question_are_alike() -> None:
    ah = "Kunt u bevestigen dat er uitgebreid gesproken is over de ontwikkelingshulp?"
    kv = "Kunt u bevestigen dat er uitgebreidgesproken is over de ontwikkelings-\nhulp?"
    assert similarity(kv, ah) == 1.0
    assert similarity(kv, f"Een heel andere vraag?\n\n{ah}") == 1.0  # a part of a combined block
    assert similarity("Hoeveel kost de brug?", ah) < 0.3


@pytest.mark.parametrize(("text", "procedural"), [
    ("Kunt u deze vragen afzonderlijk beantwoorden?", True),
    ("Kunt u deze vragen één voor één en binnen drie weken beant-woorden?", True),
    ("Zou u ieder van deze vragen afzonderlijk kunnen beantwoorden voor het notaoverleg?", True),
    ("Kunt u de bovenstaande vragen afzonderlijk beantwoorden?", True),
    ("Welke vragen van burgers heeft de Belastingdienst vorig jaar beantwoord?", False),
    ("Komt er een adviesraad voor kunstmatige intelligentie?", False),
])
def test_procedural_vragen(text: str, procedural: bool) -> None:
    assert is_procedural(text) is procedural


# The forms in which sets ask only after the source, as the real kv- and ah-documents write
# them (words of our own; footnote marks, a question mark inside the title, "2 3" marks).
@pytest.mark.parametrize(("text", "acknowledgement"), [
    ("Bent u bekend met het bovenstaande artikel?1", True),
    ("Wat is uw reactie op dit bericht?", True),
    ("Heeft u kennisgenomen van de uitzending van Pointer «Te groot wonen» op donderdag "
     "24 oktober 2024?", True),
    ("Bent u bekend met het bericht «De politie bewaart alles» (Follow the Money, "
     "16 oktober)?", True),
    ("Kent u het bericht «Stalvloer werkt niet»?", True),
    ("Bent u bekend met het bericht «Kwam hij om bij zijn werk? Nee, zegt de stichting»?",
     True),
    ("Wat is uw reactie op het bericht: «Prijzen aanvullende polis stijgen»? 2 3", True),
    ("Bent u op de hoogte van het milieuverslag van het chemiepark?", True),
    ("Bent u bekend met de wachttijden tot 70 weken voor een aansluiting? Wat is de omvang "
     "van dit probleem?", False),
    ("Bent u bekend met het gegeven dat het aantal diagnoses stijgt en welke verklaring "
     "heeft het kabinet hiervoor?", False),
    ("Kunt u reageren op de in het artikel beschreven incidenten?", False),
    ("Hoe reageert u op de oproep om meer regie en met welke concrete acties ondersteunt u "
     "dit?", False),
    ("Bent u bereid om onderzoek te doen naar het effect van telefoonvrije lessen?", False),
    ("Wat is uw reactie op de forse kritiek van de VN op Nederland op dit punt?", False),
])
def test_acknowledgement_vragen_are_formal(text: str, acknowledgement: bool) -> None:
    assert is_acknowledgement(text) is acknowledgement
    assert is_formal(text) is acknowledgement


@pytest.mark.parametrize(("answer", "content_free"), [
    ("Ja.", True), ("Ja", True), ("Nee.", True), ("Ja, ik ben bekend met dit artikel.", True),
    ("Daar ben ik mee bekend.", True), ("Ja, van deze berichten heb ik kennisgenomen.", True),
    ("Ja, hier ben ik mee bekend.", True),
    ("Ja, dat klopt.", False), ("Ja. Het kabinet deelt de zorgen van de werkgevers.", False),
    ("Zie het antwoord op vraag 2.", False), ("", False),
])
def test_content_free_answers(answer: str, content_free: bool) -> None:
    assert is_content_free(answer) is content_free


def test_acknowledgements_and_bare_yes_stay_off_the_standing_line(searcher: Searcher) -> None:
    made = DossierMaker(searcher).make(question_set_from_text(KV_SET, f"{KV_ID}.txt"))
    first = made.vragen[0]  # "Bent u bekend met het bericht «…»?"
    assert first.vraag.procedural and first.earlier == () and first.searched.hits == ()
    for section in made.vragen:
        assert all(not is_content_free(e.hit.whole_answer)
                   for e in (*section.earlier, *section.on_subject))


# -- own answer -------------------------------------------------------------------------------


def test_own_answer_per_vraag_by_zaak_number(dossier: Dossier) -> None:
    own = [v.own_answer for v in dossier.vragen]
    assert all(o is not None and o.doc.doc_id == OWN_ID and o.matched == "zaak" for o in own)
    assert [o.vraag for o in own if o] == [(1,), (2,), (3,), (4,)]


def test_own_answer_by_question_texts_alone(searcher: Searcher) -> None:
    text = KV_SET.replace(ZAAK, "")  # no identifier left: the texts must do
    qset = question_set_from_text(text, "vragen.txt")
    assert qset.meta.zaak_nr is None
    made = DossierMaker(searcher).make(qset)
    assert [(v.own_answer.doc.doc_id, v.own_answer.vraag, v.own_answer.matched)
            for v in made.vragen if v.own_answer] == [
        (OWN_ID, (n,), "tekst") for n in (1, 2, 3, 4)]


def test_a_combined_answer_is_the_own_answer_of_each_of_its_vragen() -> None:
    library = Library({OWN_ID: DocRecord(OWN_ID, "x", DocumentMeta())}, [
        Chunk("c", OWN_ID, (2, 3), 1, 1,
              "Wanneer start de adviesraad voor kunstmatige intelligentie precies?\n\n"
              "Komt er een adviesraad voor kunstmatige intelligentie?", "Begin 2025.")])
    qset = question_set_from_text(KV_SET.replace(ZAAK, ""), "vragen.txt")
    own = own_answers(qset, library, [OWN_ID])
    # vragen 2 and 3 (positions 1, 2) share the combined answer; 1 and 4 are not in it
    assert {i: o.vraag for i, o in own.items()} == {1: (2, 3), 2: (2, 3)}


def test_a_different_set_on_the_same_subject_is_no_own_answer(searcher: Searcher) -> None:
    # one vraag of four appears in an earlier set: a near-duplicate, not the set's answer
    qset = question_set_from_text(KV_SET.replace(ZAAK, ""), "vragen.txt")
    library = Library({k: v for k, v in searcher.index.documents.items() if k != OWN_ID},
                      [c for c in searcher.index.chunks if c.doc_id != OWN_ID])
    assert own_answers(qset, library, list(EARLIER)) == {}


# -- the standing line ------------------------------------------------------------------------


def test_the_own_answer_is_never_among_the_hits(dossier: Dossier) -> None:
    for section in dossier.vragen:
        assert all(e.hit.doc.doc_id != OWN_ID for e in section.earlier)
        assert all(h.doc.doc_id != OWN_ID for h in section.searched.hits)
        assert all(d.doc.doc_id != OWN_ID for d in section.near_duplicates)


def test_every_group_is_newest_first_with_cabinets(dossier: Dossier) -> None:
    seen = 0
    for section in dossier.vragen:
        dates = [e.hit.doc.meta.date_received for e in section.earlier]
        assert dates == sorted(dates, reverse=True)
        for e in section.earlier:
            assert e.cabinet == cabinet_on(e.hit.doc.meta.date_received)
        seen += len(dates)
    assert seen >= 3
    third = dossier.vragen[2]  # "Komt er een adviesraad …?": all three earlier answers
    assert [e.cabinet for e in third.earlier] == ["Schoof", "Rutte IV", "Rutte III"]


def test_newer_than_top_flags_the_answers_after_the_best_one(dossier: Dossier) -> None:
    flagged = 0
    for section in dossier.vragen:
        tops = [e for e in section.earlier if e.top]
        assert len(tops) == (1 if section.earlier else 0)
        for e in section.earlier:
            newer = e.hit.doc.meta.date_received > tops[0].hit.doc.meta.date_received
            assert e.newer_than_top is newer
            flagged += newer
    assert flagged  # the fixture's best match for vraag 3 is the oldest answer


def test_near_identical_earlier_question_is_marked_with_its_date(dossier: Dossier) -> None:
    third = dossier.vragen[2]
    assert [(d.doc.doc_id, d.vraag) for d in third.near_duplicates] == [
        ("ah-tk-20212022-1002", (1,))]
    assert third.near_duplicates[0].doc.meta.date_received == "2022-01-09"
    assert [e.near_duplicate is not None for e in third.earlier] == [False, False, True]
    assert not dossier.vragen[1].near_duplicates


def test_procedural_vragen_get_no_standing_line(dossier: Dossier) -> None:
    fourth = dossier.vragen[3]
    assert fourth.vraag.procedural and fourth.earlier == () and fourth.searched.hits == ()


def test_unrelated_answers_stay_out(dossier: Dossier) -> None:
    assert all(e.hit.doc.doc_id != "ah-tk-20232024-1500"
               for s in dossier.vragen for e in s.earlier)


# -- the relevance cut and the ranking -------------------------------------------------------


def _hit(rank: int, score: float, doc_id: str = "d", vraag: int = 1,
         relevance: float | None = None, received: str | None = None,
         answer: str = "Antwoord.") -> Hit:
    chunk = Chunk(f"{doc_id}-{vraag}", doc_id, (vraag,), 1, 1, "Vraag?", answer)
    return Hit(rank, score, chunk, DocRecord(doc_id, f"{doc_id}.txt",
                                             DocumentMeta(date_received=received)),
               relevance=relevance)


def test_the_cut_uses_the_calibrated_relevance_when_there_is_one() -> None:
    assert RELEVANCE_CUT == 0.2  # the lower bound of "redelijk"
    hits = (_hit(1, 1.0, vraag=1, relevance=0.9), _hit(2, 0.9, vraag=2, relevance=0.19),
            _hit(3, 0.2, vraag=3, relevance=RELEVANCE_CUT))
    # the probability decides, not the ranking score; an abstained search keeps nothing
    assert [h.chunk.vraag for h in relevant(Answer("q", hits))] == [(1,), (3,)]
    assert relevant(Answer("q", hits, abstained=True)) == ()


def test_without_relevance_the_searchers_own_decision_counts() -> None:
    question = "Komt er een adviesraad voor kunstmatige intelligentie in Nederland?"
    hits = (_hit(1, 1.0, vraag=1, answer="De adviesraad voor kunstmatige intelligentie komt."),
            _hit(2, 0.9, vraag=2, answer="Nederland krijgt een adviesraad."),
            _hit(3, 0.8, vraag=3, answer="De brug kost 40 miljoen euro."))
    assert relevant(Answer(question, hits, abstained=True)) == ()
    # the absolute label, per hit: 3 of 5 and 2 of 5 content words stay, 0 of 5 goes
    assert [h.chunk.vraag for h in relevant(Answer(question, hits))] == [(1,), (2,)]


def test_subject_documents_are_the_ones_that_stand_out() -> None:
    scores = {"a": 4.5, "b": 3.9, "c": 4.1, "d": 5.0}
    assert subject_documents(scores) == ("d", "a")  # at most two, from 4 SD up
    assert subject_documents(scores, SubjectCut(min_z=3.5, documents=3)) == ("d", "a", "c")
    # the chat result's own document comes first, whatever its score
    assert subject_documents(scores, given=("x",)) == ("x", "d")
    assert subject_documents(scores, SubjectCut(documents=0)) == ()
    assert subject_documents({"a": 3.0}) == ()


def test_passages_on_the_subject_leave_out_what_the_line_shows() -> None:
    searched = Answer("q", (_hit(1, 1.0, "a", 1), _hit(2, 0.9, "b", 1), _hit(3, 0.8, "b", 2),
                            _hit(4, 0.7, "b", 3, answer="Ja."), _hit(5, 0.6, "b", 4),
                            _hit(6, 0.5, "b", 5)))
    got = on_subject_hits(searched, {"b"}, shown={("b", (1,))}, excluded={("b", (4,))})
    # b's passages in ranked order: 1 is on the line, 3 says only "Ja.", 4 is excluded
    assert [h.chunk.unit for h in got] == [("b", (2,)), ("b", (5,))]
    assert on_subject_hits(searched, {"c"}, shown=()) == ()


def test_subject_scores_single_out_the_document_on_the_subject(searcher: Searcher) -> None:
    scores = subject_scores(searcher, "de kosten van de nieuwe brug over de IJssel bij Zwolle")
    assert max(scores, key=scores.__getitem__) == "ah-tk-20232024-1500"
    assert set(scores) == set(searcher.index.documents)
    assert subject_scores(searcher, "   ") == {}  # nothing to search: no subject


def test_rerank_orders_the_vraags_passages_by_the_context_documents() -> None:
    found = Answer("q", (_hit(1, 1.0, "a", 1), _hit(2, 0.9, "b", 1), _hit(3, 0.8, "b", 2)))
    context = Answer("q", (_hit(1, 1.0, "b", 5), _hit(2, 0.9, "c", 1), _hit(3, 0.5, "a", 9)))
    ranked = combine([found, context], ContextMode.RERANK, 3)
    # b is the context's first document: both of its passages move above a's
    assert [h.chunk.unit for h in ranked.hits] == [("b", (1,)), ("b", (2,)), ("a", (1,))]
    assert [h.rank for h in ranked.hits] == [1, 2, 3]
    assert ranked.hits[0].score == pytest.approx(1 / 62 + 4 / 61)
    assert not ranked.abstained
    both = combine([Answer("q", (), abstained=True), Answer("q", (), abstained=True)],
                   ContextMode.RERANK, 3)
    assert both.abstained


def test_the_context_query_keeps_the_context_whole() -> None:
    long = "woord " * 500
    query = with_context(long, "de AI-adviesraad")
    assert query.endswith(" — de AI-adviesraad") and len(query) <= 2000


def test_standing_line_puts_undated_answers_last() -> None:
    hits = (_hit(1, 1.0, "a", received=None), _hit(2, 0.9, "b", received="2023-01-01"),
            _hit(3, 0.8, "c", received="2024-05-01"))
    line = standing_line(hits, "Vraag?")
    assert [e.hit.doc.doc_id for e in line] == ["c", "b", "a"]
    assert [e.top for e in line] == [False, False, True]
    assert not any(e.newer_than_top for e in line)  # the best one has no date to compare


def test_answers_to_earlier_procedural_vragen_stay_off_the_standing_line(
        searcher: Searcher) -> None:
    qset = question_set_from_text("Vragen van het lid Dekker over de adviesraad.\nVraag 1\n"
                                  "Kunt u afzonderlijk ingaan op de adviesraad en op deze "
                                  "vragen?\n", "vragen.txt")
    made = DossierMaker(searcher).make(qset)
    searched = [h.chunk.question for h in made.vragen[0].searched.hits]
    assert "Kunt u deze vragen afzonderlijk beantwoorden?" in searched  # found, then left out
    assert all(not is_procedural(e.hit.chunk.question) for e in made.vragen[0].earlier)
