"""The chat without a browser: replies, polite refusals, filters, login and first start."""

from __future__ import annotations

import html
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from app import latest_reply, main
from rag.build import build_index
from rag.chat import ALL_MINISTRIES, ALL_YEARS, Chat, Turn, detail, echo, pick_label
from rag.cite import citation, compact_id
from rag.config import Settings
from rag.login import LoginError, read_accounts
from rag.models.embed import HashingEmbedder
from rag.render import NO_ANSWER_TITLE
from rag.search.searcher import Searcher
from rag.startup import ensure_sample_index, open_chat_searcher
from rag.store.index import load_index
from tests.conftest import SAMPLE_DIR, SAMPLE_FILE

# The hashing embedder's cosine scores are low and lexical; 0.2 separates the questions below.
HASH_MIN_SCORE = 0.2
ADVIESRAAD = "Wat heeft de minister gezegd over een AI-adviesraad?"
ADVIESRAAD_CITATION = "Aanhangsel Handelingen 2023–2024, nr. 2096, vraag 11"
ADVIESRAAD_QUOTE = ("verkent het kabinet conform de motie Dekker-Abdulaziz en Rajkowski16 op dit "
                    "moment het inrichten van een AI-adviesraad.")
NONSENSE = "xylofoon quokka zeppelin"
# An Aanhangsel document in the sample's layout whose every field tries to inject markup.
HOSTILE_ID = "ah-tk-20232024-9999"
HOSTILE_DOC = """\
Antwoord schriftelijke vragen : Antwoord op vragen van het lid Jansen over <script>alert('titel')</script> phishing bij gemeenten
Vragen van het lid Jansen (XSS) aan de Staatssecretaris van Binnenlandse Zaken en Koninkrijksrelaties over <b>phishing</b> bij gemeenten (ingezonden 4 maart 2024).
Antwoord van Staatssecretaris Van Huffelen (Binnenlandse Zaken en Koninkrijksrelaties) <img src=x onerror=alert('meta')> (ontvangen 5 april 2024). Zie ook Aanhangsel Handelingen,
vergaderjaar 2023–2024, nr. 9999.
Vraag 1
Hoe beschermen gemeenten zich tegen phishing-mails met <script>alert('vraag')</script> erin? Zie [klik hier](javascript:alert('link')) en ![logo](http://example.invalid/x.png).
Antwoord 1
Gemeenten beschermen zich tegen phishing met de Baseline Informatiebeveiliging Overheid. <script>alert('antwoord')</script> Een mail met <img src=x onerror="alert('img')"> wordt geblokkeerd.
Zie **vet** en [de handreiking](javascript:alert('md')) en $$x^2$$ en `code` & "aanhalingstekens".
Vraag 2
Wat kost de digitale weerbaarheid van gemeenten?
Antwoord 2
De kosten voor digitale weerbaarheid van gemeenten bedragen <iframe src="javascript:alert('iframe')"></iframe> 12 miljoen euro per jaar.
"""  # noqa: E501
HOSTILE_QUESTION = "Hoe beschermen gemeenten zich tegen phishing?"
HOSTILE_SHOWN = ("<script>alert('antwoord')</script> Een mail met "
                 "<img src=x onerror=\"alert('img')\">")


def build_test_index(root: Path) -> Path:
    """A hashing-embedder index over the sample and the hostile document; returns its folder."""
    corpus = root / "corpus"
    corpus.mkdir(parents=True)
    shutil.copy(SAMPLE_FILE, corpus / SAMPLE_FILE.name)
    (corpus / f"{HOSTILE_ID}.txt").write_text(HOSTILE_DOC, encoding="utf-8")
    index_dir = root / "index"
    build_index(corpus, Settings(index_dir=index_dir, model="hash:256"), HashingEmbedder(256))
    return index_dir


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_test_index(tmp_path_factory.mktemp("app"))


@pytest.fixture
def chat(index_dir: Path) -> Chat:
    embedder = HashingEmbedder(256)
    return Chat(Searcher(load_index(index_dir, embedder.model_id), embedder, HASH_MIN_SCORE))


def test_reply_quotes_and_cites_the_earlier_answer(chat: Chat) -> None:
    reply = chat.reply(ADVIESRAAD, k=3)
    assert reply.hits[0].chunk.vraag == (11,)
    text = html.unescape(reply.html)
    assert (f"{ADVIESRAAD_CITATION} — antwoord van de minister van Sociale Zaken en "
            "Werkgelegenheid en de minister van Economische Zaken, ontvangen 2 september 2024"
            ) in text
    assert ADVIESRAAD_QUOTE in text
    assert "bron: <code>ah-tk-20232024-2096.txt</code>" in text
    assert text.count('class="vb-hit"') == 3 and len(reply.messages) == 3
    assert reply.hits[0].whole_answer == reply.hits[0].chunk.answer


