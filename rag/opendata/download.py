"""Which file to keep for a document, downloaded and verified (nothing is written here).

In order of preference, the first that arrives and passes :mod:`rag.opendata.verify`:

1. the official XML of officielebekendmakingen.nl (``<publications>/<id>.xml``): its
   structure and metadata are the most exact; not published for ``ah-1234567`` ids;
2. the Tweede Kamer's own file, ``<api>/Document(<Id>)/resource``: PDF or Word, by the
   entity's ``ContentType`` (a Word 97-2003 ``.doc`` cannot be read and is passed over);
3. the official PDF (``<publications>/<id>.pdf``).

Each failure is kept as a reason; when all fail the document fails with all of them.
"""

from __future__ import annotations

from dataclasses import dataclass

from rag.errors import FetchError
from rag.opendata import ids
from rag.opendata.entity import TkDocument
from rag.opendata.http import Client, HttpError, NotFound
from rag.opendata.verify import check_identity, suffix_for, verified
from rag.types import DocKind


@dataclass(frozen=True)
class Downloaded:
    """A verified file, ready to be written."""

    content: bytes
    suffix: str  # ".xml", ".pdf" or ".docx"
    source: str  # "koop-xml", "tk-resource" or "koop-pdf"
    url: str
    content_type: str
    kind: DocKind  # what the reader made of it


def resource_url(api_url: str, tk_id: str) -> str:
    """``<api>/Document(<Id>)/resource``: the Tweede Kamer's file of a document."""
    return f"{api_url.rstrip('/')}/Document({tk_id})/resource"


def download(client: Client, doc: TkDocument, api_url: str, publications_url: str) -> Downloaded:
    """The best available file of ``doc`` (see the module docstring); raises FetchError
    naming every attempt when none could be had."""
    doc_id = doc.doc_id
    if doc_id is None:
        raise FetchError("no Aanhangselnummer or publication id, so no file name")
    publication = doc.publication_id
    urls = ids.official_urls(publication, publications_url) if publication else None
    reasons: list[str] = []
    if urls and urls.xml:
        got = _attempt(client, urls.xml, ".xml", "koop-xml", doc_id, None, reasons,
                       identity=publication)
        if got:
            return got
    suffix = suffix_for(doc.content_type)
    if suffix in (".pdf", ".docx"):
        got = _attempt(client, resource_url(api_url, doc.id), suffix, "tk-resource", doc_id,
                       doc.content_length, reasons)
        if got:
            return got
    else:
        reasons.append(f"tk-resource: {doc.content_type or 'no ContentType'} is not a type "
                       "the reader can read")
    if urls:
        got = _attempt(client, urls.pdf, ".pdf", "koop-pdf", doc_id, None, reasons)
        if got:
            return got
    raise FetchError("; ".join(reasons))


def _attempt(client: Client, url: str, suffix: str, source: str, doc_id: str,
             size: int | None, reasons: list[str],
             identity: str | None = None) -> Downloaded | None:
    try:
        accept = {".xml": "application/xml", ".pdf": "application/pdf"}.get(suffix)
        response = client.get(url, accept=accept)
        if identity:
            check_identity(response.content, identity)
        parsed = verified(response.content, suffix, response.content_type, doc_id, size)
    except NotFound:
        reasons.append(f"{source}: not found")
        return None
    except (HttpError, FetchError) as exc:
        reasons.append(f"{source}: {exc}")
        return None
    return Downloaded(response.content, suffix, source, response.url, response.content_type,
                      parsed.kind)
