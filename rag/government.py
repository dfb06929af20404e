"""Dutch government vocabulary: ministries and their short forms, parties, "voor"-ministers.

Data and small lookups only, shared by ingest (reading who answered), search (filters) and
citations (wording and short forms).
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
# How the short forms are written in running text (the keys above are search keys).
_SHORT_FORMS = {"IENW": "IenW", "JENV": "JenV", "AENM": "AenM", "DEF": "Def", "FIN": "Fin"}
_ABBREVIATION_OF = {name.casefold(): key for key, name in MINISTRY_ABBREVIATIONS.items()}

# Programme ministers are "minister voor …", everyone else "minister van …".
_VOOR = frozenset(s.casefold() for s in (
    "Rechtsbescherming", "Natuur en Stikstof", "Langdurige Zorg en Sport", "Klimaat en Energie",
    "Buitenlandse Handel en Ontwikkelingssamenwerking", "Primair en Voortgezet Onderwijs",
    "Buitenlandse Handel en Ontwikkelingshulp", "Armoedebeleid, Participatie en Pensioenen",
    "Medische Zorg", "Medische Zorg en Sport", "Basis- en Voortgezet Onderwijs en Media",
))

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


def party_key(name: str) -> str:
    """A spelling-independent key: ``party_key("GL-PvdA") == party_key("GroenLinks-PvdA")``."""
    squashed = re.sub(r"[\s/-]", "", name).casefold()
    return _PARTY_KEYS.get(squashed, squashed)


def expand_ministry(name: str) -> str:
    """The full ministry name for a known abbreviation ("BZK"), else the name as given."""
    key = re.sub(r"[\s&]", "", name).upper() if len(name) <= 6 else ""
    return MINISTRY_ABBREVIATIONS.get(key, name)


def ministry_short(name: str) -> str:
    """The usual short form of a ministry ("SZW", "IenW"), else the name as given."""
    key = _ABBREVIATION_OF.get(name.casefold())
    return _SHORT_FORMS.get(key, key) if key else name


def preposition(role: str, ministry: str) -> str:
    """``voor`` for a programme minister ("minister voor Klimaat en Energie"), else ``van``."""
    return "voor" if role == "minister" and ministry.casefold() in _VOOR else "van"


# Dutch cabinets by the day they were sworn in. A cabinet governs from that day (the outgoing
# ministers are dismissed the same morning) until the next one is sworn in: a cabinet that
# fell stays in office, demissionair, until then. Dates from rijksoverheid.nl ("Kabinetten
# sinds 1945") and parlement.com.
CABINETS: tuple[tuple[str, str], ...] = (
    ("Kok I", "1994-08-22"),
    ("Kok II", "1998-08-03"),
    ("Balkenende I", "2002-07-22"),
    ("Balkenende II", "2003-05-27"),
    ("Balkenende III", "2006-07-07"),
    ("Balkenende IV", "2007-02-22"),
    ("Rutte I", "2010-10-14"),
    ("Rutte II", "2012-11-05"),
    ("Rutte III", "2017-10-26"),
    ("Rutte IV", "2022-01-10"),
    ("Schoof", "2024-07-02"),
    ("Jetten", "2026-02-23"),
)
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def cabinet_on(day: str | None) -> str | None:
    """The cabinet in office on an ISO date (``"2024-07-02"`` -> ``"Schoof"``); None for a
    missing or malformed date or one before the table starts."""
    if not day or not _ISO_DAY.fullmatch(day):
        return None
    name = None
    for cabinet, sworn_in in CABINETS:  # ISO dates sort as strings
        if sworn_in > day:
            break
        name = cabinet
    return name
