"""A local stand-in for the Tweede Kamer OData service and officielebekendmakingen.nl.

A stdlib ``ThreadingHTTPServer`` on 127.0.0.1 (port 0) in a thread. It holds a small table
of ``Document`` entities (``tests/data/opendata/documents.json``, in the shape of recorded
responses; see the README there) and answers a listing the way the live service does: it
applies ``$filter`` and ``$orderby`` (:mod:`tests.odata_query`), serves
:attr:`FakeServices.page_size` rows a page (250, as the live service) with an absolute
``@odata.nextLink`` that pages by ``$skip`` and none when ``$top`` is given, and ``$count``.
Tests change the table between runs, or between two page requests (:meth:`FakeServices.after`),
as edits on the live service would.

Paths: ``/OData/v4/2.0/Document`` and ``/OData/v4/2.0/DocumentPublicatie`` (listings),
``/OData/v4/2.0/Document(<Id>)/resource``, ``/OData/v4/2.0/DocumentPublicatie(<Id>)/Resource``,
``/koop/<id>.xml``, ``/koop/<id>.pdf``. Absent files answer 404; ``soft404`` answers a
redirect to an error page, as officielebekendmakingen.nl does. Faults on demand: per path a
queue of actions used up one request at a time, then normal service.
"""

from __future__ import annotations

import copy
import io
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit
from zoneinfo import ZoneInfo

from tests.odata_query import BadQuery, parse_filter, sort_rows

DATA = Path(__file__).resolve().parent / "data" / "opendata"
ODATA = "/OData/v4/2.0"
PDF_ID = "1bd47dc8-229e-4a1a-a405-8e2672436e1f"  # nr. 1893: the real record's Id and Onderwerp
XML_ID = "7b5e4f2a-0c1d-4e8b-9a63-2f1d8c4b5a01"  # nr. 2096, official XML published
DOCX_ID = "c3d2a1b0-5e6f-4a7b-8c9d-0e1f2a3b4c03"  # nr. 1178, a Word file
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XML_FILE = DATA.parent / "ah-tk-20232024-2096.xml"
LISTINGS = (f"{ODATA}/Document", f"{ODATA}/DocumentPublicatie")


def timezone_nl() -> ZoneInfo:
    """Dutch time, in which the source system writes GewijzigdOp."""
    return ZoneInfo("Europe/Amsterdam")


def _ah(row: dict[str, Any]) -> str:
    """The publication id of an Aanhangselnummer (written out here, apart from rag)."""
    number = row["Aanhangselnummer"]
    return f"ah-tk-20{number[:2]}20{number[2:4]}-{int(number[4:])}"


def docx_bytes() -> bytes:
    """A small, valid Word answer document (invented text), made with python-docx."""
    import docx

    document = docx.Document()
    for text in [
        "Vragen van het lid De Vries (CDA) aan de Minister van Infrastructuur en Waterstaat "
        "over de verlichting van fietspaden langs provinciale wegen (ingezonden 20 augustus "
        "2024).",
        "Antwoord van Minister Jansen (Infrastructuur en Waterstaat) (ontvangen 10 september "
        "2024).",
        "Vraag 1",
        "Hoeveel kilometer fietspad langs provinciale wegen is 's nachts onverlicht?",
        "Antwoord 1",
        "Volgens de provincies is ongeveer 4.200 kilometer fietspad langs provinciale wegen "
        "onverlicht; dat is ruim de helft van het totaal.",
        "Vraag 2",
        "Bent u bereid met de provincies afspraken te maken over slimme verlichting die alleen "
        "brandt als er een fietser nadert?",
        "Antwoord 2",
        "Ja. In het Bestuurlijk Overleg Fiets spreek ik dit najaar met de provincies over "
        "dynamische verlichting met bewegingssensoren op drukke schoolroutes.",
    ]:
        document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


