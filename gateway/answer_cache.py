"""Rendered answers of the national dashboards, kept per gateway replica.

The desk map's layer is up to 5,000 points (about 1 MB of JSON): fetching it from
the checklist service, decoding it, dumping it through its view and gzipping it
costs far more than asking the checklist service for its read models' generation
(`checklist.read_models`: a new value in the transaction of every visit stored,
deleted or moved and every org-unit change). So a route keys its rendered answer
on (that generation, the caller's scope, every query parameter): the same key,
the same bytes. The first request after a change sees a new generation and
renders anew; freshness comes from the key, never from a time limit, and the
bound (`SIZE` entries, least recently used out) only caps memory.

The answer carries a weak ETag derived from the key; a client that sends it back
in `If-None-Match` gets 304 Not Modified. Weak: the gzipped and plain bodies are
different bytes of one answer. The gzipped body is kept too (gzip once per key,
`gateway.compression` leaves an answer with a Content-Encoding alone).
"""
from __future__ import annotations

import gzip
import hashlib
import json
from collections import OrderedDict

from gateway.compression import LEVEL, MIN_BYTES
from gateway.http import Rendered

SIZE = 24


class Entry:
    def __init__(self, key, body: dict):
        self.etag = 'W/"' + hashlib.sha256(repr(key).encode()).hexdigest()[:32] + '"'
        self.plain = json.dumps(body, ensure_ascii=False, default=str).encode("utf-8")
        self.gzipped = None

    def answer(self, request) -> Rendered:
        """The answer to `request`: 304 when it already holds it, else the body
        (gzipped when the client takes gzip)."""
        # Cache-Control stays the API's `no-store` (gateway.security): a client that
        # keeps the answer itself (the desk) sends the ETag back.
        headers = {"ETag": self.etag}
        if self.etag in request.headers.get("If-None-Match", ""):
            return Rendered(status=304, headers=headers)
        data = self.plain
        if len(data) >= MIN_BYTES and request.accept_encodings["gzip"]:
            if self.gzipped is None:
                self.gzipped = gzip.compress(data, compresslevel=LEVEL, mtime=0)
            data, headers["Content-Encoding"] = self.gzipped, "gzip"
        response = Rendered(data, status=200, headers=headers,
                            content_type="application/json; charset=utf-8")
        response.vary.add("Accept-Encoding")
        return response


class AnswerCache:
    def __init__(self, size: int = SIZE):
        self.size = size
        self.entries: OrderedDict = OrderedDict()

    def get(self, key):
        entry = self.entries.get(key)
        if entry is not None:
            self.entries.move_to_end(key)
        return entry

    def put(self, key, body: dict) -> Entry:
        entry = self.entries[key] = Entry(key, body)
        self.entries.move_to_end(key)
        while len(self.entries) > self.size:
            self.entries.popitem(last=False)
        return entry
