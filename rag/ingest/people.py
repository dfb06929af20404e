"""Who asked and who answered: members and parties, ministers and ministries (pure functions).

The inputs are the phrases of an Aanhangsel intro as :mod:`rag.ingest.meta` finds them:

- asked by: ``de leden Aartsen en Rajkowski (VVD)``, ``de leden Kröger, Thijssen (beiden
  GroenLinks-PvdA), Teunissen (PvdD) en Rooderkerk (D66)``, ``het lid Van Nispen (SP)``;
- answered by: ``Minister Van Hijum (Sociale Zaken en Werkgelegenheid) en van Minister
  Beljaarts (Economische Zaken)``, ``minister Klever (Buitenlandse Handel en
  Ontwikkelingshulp), mede namens de minister van Financiën``;
- asked to: ``de Ministers voor Sociale Zaken en Werkgelegenheid en van Economische Zaken en
  Klimaat``.

Names and parties are kept as written; `rag.government` lets filters match the common short
forms ("GL-PvdA", "NSC", "BZK"). This is the one place ``answered_by`` is read: citations
use the :class:`~rag.types.Answerer` records it yields.
"""

from __future__ import annotations

import re

from rag.government import expand_ministry
from rag.types import Answerer

_LEAD = re.compile(r"^(?:de|het)\s+(?:leden|lid)(?:\s+(?:leden|lid))?\s+", re.I)
_GROUP_WORD = re.compile(r"^(?:beiden|allen|allebei|alle\s+drie|alle\s+vier)\s+", re.I)
_PAREN = re.compile(r"\(([^()]*)\)")
_SPLIT_NAMES = re.compile(r"\s*,\s*|\s+en\s+")
_TITLE = r"(?:[Mm]inister(?:-[Pp]resident)?|[Ss]taatssecretaris|[Ss]ecretaris)"
# The offices that sign an answer, at the start of a phrase: "Minister", "minister-president",
# "Staatssecretaris". The one definition of the roles: `rag.ingest.sidecar` and
# `rag.opendata.entity` read the open data's ``Functie`` ("minister van Financiën") with it.
ROLE = re.compile(r"(?i)minister-president|minister|staatssecretaris|secretaris")
_ANSWERER = re.compile(
    rf"(?<![\w-])(?P<who>{_TITLE}\b[^()]*?)\s*\((?P<ministry>[^()]+?)(?:\)|\s*$)"
)
_CO = re.compile(r",?\s*mede\s+namens\s+(?P<rest>.+)$", re.I | re.S)
# "... voor X en van Y", "... van X en de staatssecretaris van Y", "..., van Z"
_TITLES = rf"{_TITLE}s?(?:sen)?(?:\s+en\s+(?:de\s+)?{_TITLE})*"
_CONNECTOR = re.compile(
    rf"(?:^|\s*,\s*|\s+en\s+)(?:de\s+|het\s+)?(?:{_TITLES}\s+)?(?:van|voor)\s+"
)
_ABSENCE = re.compile(r",?\s*bij\s+afwezigheid\s+van\s+", re.I)
_MAX_PHRASE = 400  # a longer "phrase" is a regex overrun, not a list of names


def _tidy(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip(" .,;:")


def askers_and_parties(asked_by: str | None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Surnames and parties from "de leden X (VVD) en Y (CDA)"; empty when not recognised."""
    if not asked_by or len(asked_by) > _MAX_PHRASE:
        return (), ()
    text = _LEAD.sub("", _tidy(asked_by))
    parties: list[str] = []
    for inner in _PAREN.findall(text):
        party = _tidy(_GROUP_WORD.sub("", inner.strip()))
        if party and len(party) <= 40:
            parties.append(party)
    names = [_tidy(n) for n in _SPLIT_NAMES.split(_PAREN.sub(" ", text))]
    askers = [n for n in names if n and len(n) <= 60 and n[0].isupper()]
    return tuple(dict.fromkeys(askers)), tuple(dict.fromkeys(parties))


def answerers_and_ministries(
        answered_by: str | None) -> tuple[tuple[Answerer, ...], tuple[str, ...]]:
    """Who signed the answer (role, name, ministry), and the answering ministries followed
    by those answering "mede namens"."""
    if not answered_by or len(answered_by) > _MAX_PHRASE:
        return (), ()
    text = _tidy(answered_by)
    co = _CO.search(text)
    main = text[: co.start()] if co else text
    answerers: list[Answerer] = []
    ministries: list[str] = []
    for m in _ANSWERER.finditer(main):
        who = re.sub(r"\s+(?:en\s+)?van$", "", _tidy(m.group("who")))
        title = ROLE.match(who)
        role = title.group(0).lower() if title else who.split()[0].lower()
        name = _tidy(who[title.end():] if title else " ".join(who.split()[1:]))
        ministry = expand_ministry(_tidy(m.group("ministry")))
        # "Volksgezondheid, Welzijn en Sport – Jeugd, Preventie en Sport": the ministry is
        # the part before the dash; filters still match the whole portfolio.
        main_ministry = _tidy(re.split(r"\s+[–-]\s+", ministry)[0])
        answerer = Answerer(role, name, main_ministry)
        if main_ministry and answerer not in answerers:
            answerers.append(answerer)
        ministries.append(ministry)
    if co:
        ministries.extend(ministries_addressed(co.group("rest")))
    return tuple(answerers), tuple(dict.fromkeys(m for m in ministries if m))


def ministries_addressed(asked_to: str | None) -> tuple[str, ...]:
    """Ministries in "de Ministers voor X en van Y" or "de minister van X en de staatssecretaris
    van Y"; empty when no "van"/"voor" phrase is found."""
    if not asked_to or len(asked_to) > _MAX_PHRASE:
        return ()
    text = _tidy(re.sub(r"^(?:de|het)\s+", "", _tidy(asked_to)))
    text = _ABSENCE.sub(" en ", text)  # "..., bij afwezigheid van de Staatssecretaris van X"
    if re.match(r"(?i)minister-president\b", text):
        return ("Algemene Zaken",)
    if not _CONNECTOR.match(text):
        return ()
    parts = [_tidy(p) for p in _CONNECTOR.split(text)]
    return tuple(dict.fromkeys(expand_ministry(p) for p in parts if p and len(p) <= 80))