# Nr. 1893 in the layout of a printed Aanhangsel: the intro as the real document has it (the
# metadata the listing and the sidecar describe), the vragen and antwoorden in our own words.
_NR_1893 = """\
Tweede Kamer der Staten-Generaal
Aanhangsel van de Handelingen
Vragen gesteld door de leden der Kamer, met de daarop door de regering gegeven antwoorden
Vergaderjaar 2023-2024
1893
Vragen van het lid Klaver (GroenLinks-PvdA) aan de Minister van Buitenlandse Zaken over het
bericht dat Corendon Russische toeristen naar de zon blijft vliegen (ingezonden 18 april 2024).
Antwoord van Minister Bruins Slot (Buitenlandse Zaken) (ontvangen 3 juni 2024).
Vraag 1
Kent u het bericht dat reisorganisatie Corendon Russische toeristen naar de zon blijft vliegen?
Antwoord 1
Ja.
Vraag 2
Klopt het dat de sancties zulke vluchten verbieden?
Antwoord 2
Nee. De sancties verbieden Russische luchtvaartmaatschappijen het Europese luchtruim, niet het
vervoeren van Russische reizigers buiten de Europese Unie.
Vraag 3
Vindt u het onwenselijk dat een Nederlands bedrijf deze vluchten uitvoert?
Antwoord 3
Het kabinet roept bedrijven op om ook buiten de sancties hun verantwoordelijkheid te nemen.
Vraag 4
Wat verdient Corendon aan deze vluchten?
Antwoord 4
Het kabinet heeft daar geen inzicht in.
Vraag 5
Neemt u aanvullende maatregelen?
Antwoord 5
Het kabinet onderzoekt met de Europese partners voortdurend nieuwe sancties.
Vraag 6
Onderzoekt u welke bedrijven nog zaken doen met Rusland?
Antwoord 6
Bedrijven die aan de sanctieregels voldoen, mogen zaken blijven doen.
Vraag 7
Gaat u met Corendon in gesprek?
Antwoord 7
Het kabinet is in algemene zin voortdurend in gesprek met het bedrijfsleven over sancties.
"""


def pdf_bytes() -> bytes:
    """The PDF served for nr. 1893: a text PDF in the Aanhangsel layout, made here (the real
    file is part of ../shared, which the repository does not carry)."""
    import tempfile

    from tests.builders import write_pdf

    with tempfile.TemporaryDirectory() as tmp:
        return write_pdf(Path(tmp) / "nr-1893.pdf", _NR_1893.splitlines()).read_bytes()


def load_json(name: str) -> Any:
    """A fixture of ``tests/data/opendata``."""
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def real_rows() -> dict[str, dict[str, Any]]:
    """The recorded Document rows of ``real-documents.json`` by DocumentNummer (the deleted
    row, whose DocumentNummer is null, as ``"deleted"``)."""
    return {entry["row"]["DocumentNummer"] or "deleted": entry["row"]
            for entry in load_json("real-documents.json")}


def deleted_row(tk_id: str, gewijzigd_op: str, api_gewijzigd_op: str) -> dict[str, Any]:
    """A deleted Document as the service lists it: every field null but the key, the
    timestamps and ``Verwijderd`` (the shape of the recorded deleted row)."""
    row: dict[str, Any] = {key: None for key in real_rows()["deleted"]}
    row.update(Id=tk_id, GewijzigdOp=gewijzigd_op, ApiGewijzigdOp=api_gewijzigd_op,
               Verwijderd=True)
    return row


@dataclass
class Seen:
    """One request as the server saw it."""

    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]


