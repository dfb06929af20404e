"""Who asked and who answered: members and parties, ministers and ministries (pure functions).

The inputs are the phrases of an Aanhangsel intro as :mod:`rag.ingest.meta` finds them:

- asked by: ``de leden Aartsen en Rajkowski (VVD)``, ``de leden Kröger, Thijssen (beiden
  GroenLinks-PvdA), Teunissen (PvdD) en Rooderkerk (D66)``, ``het lid Van Nispen (SP)``;
- answered by: ``Minister Van Hijum (Sociale Zaken en Werkgelegenheid) en van Minister
  Beljaarts (Economische Zaken)``, ``minister Klever (Buitenlandse Handel en
  Ontwikkelingshulp), mede namens de minister van Financiën``;
- asked to: ``de Ministers voor Sociale Zaken en Werkgelegenheid en van Economische Zaken en
  Klimaat``.

Names and parties are kept as written; :func:`party_key` and :data:`MINISTRY_ABBREVIATIONS`
let filters match the common short forms ("GL-PvdA", "NSC", "BZK").
"""

from __future__ import annotations

import re

# Short forms used in filters and sometimes in the documents themselves -> the full name.
MINISTRY_ABBREVIATIONS = {
    "AZ": "Algemene Zaken",
    "BZ": "Buitenlandse Zaken",
    "BHO": "Buitenlandse Handel en Ontwikkelingshulp",
    "BHOS": "Buitenlandse Handel en Ontwikkelingssamenwerking",
    "BZK": "Binnenlandse Zaken en Koninkrijksrelaties",
    "DEF": "Defensie",
    "EZ": "Economische Zaken",
    "EZK": "Economische Zaken en Klimaat",
    "FIN": "Financiën",
    "IENW": "Infrastructuur en Waterstaat",
    "JENV": "Justitie en Veiligheid",
    "KGG": "Klimaat en Groene Groei",
    "LNV": "Landbouw, Natuur en Voedselkwaliteit",
    "LVVN": "Landbouw, Visserij, Voedselzekerheid en Natuur",
    "OCW": "Onderwijs, Cultuur en Wetenschap",
    "SZW": "Sociale Zaken en Werkgelegenheid",
    "VRO": "Volkshuisvesting en Ruimtelijke Ordening",
    "VWS": "Volksgezondheid, Welzijn en Sport",
    "AENM": "Asiel en Migratie",
}

# Party spellings met in the documents and in staff shorthand, grouped per party.
_PARTY_GROUPS = [
    ("GroenLinks-PvdA", "GL-PvdA", "GL/PvdA", "GLPvdA", "GroenLinks/PvdA"),
    ("Nieuw Sociaal Contract", "NSC"),
    ("ChristenUnie", "CU"),
    ("Partij voor de Dieren", "PvdD"),
    ("Partij voor de Vrijheid", "PVV"),
    ("BoerBurgerBeweging", "BBB"),
    ("Forum voor Democratie", "FVD", "FvD"),
    ("Socialistische Partij", "SP"),
    ("Staatkundig Gereformeerde Partij", "SGP"),
    ("Volkspartij voor Vrijheid en Democratie", "VVD"),
    ("Christen-Democratisch Appèl", "CDA"),
    ("Democraten 66", "D66"),
    ("Volt", "Volt Nederland"),
    ("JA21", "JA 21"),
    ("DENK",),
    ("50PLUS", "50+"),
    ("Groep Markuszower", "GM"),
]
_PARTY_KEYS = {
    re.sub(r"[\s/-]", "", alias).casefold(): group[0] for group in _PARTY_GROUPS for alias in group
}

_LEAD = re.compile(r"^(?:de|het)\s+(?:leden|lid)(?:\s+(?:leden|lid))?\s+", re.I)
_GROUP_WORD = re.compile(r"^(?:beiden|allen|allebei|alle\s+drie|alle\s+vier)\s+", re.I)
_PAREN = re.compile(r"\(([^()]*)\)")
_SPLIT_NAMES = re.compile(r"\s*,\s*|\s+en\s+")
_TITLE = r"(?:[Mm]inister(?:-[Pp]resident)?|[Ss]taatssecretaris|[Ss]ecretaris)"
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


def party_key(name: str) -> str:
    """A spelling-independent key: ``party_key("GL-PvdA") == party_key("GroenLinks-PvdA")``."""
    squashed = re.sub(r"[\s/-]", "", name).casefold()
    return _PARTY_KEYS.get(squashed, squashed)


def expand_ministry(name: str) -> str:
    """The full ministry name for a known abbreviation ("BZK"), else the name as given."""
    key = re.sub(r"[\s&]", "", name).upper() if len(name) <= 6 else ""
    return MINISTRY_ABBREVIATIONS.get(key, name)


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


def answerers_and_ministries(answered_by: str | None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Ministers with their ministries, then the ministries answering "mede namens"."""
    if not answered_by or len(answered_by) > _MAX_PHRASE:
        return (), ()
    text = _tidy(answered_by)
    co = _CO.search(text)
    main = text[: co.start()] if co else text
    answerers: list[str] = []
    ministries: list[str] = []
    for m in _ANSWERER.finditer(main):
        who = _tidy(m.group("who"))
        who = re.sub(r"\s+(?:en\s+)?van$", "", who)
        answerers.append(who)
        ministries.append(expand_ministry(_tidy(m.group("ministry"))))
    if co:
        ministries.extend(ministries_addressed(co.group("rest")))
    return tuple(dict.fromkeys(answerers)), tuple(dict.fromkeys(m for m in ministries if m))


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