def test_each_hit_opens_with_its_compact_header(chat: Chat) -> None:
    reply = chat.reply(ADVIESRAAD, k=3)
    first = html.unescape(reply.messages[0])
    assert first.startswith('<p class="vb-head">3 eerdere antwoorden gevonden')
    assert ('<p class="vb-cite"><strong>1.</strong> <span class="vb-header">'
            "nr. 2096 · vraag 11 · 2 sep 2024 · SZW, EZ</span></p>") in first
    for rank, message in enumerate(reply.messages, start=1):
        hit = reply.hits[rank - 1]
        header = f"{rank}.</strong> <span class=\"vb-header\">nr. 2096 · vraag {hit.chunk.vraag[0]}"
        assert html.unescape(message).count(header) == 1
        # the full citation is one click away, in the hit itself
        assert '<details class="vb-citation"><summary><small>Volledig citaat' in message
    second = reply.hits[1].chunk.vraag[0]
    assert [pick_label(h) for h in reply.hits[:2]] == ["1. nr. 2096 · vraag 11",
                                                       f"2. nr. 2096 · vraag {second}"]


def test_one_vraag_appears_once_in_a_reply(chat: Chat) -> None:
    """The sample's long answers are split into parts; a reply shows each vraag once, with
    the parts joined in the whole answer."""
    split = {c.unit for c in chat.searcher.index.chunks if c.n_parts > 1}
    assert split, "the sample should hold at least one split answer"
    reply = chat.reply("AI arbeidsmarkt werkgevers werknemers kansen kabinet", k=12)
    units = [h.chunk.unit for h in reply.hits]
    assert len(units) == len(set(units)) == 12
    text = html.unescape(reply.html)
    for hit in reply.hits:
        shown = compact_id(hit.doc.doc_id, hit.doc.meta, hit.chunk.vraag)
        assert text.count(f'<span class="vb-header">{shown} · ') == 1
        if hit.chunk.unit in split:
            assert len(hit.parts) > 1 and hit.whole_answer.count("\n\n") >= len(hit.parts) - 1


def test_every_hit_links_to_its_official_publication(chat: Chat) -> None:
    reply = chat.reply(ADVIESRAAD, k=2)
    link = ('<a class="vb-link" href="https://zoek.officielebekendmakingen.nl/'
            'ah-tk-20232024-2096.html" target="_blank" rel="noopener noreferrer">')
    assert all(html.unescape(m).count(link) == 1 for m in reply.messages)


def test_number_of_results_follows_the_control(chat: Chat) -> None:
    assert len(chat.reply(ADVIESRAAD, k=1).hits) == 1
    assert len(chat.reply(ADVIESRAAD, k=7).hits) == 7


def test_unrelated_question_gets_no_weak_passages(chat: Chat) -> None:
    reply = chat.reply(NONSENSE)
    assert reply.hits == ()
    assert NO_ANSWER_TITLE in reply.html
    assert "vb-hit" not in reply.html


@pytest.mark.parametrize(("message", "expected"), [
    ("", "De vraag is leeg"),
    ("   \n ", "De vraag is leeg"),
    ("a" * 5000, "De vraag is te lang (5000 tekens)"),
    ("\x00\x01\x02PNG\x89\x1a", "De vraag bevat geen leesbare tekst"),
    ("!!! ??? ...", "De vraag bevat geen leesbare tekst"),
    (None, "Stel een vraag in tekst"),
])
def test_bad_input_gets_a_polite_message(chat: Chat, message: object, expected: str) -> None:
    reply = chat.reply(message)
    assert reply.hits == () and reply.refused
    assert "Deze vraag kan ik niet zoeken" in reply.html
    assert expected in html.unescape(reply.html)


def test_an_unexpected_failure_is_a_message_not_a_trace(index_dir: Path) -> None:
    class Broken(HashingEmbedder):
        def embed_queries(self, texts: object) -> np.ndarray:
            raise RuntimeError("kapot: /secret/path line 42")

    chat = Chat(Searcher(load_index(index_dir), Broken(256), HASH_MIN_SCORE))
    reply = chat.reply(ADVIESRAAD)
    assert "Er ging iets mis" in reply.html
    assert "Traceback" not in reply.html and "/secret/path" not in reply.html


def test_year_and_ministry_filters(chat: Chat) -> None:
    assert chat.years() == ["2023–2024"]
    ministries = chat.ministries()
    assert "Sociale Zaken en Werkgelegenheid" in ministries
    assert "Binnenlandse Zaken en Koninkrijksrelaties" in ministries
    bzk = chat.reply("digitale weerbaarheid gemeenten", k=5,
                     ministry="Binnenlandse Zaken en Koninkrijksrelaties")
    assert bzk.hits and {h.doc.doc_id for h in bzk.hits} == {HOSTILE_ID}
    everything = chat.reply(ADVIESRAAD, k=3, year=ALL_YEARS, ministry=ALL_MINISTRIES)
    assert everything.hits[0].chunk.vraag == (11,)
    none = chat.reply(ADVIESRAAD, year="2019–2020")
    assert none.hits == () and NO_ANSWER_TITLE in none.html and not none.refused
    assert none.filters == {"vergaderjaar": "2019–2020"}