class FakeServices:
    """The two services, with the three fixture documents in the table."""

    def __init__(self) -> None:
        self.docx = docx_bytes()
        self.pdf = pdf_bytes()
        self.page_size = 250
        self.documents: dict[str, dict[str, Any]] = {}
        self.files: dict[str, tuple[int, str, bytes]] = {}
        self.faults: dict[str, list[str]] = {}
        self.requests: list[Seen] = []
        self.hooks: dict[int, Callable[[], None]] = {}  # listing request number -> edit
        self.listed = 0  # listing requests answered
        self.clock = datetime(2024, 10, 1, 6, 0, tzinfo=UTC)  # the service's "now"
        self.arrived = threading.Event()  # set when a "hang" fault is reached
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.api_url = f"{self.base}{ODATA}"
        self.publications_url = f"{self.base}/koop"
        for row in load_json("documents.json"):
            self.documents[row["Id"]] = row
        self._serve(PDF_ID, "application/pdf", self.pdf)
        self._serve(DOCX_ID, DOCX_TYPE, self.docx)
        self.publish(XML_ID, "Xml", XML_FILE.read_bytes(), touch=False)
        self.put("/koop/fout404.html", "text/html",
                 b"<!DOCTYPE html><html><body>Pagina niet gevonden</body></html>")
        self.soft404("/koop/ah-tk-20232024-1893.xml")

    # -- the table -----------------------------------------------------------------------

    def _serve(self, tk_id: str, content_type: str, body: bytes) -> None:
        """Serve a document's file, and state its size as the service does (ContentLength
        in bytes; Bestandsgrootte in kB, as in the recorded rows)."""
        row = self.documents[tk_id]
        row["ContentType"], row["ContentLength"] = content_type, len(body)
        row["HuidigeDocumentVersie"]["Bestandsgrootte"] = round(len(body) / 1024)
        self.put(f"{ODATA}/Document({tk_id})/resource", content_type, body)

    def stamp(self) -> tuple[str, str]:
        """A new moment, later than any in the table: (GewijzigdOp as the source system
        writes it, ApiGewijzigdOp)."""
        latest = max(datetime.fromisoformat(row["ApiGewijzigdOp"][:26] + "+00:00")
                     for row in self.documents.values())
        self.clock = max(self.clock, latest) + timedelta(seconds=41, microseconds=123456)
        local = self.clock.astimezone(timezone_nl())
        return (local.isoformat(timespec="milliseconds"),
                self.clock.strftime("%Y-%m-%dT%H:%M:%S.%f") + "7Z")

    def touch(self, tk_id: str, gewijzigd_op: str | None = None, **fields: Any) -> None:
        """An edit: new field values, a new ApiGewijzigdOp (and GewijzigdOp)."""
        changed, visible = self.stamp()
        row = self.documents[tk_id]
        row.update(fields, GewijzigdOp=gewijzigd_op or changed, ApiGewijzigdOp=visible)

    def delete(self, tk_id: str) -> None:
        """The document is withdrawn: listed from now on as deleted."""
        self.documents[tk_id] = deleted_row(tk_id, *self.stamp())

    def clone(self, tk_id: str, new_id: str, **fields: Any) -> dict[str, Any]:
        """A new document made from a fixture one, visible from now."""
        row = copy.deepcopy(self.documents[tk_id])
        changed, visible = self.stamp()
        row.update(fields, Id=new_id, GewijzigdOp=changed, ApiGewijzigdOp=visible)
        self.documents[new_id] = row
        return row

    def publish(self, tk_id: str, kind: str, body: bytes, touch: bool = False) -> str:
        """A file of the official publication appears (``DocumentPublicatie``), served at
        ``DocumentPublicatie(<Id>)/Resource``; the Document itself is left as it is unless
        ``touch`` (the recorded data show both). Returns the publication's Id."""
        version = self.documents[tk_id]["HuidigeDocumentVersie"]
        publications = version["DocumentPublicatie"]
        found = next((p for p in publications if p["DocumentType"] == kind), None)
        if found is None:
            changed, visible = self.stamp()
            identifier = version["ExterneIdentifier"] or _ah(self.documents[tk_id])
            found = {"Id": f"e1f2a3b4-0000-4000-8000-{len(self.files):012d}",
                     "Identifier": identifier, "DocumentType": kind,
                     "FileName": f"{identifier}.{kind.lower()}", "Source": "Koop",
                     "ContentLength": None, "ContentType": f"application/{kind.lower()}",
                     "Url": None, "PublicatieDatum": changed, "GewijzigdOp": changed,
                     "ApiGewijzigdOp": visible, "Verwijderd": False,
                     "DocumentVersie_Id": version["Id"]}
            publications.append(found)
            version["ExterneIdentifier"] = identifier
        found["ContentLength"] = len(body)
        self.put(f"{ODATA}/DocumentPublicatie({found['Id']})/Resource",
                 found["ContentType"], body)
        if touch:
            self.touch(tk_id)
        return str(found["Id"])

    def apply_delta(self) -> None:
        """Document 1893 changed, the Word document deleted."""
        self.touch(PDF_ID, "2024-10-01T08:00:00+02:00")
        self.delete(DOCX_ID)

    def after(self, listing: int, edit: Callable[[], None]) -> None:
        """Run ``edit`` once the ``listing``-th listing request (counted from 1) is answered:
        the table changes between two page requests."""
        self.hooks[listing] = edit

    def put(self, path: str, content_type: str, body: bytes, status: int = 200) -> None:
        self.files[path] = (status, content_type, body)

    def soft404(self, path: str) -> None:
        self.files[path] = (302, "/koop/fout404.html", b"")

    def fault(self, path: str, *actions: str) -> None:
        """Queue faults for a path: ``500``, ``429:<seconds>``, ``429-date:<seconds>``,
        ``slow:<seconds>``, ``drip:<seconds>``, ``truncate``, ``html``, ``reset``, ``hang``."""
        self.faults.setdefault(path, []).extend(actions)

    def count(self, path: str) -> int:
        return sum(1 for r in self.requests if r.path == path)

    def listing_requests(self) -> list[Seen]:
        return [r for r in self.requests if r.path == f"{ODATA}/Document"]

    # -- life ----------------------------------------------------------------------------

    def __enter__(self) -> FakeServices:
        threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    # -- serving -------------------------------------------------------------------------

    def _table(self, path: str) -> list[dict[str, Any]]:
        if path == f"{ODATA}/Document":
            return list(self.documents.values())
        return [publication for row in self.documents.values()
                for publication in (row.get("HuidigeDocumentVersie") or {}).get(
                    "DocumentPublicatie", [])]

    def _listing(self, path: str, query: dict[str, list[str]]) -> dict[str, Any]:
        """A page of a listing, as the live service answers (see the module docstring)."""
        one = {key: values[-1] for key, values in query.items()}
        keep = parse_filter(one.get("$filter"))
        rows = sort_rows([r for r in self._table(path) if keep(r)], one.get("$orderby"))
        skip = int(one.get("$skip", 0))
        top = int(one["$top"]) if "$top" in one else None
        size = min(top, self.page_size) if top is not None else self.page_size
        page = copy.deepcopy(rows[skip:skip + size])
        if "$select" in one:
            fields = one["$select"].split(",")
            page = [{f: row.get(f) for f in fields} for row in page]
        entity_set = path.rsplit("/", 1)[-1]
        body: dict[str, Any] = {"@odata.context": f"{self.api_url}/$metadata#{entity_set}"}
        if one.get("$count") == "true":
            body["@odata.count"] = len(rows)
        body["value"] = page
        if top is None and skip + size < len(rows):
            body["@odata.nextLink"] = (f"{self.base}{path}?"
                                       + urlencode({**one, "$skip": skip + size}))
        return body

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        services = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                url = urlsplit(self.path)
                path = url.path
                query = parse_qs(url.query)
                with services.lock:
                    services.requests.append(Seen(path, query, dict(self.headers.items())))
                    queue = services.faults.get(path)
                    action = queue.pop(0) if queue else None
                try:
                    if action is not None and self._fault(action, path):
                        return
                    if path in LISTINGS:
                        self._list(path, query)
                    elif path in services.files:
                        status, kind, body = services.files[path]
                        if status == 302:
                            self.send_response(302)
                            self.send_header("Location", kind)
                            self.send_header("Content-Length", "0")
                            self.end_headers()
                        else:
                            self._send(status, kind, body)
                    else:
                        self._send(404, "text/html", b"<html><body>404</body></html>")
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def _list(self, path: str, query: dict[str, list[str]]) -> None:
                with services.lock:
                    try:
                        body = json.dumps(services._listing(path, query)).encode()
                    except BadQuery as exc:
                        error = {"error": {"code": "", "message": f"The query specified in "
                                           f"the URI is not valid. {exc}"}}
                        self._send(400, "application/json", json.dumps(error).encode())
                        return
                    if path == f"{ODATA}/Document":
                        services.listed += 1
                        edit = services.hooks.pop(services.listed, None)
                        if edit is not None:
                            edit()
                self._send(200, "application/json; odata.metadata=minimal", body)

            def _send(self, status: int, kind: str, body: bytes,
                      extra: dict[str, str] | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                for key, value in (extra or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(body)

            def _fault(self, action: str, path: str) -> bool:
                """Act out a fault; True when the request is answered by it."""
                name, _, arg = action.partition(":")
                if name == "500":
                    self._send(500, "text/html", b"<html>Internal Server Error</html>")
                elif name == "429":
                    self._send(429, "text/plain", b"slow down", {"Retry-After": arg})
                elif name == "429-date":
                    when = datetime.now(UTC) + timedelta(seconds=float(arg))
                    self._send(429, "text/plain", b"slow down",
                               {"Retry-After": format_datetime(when, usegmt=True)})
                elif name == "slow":
                    time.sleep(float(arg))
                    return False
                elif name == "drip":  # every byte in time, the whole far too late
                    _, kind, body = services.files[path]
                    self.send_response(200)
                    self.send_header("Content-Type", kind)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    stop = time.monotonic() + float(arg)
                    for at in range(0, len(body), 64):
                        self.wfile.write(body[at:at + 64])
                        self.wfile.flush()
                        if time.monotonic() > stop:
                            break
                        time.sleep(0.05)
                    self.close_connection = True
                elif name == "hang":
                    services.arrived.set()
                    time.sleep(30)
                    self.close_connection = True
                elif name in ("truncate", "html", "reset"):
                    _, kind, body = services.files.get(path, (200, "", b""))
                    if path in LISTINGS:
                        listing = services._listing(path, {})
                        body, kind = json.dumps(listing).encode(), "application/json"
                    if name == "html":
                        self._send(200, "text/html; charset=utf-8",
                                   b"<!DOCTYPE html>\n<html><head><title>Storing</title></head>"
                                   b"<body>Er is een fout opgetreden.</body></html>")
                        return True
                    self.send_response(200)
                    self.send_header("Content-Type", kind)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    if name == "truncate":
                        self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                else:
                    raise ValueError(f"unknown fault {action}")
                return True

        return Handler
