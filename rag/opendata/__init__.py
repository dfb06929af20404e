"""The official open data as a corpus source: `rag fetch` and `rag sync`.

One module per concern, each usable on its own:

- :mod:`.ids`       Aanhangsel numbers <-> publication ids, and the official URLs (pure);
- :mod:`.moments`   the service's timestamps in one exact form; days in Dutch time;
- :mod:`.http`      a polite HTTP client: User-Agent, rate limit per host, timeouts, retries;
- :mod:`.entity`    a Tweede Kamer ``Document`` entity as a typed record;
- :mod:`.keyset`    listing an entity set by value on ``ApiGewijzigdOp``, never by position;
- :mod:`.odata`     the queries: the listing, documents by Id, official XML files listed;
- :mod:`.verify`    is a downloaded file what it claims to be, and does it parse;
- :mod:`.download`  which file to take for a document (official XML, TK file, official PDF);
- :mod:`.store`     the folder layout and all-or-nothing file writes;
- :mod:`.state`     what fetch wrote, the delta cursor, recovery after a crash;
- :mod:`.sidecar`   writing the ``<id>.meta.json`` beside each file (read by `rag.ingest.sidecar`);
- :mod:`.fetch`     the run itself: list, compare, download, write, delete;
- :mod:`.commands`  the `rag fetch` and `rag sync` commands.

Importing this package imports nothing heavy; :mod:`.ids` depends on the standard library,
the core of :mod:`rag` and the id patterns of :mod:`rag.ingest.patterns` only.
"""
