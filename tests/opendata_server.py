"""A local stand-in for the Tweede Kamer OData service and officielebekendmakingen.nl.

A stdlib ``ThreadingHTTPServer`` on 127.0.0.1 (port 0) in a thread. It serves the fixture
pages of ``tests/data/opendata`` (see its README for what is real), files by path, and faults
on demand: per path a queue of actions used up one request at a time, then normal service.

Paths: ``/OData/v4/2.0/Document`` (the listing; the page is chosen by ``$skip``),
``/OData/v4/2.0/Document(<Id>)/resource``, ``/koop/<id>.xml``, ``/koop/<id>.pdf``. Absent
files answer 404; ``soft404`` answers a redirect to an error page, as
officielebekendmakingen.nl does.
"""

from __future__ import annotations

import copy
import io
import json
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

DATA = Path(__file__).resolve().parent / "data" / "opendata"
REAL_API = "https://gegevensmagazijn.tweedekamer.nl/OData/v4/2.0"
PDF_ID = "1bd47dc8-229e-4a1a-a405-8e2672436e1f"  # the record of nr. 1893 (see pdf_bytes)
XML_ID = "7b5e4f2a-0c1d-4e8b-9a63-2f1d8c4b5a01"  # nr. 2096, official XML published
DOCX_ID = "c3d2a1b0-5e6f-4a7b-8c9d-0e1f2a3b4c03"  # nr. 1178, a Word file
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XML_FILE = DATA.parent / "ah-tk-20232024-2096.xml"


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


def load_page(name: str) -> dict[str, Any]:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


@dataclass
class Seen:
    """One request as the server saw it."""

    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]


class FakeServices:
    """The two services, with fixture data loaded for a first full listing."""

    def __init__(self) -> None:
        self.docx = docx_bytes()
        self.pdf = pdf_bytes()
        self.listing: dict[str | None, dict[str, Any]] = {}
        self.files: dict[str, tuple[int, str, bytes]] = {}
        self.faults: dict[str, list[str]] = {}
        self.requests: list[Seen] = []
        self.arrived = threading.Event()  # set when a "hang" fault is reached
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.api_url = f"{self.base}/OData/v4/2.0"
        self.publications_url = f"{self.base}/koop"
        self.use_first_listing()
        self.put(f"/OData/v4/2.0/Document({PDF_ID})/resource", "application/pdf", self.pdf)
        self.put(f"/OData/v4/2.0/Document({DOCX_ID})/resource", DOCX_TYPE, self.docx)
        self.put("/koop/ah-tk-20232024-2096.xml", "application/xml", XML_FILE.read_bytes())
        self.put("/koop/fout404.html", "text/html",
                 b"<!DOCTYPE html><html><body>Pagina niet gevonden</body></html>")
        self.soft404("/koop/ah-tk-20232024-1893.xml")

    # -- set-up --------------------------------------------------------------------------

    def use_first_listing(self) -> None:
        """Serve page 1 (with a nextLink) and page 2 (the last)."""
        page1, page2 = load_page("odata-page-1.json"), load_page("odata-page-2.json")
        self._sizes(page1, page2)
        self.listing = {None: page1, "2": page2}

    def _sizes(self, *pages: dict[str, Any]) -> None:
        """The listing states the size of the files this server serves."""
        for page in pages:
            for entity in page["value"]:
                body = {DOCX_ID: self.docx, PDF_ID: self.pdf}.get(entity["Id"])
                if body is not None and entity.get("ContentLength") is not None:
                    entity["ContentLength"] = len(body)
                    entity["HuidigeDocumentVersie"]["Bestandsgrootte"] = len(body)

    def use_delta_listing(self) -> None:
        """Serve one page: document 1893 changed, the Word document deleted."""
        delta = load_page("odata-delta.json")
        self._sizes(delta)
        self.listing = {None: delta}

    def put(self, path: str, content_type: str, body: bytes, status: int = 200) -> None:
        self.files[path] = (status, content_type, body)

    def soft404(self, path: str) -> None:
        self.files[path] = (302, "/koop/fout404.html", b"")

    def fault(self, path: str, *actions: str) -> None:
        """Queue faults for a path: ``500``, ``429:<seconds>``, ``429-date:<seconds>``,
        ``slow:<seconds>``, ``truncate``, ``html``, ``reset``, ``hang``."""
        self.faults.setdefault(path, []).extend(actions)

    def count(self, path: str) -> int:
        return sum(1 for r in self.requests if r.path == path)

    def listing_requests(self) -> list[Seen]:
        return [r for r in self.requests if r.path == "/OData/v4/2.0/Document"]

    # -- life ----------------------------------------------------------------------------

    def __enter__(self) -> FakeServices:
        threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    # -- serving -------------------------------------------------------------------------

    def _page(self, query: dict[str, list[str]]) -> dict[str, Any]:
        skip = query.get("$skip", [None])[0]
        page = copy.deepcopy(self.listing[skip])
        if "@odata.nextLink" in page:
            page["@odata.nextLink"] = page["@odata.nextLink"].replace(REAL_API, self.api_url)
        return page

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
                    if path == "/OData/v4/2.0/Document":
                        body = json.dumps(services._page(query)).encode()
                        self._send(200, "application/json; odata.metadata=minimal", body)
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
                elif name == "hang":
                    services.arrived.set()
                    time.sleep(30)
                    self.close_connection = True
                elif name in ("truncate", "html", "reset"):
                    _, kind, body = services.files.get(path, (200, "", b""))
                    if path == "/OData/v4/2.0/Document":
                        body, kind = json.dumps(services._page({})).encode(), "application/json"
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