def test_nothing_found_advice_fits_the_filters(chat: Chat) -> None:
    unfiltered = html.unescape(chat.reply(NONSENSE).html)
    assert "filters" not in unfiltered and "andere of minder woorden" in unfiltered
    filtered = html.unescape(chat.reply(NONSENSE, ministry="Binnenlandse Zaken en "
                                        "Koninkrijksrelaties").html)
    assert "zet de filters op vergaderjaar en ministerie uit" in filtered
    empty = html.unescape(chat.reply(ADVIESRAAD, year="2019–2020").html)
    assert "Binnen de gekozen filters staat geen enkel antwoord" in empty


def test_a_judgement_of_the_whole_reply_goes_to_the_latest_reply_only(chat: Chat) -> None:
    turns: list[Turn] = []
    for question in (ADVIESRAAD, NONSENSE, "", ADVIESRAAD):
        reply = chat.reply(question)
        turns.append(Turn(reply.question, reply.filters, reply.hits, 2 * len(turns) + 1))
        latest = latest_reply(turns)
        if reply.hits:
            assert latest is turns[-1] and latest.question == ADVIESRAAD
        else:  # a notice: nothing to judge, and never the question before it
            assert latest is None
    assert latest_reply([]) is None


def test_hostile_document_stays_text(chat: Chat) -> None:
    reply = chat.reply(HOSTILE_QUESTION, k=2)
    assert reply.hits[0].doc.doc_id == HOSTILE_ID
    for tag in ("<script", "<img", "<iframe", "<b>", "](", "$$"):
        assert tag not in reply.html
    # the only links are the official ones the reply makes itself
    assert reply.html.count("<a ") == reply.html.count('<a class="vb-link" href="https') == 2
    assert HOSTILE_SHOWN in html.unescape(reply.html)


def test_user_message_is_echoed_as_text() -> None:
    assert echo("<img src=x onerror=alert(1)>") == "&#60;img src=x onerror=alert&#40;1&#41;&#62;"
    assert echo("x" * 2000).endswith("… &#40;2000 tekens&#41;")
    assert "lege vraag" in echo("  ")


def test_detail_gives_the_citation_and_the_whole_text(chat: Chat) -> None:
    reply = chat.reply(ADVIESRAAD, k=2)
    cite, full = detail(reply.hits, 0)
    assert cite.startswith(f"{ADVIESRAAD_CITATION} — antwoord van de minister")
    assert full.startswith(cite) and ADVIESRAAD_QUOTE in full
    assert detail(reply.hits, 9) == ("", "")
    assert detail((), 0) == ("", "")


def test_login_from_env_and_file(tmp_path: Path) -> None:
    auth_file = tmp_path / "logins"
    auth_file.write_text("# staf\nanna:geheim:met:dubbele\n\nbob:b\n", encoding="utf-8")
    assert read_accounts("chef:pw", auth_file) == {"chef": "pw", "anna": "geheim:met:dubbele",
                                                   "bob": "b"}
    assert read_accounts(None, None) == {}
    with pytest.raises(LoginError):
        read_accounts("zonder-wachtwoord", None)


def test_first_start_builds_the_sample_index_once(tmp_path: Path) -> None:
    settings = Settings(index_dir=tmp_path / "index", model="hash:256")
    lines: list[str] = []
    report = ensure_sample_index(settings, HashingEmbedder(256), SAMPLE_DIR, notify=lines.append)
    assert report is not None and report.documents == 1
    assert lines[0].startswith("No index in") and lines[-1].startswith("Index ready: 1 document")
    assert any("passages embedded" in line for line in lines)
    assert ensure_sample_index(settings, HashingEmbedder(256), SAMPLE_DIR) is None
    searcher = open_chat_searcher(Settings(index_dir=settings.index_dir, model="hash:256",
                                           min_score=HASH_MIN_SCORE), build_sample=True).current()
    assert searcher.min_score == HASH_MIN_SCORE
    # no calibrated value for hash:256
    assert open_chat_searcher(settings).current().min_score is None
    hit = searcher.ask(ADVIESRAAD, k=1).hits[0]
    assert citation(hit.doc.doc_id, hit.doc.meta, hit.chunk.vraag) == ADVIESRAAD_CITATION


def test_a_missing_named_index_is_an_error_with_the_fix(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["--index", str(tmp_path / "nergens"), "--model",
                                       "hash:256"])
    assert result.exit_code == 1
    assert "no index at" in result.output and "rag build" in result.output
    assert not (tmp_path / "nergens").exists()


def test_help_names_the_options() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for option in ("--index", "--model", "--host", "--port", "--auth-file", "--min-score"):
        assert option in result.output
    assert "127.0.0.1" in result.output
    # the terminal speaks English (the page Dutch)
    assert "no earlier answer found" in result.output and "Geen" not in result.output
