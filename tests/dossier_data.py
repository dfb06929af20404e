"""A small corpus for dossier tests, written into ``tmp_path``: one subject (an AI advisory
council) answered under four cabinets, an unrelated answer, the answer to the new set
itself, and that set as the Kamer publishes it (kv-form: glued words, «» quotes).

The documents follow the layout of the bundled sample (title line, "Vragen van …",
"Antwoord van … (ontvangen …)", Vraag N / Antwoord N); every text is written for the tests.
"""

from __future__ import annotations

from pathlib import Path

ZAAK = "2024Z99999"
OWN_ID = "ah-tk-20242025-3001"
KV_ID = f"kv-tk-{ZAAK}"


def _answer_doc(nr: int, year: str, received: str, minister: str, ministry: str,
                subject: str, blocks: list[tuple[str, str]], zaak: str | None = None) -> str:
    lines = [f"Antwoord schriftelijke vragen : Antwoord op vragen van het lid Dekker over "
             f"{subject}",
             f"Vragen van het lid Dekker (VVD) aan de Minister van {ministry} over {subject} "
             f"(ingezonden 1 januari {received.split()[-1]}).",
             f"Antwoord van Minister {minister} ({ministry}) (ontvangen {received}). Zie ook "
             f"Aanhangsel Handelingen, vergaderjaar {year}, nr. {nr}."]
    if zaak:
        lines.insert(1, zaak)
    for i, (question, answer) in enumerate(blocks, start=1):
        lines += [f"Vraag {i}", question, f"Antwoord {i}", answer]
    return "\n".join(lines) + "\n"


COUNCIL_Q = "Komt er een adviesraad voor kunstmatige intelligentie?"
EARLIER = {
    # Rutte III, its last day in office
    "ah-tk-20212022-1002": _answer_doc(
        1002, "2021–2022", "9 januari 2022", "Keijzer", "Economische Zaken en Klimaat",
        "een adviesraad voor kunstmatige intelligentie",
        [(COUNCIL_Q, "Het kabinet ziet op dit moment geen noodzaak voor een aparte adviesraad "
          "voor kunstmatige intelligentie. Bestaande adviesraden adviseren al over AI."),
         ("Hoeveel kost de inzet van algoritmen bij de overheid?",
          "De kosten van algoritmen bij de overheid worden niet centraal bijgehouden.")]),
    # Rutte IV, its first day
    "ah-tk-20212022-1003": _answer_doc(
        1003, "2021–2022", "10 januari 2022", "Adriaansens", "Economische Zaken en Klimaat",
        "toezicht op kunstmatige intelligentie",
        [("Wie houdt toezicht op kunstmatige intelligentie en komt er een adviesraad?",
          "De Autoriteit Persoonsgegevens houdt toezicht op algoritmen. Over een adviesraad "
          "voor kunstmatige intelligentie besluit het kabinet later dit jaar.")]),
    # Schoof
    "ah-tk-20242025-2001": _answer_doc(
        2001, "2024–2025", "15 oktober 2024", "Beljaarts", "Economische Zaken",
        "de AI-adviesraad",
        [("Wanneer wordt de adviesraad voor kunstmatige intelligentie ingesteld?",
          "Het kabinet stelt de adviesraad voor kunstmatige intelligentie begin 2025 in. De "
          "adviesraad adviseert gevraagd en ongevraagd over AI."),
         ("Kunt u deze vragen afzonderlijk beantwoorden?", "Ja.")]),
    # unrelated
    "ah-tk-20232024-1500": _answer_doc(
        1500, "2023–2024", "3 april 2024", "Harbers", "Infrastructuur en Waterstaat",
        "de brug bij Zwolle",
        [("Hoeveel kost de nieuwe brug over de IJssel bij Zwolle?",
          "De brug over de IJssel kost 40 miljoen euro en is in 2027 klaar.")]),
}
OWN = _answer_doc(
    3001, "2024–2025", "20 november 2024", "Beljaarts", "Economische Zaken",
    "de start van de AI-adviesraad",
    [("Bent u bekend met het bericht «Adviesraad voor AI laat op zich wachten»?", "Ja."),
     ("Wanneer start de adviesraad voor kunstmatige intelligentie precies?",
      "De adviesraad voor kunstmatige intelligentie start op 1 maart 2025."),
     (COUNCIL_Q, "Ja, zie het antwoord op vraag 2."),
     ("Kunt u deze vragen één voor één beantwoorden?", "Ja.")], zaak=ZAAK)
# The set as submitted: the same vragen in kv-form (words glued at line joins, «» quotes,
# a hyphenated word), so own-answer alignment has to match texts that differ slightly.
KV_SET = f"""Tweede Kamer der Staten-Generaal2
Vergaderjaar 2024–2025 Vragen gesteld door de leden der Kamer
{ZAAK}
Vragen van het lid Dekker (VVD) aan de Minister van Economische Zaken over de start van de
AI-adviesraad (ingezonden 12 november 2024).
Vraag 1
Bent u bekend met het bericht «Adviesraad voor AI laat op zichwachten»?
Vraag 2
Wanneer start de adviesraad voor kunstmatige intelli-
gentie precies?
Vraag 3
Komt er een adviesraad voorkunstmatige intelligentie?
Vraag 4
Kunt u deze vragen één voor één beantwoorden?
"""
# The same set as a ministry Word file saved as text: no numbering left.
UNNUMBERED_SET = """2024Z99998

(ingezonden 12 november 2024)

Vragen van het lid Dekker (VVD) aan de minister van Economische Zaken over de AI-adviesraad

Wanneer wordt de adviesraad voor kunstmatige intelligentie ingesteld? 1)

Hoeveel kost de inzet van algoritmen bij de overheid?

Kunt u deze vragen afzonderlijk beantwoorden?

1) Website, 11 november 2024, 'Adviesraad voor AI laat op zich wachten'
"""
ORAL_QUESTION = """2024Z99997
Mondelinge vragen van het lid Dekker (VVD) aan de Minister van Economische Zaken over het
bericht «Adviesraad voor AI laat op zich wachten» (ingezonden 19 november 2024)
"""


def write_corpus(folder: Path, with_own: bool = True) -> Path:
    """The answer documents as .txt files in ``folder`` (created); returns it."""
    folder.mkdir(parents=True, exist_ok=True)
    for doc_id, text in EARLIER.items():
        (folder / f"{doc_id}.txt").write_text(text, encoding="utf-8")
    if with_own:
        (folder / f"{OWN_ID}.txt").write_text(OWN, encoding="utf-8")
    return folder


def build_dossier_index(root: Path, with_own: bool = True) -> Path:
    """A hashing-embedder index over `write_corpus`; returns its folder."""
    from rag.build import build_index
    from rag.config import Settings
    from rag.models.embed import HashingEmbedder

    corpus = write_corpus(root / "corpus", with_own)
    index_dir = root / "index"
    build_index(corpus, Settings(index_dir=index_dir, model="hash:256"), HashingEmbedder(256))
    return index_dir
