"""gzip for the API's answers, in one place (`gateway.http` applies it to every
answer): the national desk map is 824 KB of JSON, about a tenth of that gzipped,
which on a district office's 3G is seconds rather than a minute.

Compressed: JSON (`application/json`, `application/*+json`) and CSV answers of
at least `MIN_BYTES`, when the client sends `Accept-Encoding: gzip`. Never: a
streamed answer (the SSE stream, which must reach the client event by event),
one already encoded (the app's own files come gzipped from `routes.app`), or
any other type (evidence JPEG/PDF, already compressed). Every answer of a
compressible type says `Vary: Accept-Encoding`, compressed or not, so a cache
never hands a gzipped body to a client that did not ask for one. The gateway
sets ETags only on the answers `gateway.answer_cache` keeps, weak ones (a strong
ETag names exact bytes, and a compressed answer is other bytes).

`LEVEL` 5: measured on the national map answer (`bench/` desk view), level 1
already reaches most of the gain and 9 costs several times the CPU of 5 for a
percent or two; see gateway/README.md for the figures.
"""
from __future__ import annotations

import gzip

MIN_BYTES = 1024
LEVEL = 5
_TYPES = ("application/json", "application/problem+json", "text/csv")


def compressible(mimetype: str) -> bool:
    return mimetype in _TYPES or (mimetype.startswith("application/")
                                  and mimetype.endswith("+json"))


def gzip_answer(request, response) -> None:
    """Compress `response` in place if it is worth it and the client takes gzip."""
    if response.is_streamed or response.direct_passthrough:
        return
    if not compressible(response.mimetype or ""):
        return
    response.vary.add("Accept-Encoding")
    if "Content-Encoding" in response.headers or request.method == "HEAD":
        return
    if response.status_code < 200 or response.status_code in (204, 206, 304):
        return
    if not request.accept_encodings["gzip"]:
        return
    body = response.get_data()
    if len(body) < MIN_BYTES:
        return
    response.set_data(gzip.compress(body, compresslevel=LEVEL, mtime=0))
    response.headers["Content-Encoding"] = "gzip"
