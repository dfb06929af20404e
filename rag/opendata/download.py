"""Which file to take for a document, downloaded and verified (nothing is written here).

In order of preference, the first that arrives and passes :mod:`rag.opendata.verify`:

1. the official XML: its structure and metadata are the most exact. When the listing names
   the publication's files (``HuidigeDocumentVersie/DocumentPublicatie``), the XML is taken
   from the Tweede Kamer, ``<api>/DocumentPublicatie(<Id>)/Resource`` (the endpoint
   ``tommyvanderwal/motiematcher`` downloads official XML from; ``Resource`` is a bound
   function of ``DocumentPublicatie`` in ``$metadata``), and only when one is listed: a
   document without one costs no request. When the listing does not name them (a service
   or mirror that does not expand them), officielebekendmakingen.nl is asked
   (``<publications>/<id>.xml``; not published for ``ah-1234567`` ids);
2. the Tweede Kamer's own file, ``<api>/Document(<Id>)/resource``: PDF or Word, by the
   entity's ``ContentType`` (a Word 97-2003 ``.doc`` cannot be read and is passed over);
3. the official PDF: the listed ``DocumentPublicatie`` of type Pdf, or, when the listing
   names no files, ``<publications>/<id>.pdf``.

Each failure is kept as a reason; when all fail the document fails with all of them. When
the listing itself rules every file out (no name to store it under; nothing of a readable
type), that is :class:`CannotFetch`: trying again cannot help until the record changes.
"""

from __future__ import annotations

from dataclasses import dataclass

from rag.errors import FetchError
from rag.opendata import ids
from rag.opendata.entity import Publication, TkDocument
from rag.opendata.http import Client, HttpError, NotFound
from rag.opendata.verify import DOCX_TYPE, check_identity, suffix_for, verified
from rag.types import DocKind

XML_SOURCES = ("tk-xml", "koop-xml")
_ACCEPT = {".xml": "application/xml", ".pdf": "application/pdf", ".docx": DOCX_TYPE}


class CannotFetch(FetchError):
    """The document, as listed, yields no file fetch can store (see the module docstring)."""


@dataclass(frozen=True)
class Downloaded:
    """A verified file, ready to be written."""

    content: bytes
    suffix: str  # ".xml", ".pdf" or ".docx"
    source: str  # "tk-xml", "koop-xml", "tk-resource", "tk-pdf" or "koop-pdf"
    url: str
    content_type: str
    kind: DocKind  # what the reader made of it


@dataclass(frozen=True)
class _Source:
    """Where one candidate file comes from, and what it must be."""

    url: str
    suffix: str
    name: str  # the Downloaded.source it becomes
    size: int | None = None  # bytes, as listed
    identity: str | None = None  # the publication an official XML must name


def resource_url(api_url: str, tk_id: str) -> str:
    """``<api>/Document(<Id>)/resource``: the Tweede Kamer's file of a document."""
    return f"{api_url.rstrip('/')}/Document({tk_id})/resource"


def publication_url(api_url: str, publication: Publication) -> str:
    """``<api>/DocumentPublicatie(<Id>)/Resource``: a file of the official publication."""
    return f"{api_url.rstrip('/')}/DocumentPublicatie({publication.id})/Resource"


def download(client: Client, doc: TkDocument, api_url: str, publications_url: str) -> Downloaded:
    """The best available file of ``doc`` (see the module docstring); raises FetchError
    naming every attempt when none could be had, :class:`CannotFetch` when none can be."""
    doc_id = doc.doc_id
    if doc_id is None:
        raise CannotFetch("no Aanhangselnummer and no publication id, so no file name")
    publication = doc.publication_id
    listed = doc.publications is not None
    koop = ids.official_urls(publication, publications_url) if publication and not listed \
        else None
    reasons: list[str] = []
    sources: list[_Source] = []
    if xml := doc.publication("xml"):
        sources.append(_Source(publication_url(api_url, xml), ".xml", "tk-xml",
                               xml.content_length, xml.identifier or publication))
    elif koop and koop.xml:
        sources.append(_Source(koop.xml, ".xml", "koop-xml", identity=publication))
    suffix = suffix_for(doc.content_type)
    if suffix in (".pdf", ".docx"):
        sources.append(_Source(resource_url(api_url, doc.id), suffix, "tk-resource",
                               doc.content_length))
    else:
        reasons.append(f"tk-resource: {doc.content_type or 'no ContentType'} is not a type "
                       "the reader can read")
    if pdf := doc.publication("pdf"):
        sources.append(_Source(publication_url(api_url, pdf), ".pdf", "tk-pdf",
                               pdf.content_length))
    elif koop:
        sources.append(_Source(koop.pdf, ".pdf", "koop-pdf"))
    if not sources:
        raise CannotFetch("; ".join([*reasons, "no official publication listed"]))
    for source in sources:
        if got := _attempt(client, source, doc_id, reasons):
            return got
    raise FetchError("; ".join(reasons))


def _attempt(client: Client, source: _Source, doc_id: str,
             reasons: list[str]) -> Downloaded | None:
    try:
        response = client.get(source.url, accept=_ACCEPT.get(source.suffix))
        if source.identity:
            check_identity(response.content, source.identity)
        parsed = verified(response.content, source.suffix, response.content_type, doc_id,
                          source.size)
    except NotFound:
        reasons.append(f"{source.name}: not found")
        return None
    except (HttpError, FetchError) as exc:
        reasons.append(f"{source.name}: {exc}")
        return None
    return Downloaded(response.content, source.suffix, source.name, response.url,
                      response.content_type, parsed.kind)
