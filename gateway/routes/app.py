"""The web app (web/, built by Vite into web/dist) served by the gateway at `/`.

The app is one HTML page that routes in the browser, so a reload on
`/visits/abc` must answer that page too (SPA fallback). To keep the API's own
404/405 answers intact (problem+json, never the app's HTML), the fallback only
covers the app's top-level sections (`SECTIONS`); a new screen goes under one
of them (the desk view lives under `/desk/...`). Hashed build files are
cached for a year; the page itself and the service worker are revalidated on
every load, so a new build reaches phones at their next online start. Text files
go gzip-compressed to browsers that accept it (compressed once per build file and
kept in memory): on 2G/3G the first load is a third of its raw size.
"""
from __future__ import annotations

import gzip
import mimetypes
from functools import lru_cache
from pathlib import Path

from werkzeug.security import safe_join
from werkzeug.wrappers import Response

from c2p.config import load_settings
from c2p.errors import NotFound
from gateway.http import http
from gateway.openapi import route

REPO_DIST = Path(__file__).resolve().parents[2] / "web" / "dist"
# Top-level paths of the app's screens (web/src/routes.ts): reloading one of
# them, or a path below it, answers the app's page.
SECTIONS = ("sign-in", "visits", "facilities", "plans", "evidence", "inbox", "sync",
            "settings", "desk")
_SECTIONS_RULE = ",".join(f"'{section}'" for section in SECTIONS)
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
TAGS = ["app"]
COMPRESSIBLE = (".js", ".css", ".html", ".webmanifest", ".json", ".svg", ".txt")


def web_dist() -> Path:
    configured = load_settings().web_dist
    return Path(configured) if configured else REPO_DIST


@lru_cache(maxsize=128)
def _gzipped(path: str, mtime: float) -> bytes:
    return gzip.compress(Path(path).read_bytes(), compresslevel=9, mtime=0)


def _file(relative: str, cache: str, request=None) -> Response:
    root = web_dist()
    # No hidden files and no climbing (`..`), whatever the URL decoding did.
    hidden = any(part.startswith(".") for part in relative.split("/"))
    path = None if hidden else safe_join(str(root), relative)
    if path is None or not Path(path).is_file():
        raise NotFound(f"no file {relative}")
    kind = mimetypes.guess_type(path)[0] or "application/octet-stream"
    if kind.startswith("text/") or kind in ("application/javascript", "text/javascript",
                                            "application/json", "application/manifest+json"):
        kind += "; charset=utf-8"
    if relative.endswith(".webmanifest"):
        kind = "application/manifest+json; charset=utf-8"
    headers = {"Cache-Control": cache}
    if relative.endswith(COMPRESSIBLE):
        headers["Vary"] = "Accept-Encoding"
        if request is not None and request.accept_encodings["gzip"]:
            headers["Content-Encoding"] = "gzip"
            return Response(_gzipped(path, Path(path).stat().st_mtime), content_type=kind,
                            headers=headers)
    return Response(Path(path).read_bytes(), content_type=kind, headers=headers)


def _page(request=None) -> Response:
    try:
        return _file("index.html", REVALIDATE, request)
    except NotFound:
        raise NotFound("the web app is not built: run `npm ci && npm run build` in web/ "
                       "(./c2pctl up does it)") from None


class AppRoutes:
    @route(summary="The web app (HTML page)", public=True, media="text/html", errors=(404,),
           tags=TAGS)
    @http("GET", "/")
    def web_app(self, request):
        return _page(request)

    @route(summary="A file of the web app at its root (service worker, manifest, icons), "
                   "or the app's page for one of its sections", public=True,
           media="application/octet-stream", errors=(404,), tags=TAGS)
    @http("GET", "/<name>")
    def web_app_root(self, request, name):
        if name in SECTIONS:
            return _page(request)
        if name == "index.html":
            return _page(request)
        # sw.js, registerSW.js and the manifest must be fresh; workbox-<hash>.js is hashed.
        cache = IMMUTABLE if name.startswith("workbox-") else REVALIDATE
        return _file(name, cache, request)

    @route(summary="A built file of the web app (hashed name, cached for a year)",
           public=True, media="application/octet-stream", errors=(404,), tags=TAGS)
    @http("GET", "/assets/<asset>")
    def web_app_asset(self, request, asset):
        return _file(f"assets/{asset}", IMMUTABLE, request)

    @route(summary="The web app's page for a screen below one of its sections", public=True,
           media="text/html", errors=(404,), tags=TAGS)
    @http("GET", f"/<any({_SECTIONS_RULE}):section>/<path:rest>")
    def web_app_screen(self, request, section, rest):
        return _page(request)
