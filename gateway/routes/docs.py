"""The API's documentation, generated from the code and served by the gateway
itself: OpenAPI 3.1, AsyncAPI 2.6, and an interactive viewer (Swagger UI,
vendored in gateway/static/, so it works with no Internet)."""
from __future__ import annotations

from pathlib import Path

from werkzeug.wrappers import Response

from c2p.api.docs import AsyncApiDocument, OpenApiDocument
from c2p.errors import NotFound
from gateway.http import API, http
from gateway.openapi import build_asyncapi, build_openapi, route

STATIC = Path(__file__).resolve().parent.parent / "static"
ASSETS = {"swagger-ui-bundle.js": "text/javascript; charset=utf-8",
          "swagger-ui.css": "text/css; charset=utf-8",
          "c2p-docs.js": "text/javascript; charset=utf-8",
          "favicon-32x32.png": "image/png",
          "LICENSE": "text/plain; charset=utf-8"}
_documents: dict = {}


class DocsRoutes:
    @route(summary="This document (OpenAPI 3.1)", response=OpenApiDocument, public=True,
           tags=["documentation"])
    @http("GET", f"{API}/openapi.json")
    def openapi_document(self, request):
        service_cls = type(self)
        if service_cls not in _documents:
            _documents[service_cls] = build_openapi(service_cls)
        return _documents[service_cls]

    @route(summary="The events on the bus (AsyncAPI 2.6)", response=AsyncApiDocument,
           public=True, tags=["documentation"])
    @http("GET", f"{API}/asyncapi.json")
    def asyncapi_document(self, request):
        return build_asyncapi()

    @route(summary="Interactive API documentation (HTML)", public=True,
           media="text/html", tags=["documentation"])
    @http("GET", "/api/docs")
    def api_docs(self, request):
        return Response((STATIC / "docs.html").read_bytes(),
                        content_type="text/html; charset=utf-8")

    @route(summary="Files of the documentation viewer", public=True, errors=(404,),
           media="application/octet-stream", tags=["documentation"])
    @http("GET", "/api/docs/<asset>")
    def api_docs_asset(self, request, asset):
        if asset not in ASSETS:
            raise NotFound(f"no file {asset}")
        return Response((STATIC / "swagger-ui" / asset).read_bytes(),
                        content_type=ASSETS[asset],
                        headers={"Cache-Control": "public, max-age=86400"})
