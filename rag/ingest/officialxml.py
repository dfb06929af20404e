"""Read the official XML of officielebekendmakingen.nl (``ah-tk-…xml``) straight into a Document.

Built to the element vocabulary of the officiële-publicaties schema (op-xsd) for Kamervragen,
as used by public parsers of these files; no real XML file was available to test against, so
the tests use small samples written to that vocabulary::

    <officiele-publicatie>
      <metadata><meta name="DC.identifier" content="ah-tk-20232024-2096"/> …</metadata>
      <kamervragen>
        <kamervraagkop> … Vergaderjaar 2023–2024 … </kamervraagkop>
        <kamervraagnummer>2096</kamervraagnummer>
        <kamervraagomschrijving type="vraag">Vragen van de leden <naam>…</naam>
          (<politiek>VVD</politiek>) aan … over <kamervraagonderwerp>…</kamervraagonderwerp>
          (ingezonden <datum isodatum="2024-06-12">12 juni 2024</datum>).</kamervraagomschrijving>
        <kamervraagomschrijving type="antwoord">Antwoord van … (ontvangen <datum …/>).
        </kamervraagomschrijving>
        <vraag><nr>Vraag 1</nr><al>… <noot><noot.nr>1</noot.nr><noot.al>…</noot.al></noot>
          </al></vraag>
        <antwoord><nr>Antwoord 1</nr><al>…</al></antwoord>
      </kamervragen>
    </officiele-publicatie>

The structure wins over heuristics: blocks come from the ``vraag``/``antwoord`` elements and
their ``nr``, paragraphs from ``al`` (footnote ``noot`` text is left out), and explicit values
(``isodatum``, ``kamervraagnummer``, ``kamervraagonderwerp``, ``politiek``, the metadata) override
what the regexes of :mod:`rag.ingest.meta` read from the same intro text. Namespaces are ignored.
Entity declarations are refused and nothing is fetched from the network.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from rag.errors import ParseError
from rag.ingest.meta import extract_meta, official_title, with_people
from rag.ingest.parse import check_blocks, parse_numbers
from rag.ingest.patterns import ISO_DATE, NUMBERS, OFFICIAL_ID, YEARS, ZAAK, zaak_number
from rag.types import DocKind, Document, DocumentMeta, QABlock

_NUMS = re.compile(NUMBERS)
_MARKER = re.compile(
    r"^(?:Vraag|Vragen|Antwoord(?:en)?)(?:\s+op)?(?:\s+(?:de\s+)?vra(?:ag|gen))?\s*"
    rf"(?P<nums>{_NUMS.pattern})?\s*[.:]?$",
    re.I,
)
_SKIP = {"nr", "noot", "nootref", "noot.nr", "noot.al", "kamervraagkop", "kamervraagnummer",
         "li.nr", "metadata", "meta"}
_CONTAINERS = ("kamervragen", "vragen", "reactie")
MAX_BLOCKS = 2_000  # real documents have a few dozen; pairing is quadratic in the count


def _local(tag: object) -> str:
    return tag.split("}", 1)[-1] if isinstance(tag, str) else ""


def _load(data: bytes, name: str) -> Any:
    try:
        from lxml import etree
    except ImportError as exc:  # pragma: no cover - lxml is a declared dependency
        raise ParseError(f"{name}: reading XML needs lxml (pip install lxml)") from exc
    if re.search(rb"<!ENTITY", data, re.I):
        raise ParseError(f"{name}: XML declares entities; refused (official XML has none)")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                             huge_tree=False, remove_comments=True, remove_pis=True)
    try:
        root = etree.fromstring(data, parser=parser)
    except etree.XMLSyntaxError as exc:
        raise ParseError(f"{name}: malformed XML ({exc})") from exc
    except ValueError as exc:
        raise ParseError(f"{name}: not XML ({exc})") from exc
    if root is None:
        raise ParseError(f"{name}: empty XML document")
    for el in root.iter():
        if isinstance(el.tag, str):
            el.tag = _local(el.tag)
    return root


def _inline(el: Any) -> str:
    """The running text of an element without footnote text, whitespace collapsed."""
    parts: list[str] = [el.text or ""]
    for child in el:
        tag = child.tag if isinstance(child.tag, str) else ""
        if tag and tag not in _SKIP:
            parts.append(" " if tag == "br" else _inline(child))
        parts.append(child.tail or "")
    return re.sub(r"\s+", " ", "".join(parts)).strip()


def _paragraphs(el: Any) -> list[str]:
    """The paragraphs of a block: ``al`` elements, list items (with their marker), rows."""
    out: list[str] = []
    if el.text and el.text.strip():
        out.append(re.sub(r"\s+", " ", el.text).strip())
    for child in el:
        tag = child.tag if isinstance(child.tag, str) else ""
        if not tag or tag in _SKIP:
            pass
        elif tag in ("al", "tussenkop", "kop", "titel"):
            out.append(_inline(child))
        elif tag == "li":
            marker_el = child.find("li.nr")
            marker = _inline(marker_el) if marker_el is not None else "-"
            marker = "-" if marker in ("", "–", "—", "•", "·", "*") else marker
            items = _paragraphs(child)
            if items:
                items[0] = f"{marker} {items[0]}"
            out.extend(items)
        elif tag in ("row", "tr"):
            cells = [_inline(c) for c in child if isinstance(c.tag, str)]
            out.append(" | ".join(c for c in cells if c))
        elif any(isinstance(c.tag, str) for c in child):
            out.extend(_paragraphs(child))
        else:
            out.append(_inline(child))
        if child.tail and child.tail.strip():
            out.append(re.sub(r"\s+", " ", child.tail).strip())
    return [p for p in out if p]


def _numbers(el: Any, paragraphs: list[str]) -> tuple[tuple[int, ...], list[str]]:
    """The vraag numbers of a block from its ``nr``, else from a leading "Vraag 1" paragraph."""
    nr = el.find("nr")
    label = _inline(nr) if nr is not None else ""
    if not label and paragraphs and (m := _MARKER.match(paragraphs[0])):
        label, paragraphs = m.group(0), paragraphs[1:]
    found = _NUMS.search(label)
    return (parse_numbers(found.group(0)) if found else ()), paragraphs


def _pair(items: list[tuple[str, tuple[int, ...], str]]) -> tuple[list[QABlock], list[str]]:
    """Pair each antwoord with the vragen it names, or with the vragen since the last antwoord.

    Blocks keep the order of their first vraag; unanswered vragen get an empty answer.
    """
    anomalies: list[str] = []
    questions: list[tuple[tuple[int, ...], str]] = []
    blocks: list[tuple[int, QABlock]] = []  # (position of the first vraag, block)
    taken: set[int] = set()
    pending: list[int] = []
    for kind, nums, text in items:
        if kind == "vraag":
            questions.append((nums or (len(questions) + 1,), text))
            pending.append(len(questions) - 1)
            continue
        if nums:
            chosen = [i for i, (qnums, _) in enumerate(questions)
                      if set(qnums) & set(nums) and i not in taken]
        else:
            chosen = list(pending)
        if not chosen:
            anomalies.append(f"antwoord {', '.join(map(str, nums)) or '?'} without a question")
            blocks.append((len(questions), QABlock(nums or (0,), "", text)))
            continue
        vraag = tuple(dict.fromkeys(n for i in chosen for n in questions[i][0]))
        question = "\n\n".join(questions[i][1] for i in chosen)
        blocks.append((chosen[0], QABlock(vraag, question, text)))
        taken.update(chosen)
        pending = [i for i in pending if i not in chosen]
    blocks += [(i, QABlock(q[0], q[1], "")) for i, q in enumerate(questions) if i not in taken]
    blocks.sort(key=lambda pair: pair[0])
    return [b for _, b in blocks], anomalies


def _surname(naam: Any) -> str:
    """"Van Hijum" from <naam><voorvoegsels>van</voorvoegsels><achternaam>Hijum</achternaam>."""
    surname = naam.find("achternaam")
    if surname is None:
        return _inline(naam)
    prefix = naam.find("voorvoegsels")
    return " ".join(_inline(x) for x in (prefix, surname) if x is not None and _inline(x))


def _metadata(root: Any) -> dict[str, str]:
    found: dict[str, str] = {}
    for el in root.iter("meta", "metadata"):
        name, content = el.get("name"), el.get("content")
        if name and content and name not in found:
            found[name] = content.strip()
    return found


def _structured_meta(root: Any, box: Any, meta: DocumentMeta) -> DocumentMeta:
    """Override the regex readings with what elements and attributes state explicitly."""
    md = _metadata(root)
    values: dict[str, Any] = {}
    ident = OFFICIAL_ID.match(md.get("DC.identifier", ""))
    if ident:
        values["vergaderjaar"] = f"{ident.group(1)}–{ident.group(2)}"
        values["ah_nr"] = int(ident.group(3))
    kop = box.find("kamervraagkop")
    year = YEARS.search(md.get("OVERHEIDop.vergaderjaar", "")) or (
        YEARS.search(_inline(kop)) if kop is not None else None)
    if year:
        values["vergaderjaar"] = f"{year.group(1)}–{year.group(2)}"
    numbers = [md.get("OVERHEIDop.aanhangselNummer", ""), md.get("OVERHEIDop.vraagnummer", "")]
    number_el = box.find("kamervraagnummer")
    numbers.append(_inline(number_el) if number_el is not None else "")
    for number in numbers:
        if ZAAK.fullmatch(number.strip()):
            values["zaak_nr"] = zaak_number(number)
        elif re.fullmatch(r"\s*\d{1,5}\s*", number):
            values["ah_nr"] = int(number)
    dates = {"OVERHEIDop.datumIndiening": "date_submitted",
             "OVERHEIDop.datumOntvangst": "date_received"}
    values.update({field: md[key] for key, field in dates.items()
                   if ISO_DATE.match(md.get(key, ""))})
    for desc in box.iter("kamervraagomschrijving"):
        kind = (desc.get("type") or "").lower() or (
            "antwoord" if _inline(desc).startswith(("Antwoord", "Mededeling")) else "vraag")
        iso = next((d.get("isodatum") for d in desc.iter("datum")
                    if ISO_DATE.match(d.get("isodatum") or "")), None)
        if iso:
            values["date_submitted" if kind == "vraag" else "date_received"] = iso
        if kind == "vraag":
            subject = desc.find(".//kamervraagonderwerp")
            if subject is not None and _inline(subject):
                values["subject"] = _inline(subject)
                if meta.asked_by and meta.answered_by:
                    values["title"] = official_title(meta.asked_by, values["subject"])
            parties = [_inline(p) for p in desc.iter("politiek") if _inline(p)]
            if parties:
                values["parties"] = tuple(dict.fromkeys(parties))
            names = [_surname(n) for n in desc.iter("naam")]
            if any(names):
                values["askers"] = tuple(dict.fromkeys(n for n in names if n))
    if md.get("DC.title"):  # the published title, as the source states it
        values["title"] = re.sub(r"\s+", " ", md["DC.title"]).strip()
    return replace(meta, **values)


def parse_xml(data: bytes, doc_id: str, source: str) -> Document:
    """Parse official Kamervragen XML into a :class:`Document`; raises only ParseError."""
    root = _load(data, source)
    box = next((el for tag in _CONTAINERS for el in root.iter(tag)), None)
    if box is None:
        raise ParseError(f"{source}: XML is not an officielebekendmakingen Kamervragen "
                         "document (no <kamervragen> element)")
    intro = [_inline(el) for el in box.iter("kamervraagkop", "kamervraagnummer",
                                            "kamervraagomschrijving", "kamervraagopmerking")]
    meta = _structured_meta(root, box, extract_meta("\n".join(intro), doc_id))
    meta = with_people(meta)

    elements = list(box.iter("vraag", "antwoord"))
    if len(elements) > MAX_BLOCKS:
        raise ParseError(f"{source}: too large ({len(elements):,} vraag/antwoord elements; "
                         f"the limit is {MAX_BLOCKS:,})")
    items: list[tuple[str, tuple[int, ...], str]] = []
    for el in elements:
        if any(a.tag in ("vraag", "antwoord") for a in el.iterancestors()):
            continue
        nums, paragraphs = _numbers(el, _paragraphs(el))
        items.append((el.tag, nums, "\n\n".join(paragraphs)))
    blocks, anomalies = _pair(items)
    has_answers = any(kind == "antwoord" and text for kind, _, text in items)
    notice = any(True for _ in box.iter("kamervraagopmerking")) or any(
        (d.get("type") or "").lower() == "mededeling" for d in box.iter("kamervraagomschrijving"))
    if has_answers:
        kind = DocKind.ANSWERS
    elif notice:
        kind = DocKind.NOTICE
    elif items:
        kind = DocKind.QUESTIONS
    else:
        kind = DocKind.UNKNOWN
    anomalies += check_blocks(blocks, kind)
    return Document(doc_id, source, kind, meta, tuple(blocks), tuple(dict.fromkeys(anomalies)))
