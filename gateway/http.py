"""JSON in and out, and every failure as application/problem+json, in one place
(large JSON answers gzipped, `gateway.compression`).

Every route's declaration (`gateway.openapi.route`) is applied here, for every
route alike: on API routes its query string is checked against its `query` schema before it
runs (an unknown or repeated parameter is a 400 naming it) and loaded when the
route reads `request.query` (a bad or missing value is a 422 naming it); what it
returns is dumped through its `response` view (the schema the OpenAPI document
shows), with its status and headers from `Reply`.
"""
from __future__ import annotations

import json
import logging
import socket
import sys
from dataclasses import dataclass, field
from functools import cached_property, lru_cache

from marshmallow import fields
from nameko import config
from nameko.exceptions import RemoteError, RpcTimeout
from nameko.web.server import WebServer, WsgiApp
from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.wrappers import Request, Response

from c2p import safejson
from c2p.api import Query, dump
from c2p.entrypoints import TransactionalHttp
from c2p.errors import (C2PError, Conflict, Forbidden, InvalidInput, NotFound,
                        PayloadTooLarge, ServiceUnavailable, Throttled, Unauthorized,
                        Unacceptable, UnknownParameter, UnsupportedMediaType, flatten_errors)
from c2p.objectstore import format_size
from c2p.reasons import french as reasons_fr
from c2p.validation import load
from gateway.auth import ROUTE_KEY
from gateway.compression import gzip_answer
from gateway.openapi import documented
from gateway.security import apply_security_headers

log = logging.getLogger(__name__)

API = "/api/v1"
MAX_JSON_BYTES = 2 * 1024 * 1024


def json_response(payload, status=200, headers=None) -> Response:
    return Response(json.dumps(payload, ensure_ascii=False, default=str), status=status,
                    headers=headers, content_type="application/json; charset=utf-8")


class Rendered(Response):
    """An answer a route already dumped through its declared view (a cached one,
    `gateway.answer_cache`): `render` passes it through as it is."""


def problem(status, title, detail, errors=None, paired=False) -> Response:
    """An application/problem+json answer. Each entry of `errors` keeps its
    `reason` as it always read, and says it in English and French
    (`reason_en`, `reason_fr`); `detail_fr` is the French of `detail`.
    `paired`: each field's reasons are written [English, French] already (a
    403, 413 or 415); otherwise they are English, translated by `c2p.reasons`.
    With `errors`, `detail` and `detail_fr` are theirs, field by field, each in
    one language (a paired refusal's own text joins both)."""
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    if errors:
        entries = []
        for name, reasons in flatten_errors(errors).items():
            reasons = [str(r) for r in reasons]
            english = reasons[0::2] if paired else reasons
            french = reasons[1::2] if paired else [_french(r) for r in reasons]
            entries.append({"field": name, "reason": _joined(reasons),
                            "reason_en": _joined(english),
                            "reason_fr": _joined(french, FRENCH_SEPARATOR)})
        body["errors"] = entries
        body["detail"] = "; ".join(f"{e['field']}: {e['reason_en']}" for e in entries)
        body["detail_fr"] = FRENCH_SEPARATOR.join(f"{e['field']} : {e['reason_fr']}"
                                                  for e in entries)
    else:
        body["detail_fr"] = _french(detail)
    return Response(json.dumps(body, ensure_ascii=False), status=status,
                    content_type="application/problem+json; charset=utf-8")


FRENCH_SEPARATOR = " ; "  # French typography: a space before the semicolon (and colon)


def _joined(reasons: list[str], separator: str = "; ") -> str:
    """One field's reasons in one text, without the full stop some end with
    before the separator ("Not a valid integer; must be between 0 and 10")."""
    return separator.join([r.rstrip(".") for r in reasons[:-1]] + reasons[-1:])


def _french(reason: str) -> str:
    """The French of an English reason, or the English itself when the catalogue
    has none: a warning, since every text a user reads must have its French
    (tests/unit/test_reasons.py finds those the code writes)."""
    if not isinstance(reason, str):  # e.g. an HTTPException without description
        return reason
    text = reasons_fr(reason)
    if text is None:
        log.warning("no French for the reason %r: add it to c2p.reasons", reason)
        return reason
    return text


JSON_MEDIA = "application/json"


def is_json(mimetype: str | None) -> bool:
    """`application/json` or a type with the `+json` suffix (RFC 6839, e.g.
    `application/merge-patch+json`), parameters such as `charset=utf-8` aside
    (werkzeug's `mimetype` has them stripped)."""
    mimetype = (mimetype or "").lower()
    return mimetype == JSON_MEDIA or mimetype.endswith("+json")


def check_json_media(request) -> None:
    """UnsupportedMediaType (415) unless the body is declared as JSON: a form,
    plain text or a body without Content-Type is not guessed at."""
    if is_json(request.mimetype):
        return
    accepted_en = f"send the body as JSON ({JSON_MEDIA} or a +json type)"
    accepted_fr = f"envoyez le corps en JSON ({JSON_MEDIA} ou un type +json)"
    sent = request.mimetype[:100]
    if sent:
        reasons = [f"{sent} is not accepted: {accepted_en}",
                   f"{sent} n'est pas accepté : {accepted_fr}"]
    else:
        reasons = [f"missing: {accepted_en}", f"absent : {accepted_fr}"]
    raise UnsupportedMediaType({"Content-Type": reasons})


def read_json(request) -> dict:
    """The request body as a JSON object, or InvalidInput saying why not.

    The one reader of JSON bodies (`c2p.safejson`): a body not declared as JSON
    is a 415 (`check_json_media`); too deep a nesting, and any text that cannot
    be stored (NUL, lone surrogates), are refused here with the field named,
    rather than failing deep in a service as a 500.
    """
    check_json_media(request)
    if request.content_length and request.content_length > MAX_JSON_BYTES:
        raise PayloadTooLarge("body", format_size(MAX_JSON_BYTES))
    raw = request.get_data(cache=False)
    try:
        body = safejson.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise InvalidInput({"body": ["must be UTF-8"]}) from None
    except safejson.TooDeep as exc:
        raise InvalidInput({"body": [str(exc)]}) from None
    except safejson.NotJson as exc:
        raise InvalidInput({"body": [str(exc)]}) from None
    if not isinstance(body, dict):
        raise InvalidInput({"body": ["must be a JSON object"]})
    problems = safejson.text_problems(body)
    if problems:
        raise InvalidInput(problems)
    return body


NUL_REASON = safejson.NUL_REASON


@dataclass
class Reply:
    """What a route answers when the status or headers are not the default ones;
    `body` is dumped through the route's declared view."""
    body: object
    status: int | None = None
    headers: dict = field(default_factory=dict)


def check_parameters(schema_cls, args) -> None:
    """UnknownParameter (400) naming each query parameter the route does not know,
    or that is given twice without being a list."""
    known = _known(schema_cls)
    takes = ", ".join(sorted(known)) or "none"
    refused = {key: [f"unknown query parameter (this route takes: {takes})"]
               for key in args.keys() if key not in known}
    refused.update({key: ["given more than once"] for key in args.keys()
                    if key in known and not isinstance(known[key], fields.List)
                    and len([v for v in args.getlist(key) if v != ""]) > 1})
    if refused:
        raise UnknownParameter(refused)


def load_query(schema_cls, args) -> dict:
    """The query string (a werkzeug MultiDict) loaded through `schema_cls`: an
    empty value counts as absent; a bad or missing one is InvalidInput (422)."""
    check_parameters(schema_cls, args)
    known = _known(schema_cls)
    data = {}
    for key in args.keys():
        values = [v for v in args.getlist(key) if v != ""]
        if isinstance(known[key], fields.List):
            data[key] = values
        elif values:
            data[key] = values[0]
    return load(_query_schema(schema_cls), data)


@lru_cache(maxsize=None)
def _query_schema(schema_cls):
    """One instance per query schema, as `view_of` (loading keeps no state in it)."""
    return (schema_cls or Query)()


@lru_cache(maxsize=None)
def _known(schema_cls) -> dict:
    schema = _query_schema(schema_cls)
    return {(f.data_key or name): f for name, f in schema.fields.items() if not f.dump_only}


@lru_cache(maxsize=None)
def view_of(view_cls):
    """One instance per view, reused by every answer: building a schema (and each of
    its nested ones, on first use) costs more than dumping a visit through it.
    Dumping keeps no state in the instance, so sharing it is safe."""
    return view_cls()


class GatewayRequest(Request):
    """A request whose `query` is its query string loaded through the route's
    declared schema. Unknown parameters are refused before the route runs
    (GatewayHttp); values are loaded when the route first reads `query`, after
    it has checked its caller, so a refused role gets its 403 before a 422."""

    @cached_property
    def query(self) -> dict:
        return load_query(documented(self.environ.get(ROUTE_KEY, "")).get("query"), self.args)


class _ProblemWsgiApp(WsgiApp):
    """nameko's WSGI app, but an unknown path or method is problem+json too, and
    every answer carries the security headers of `gateway.security`."""

    def __call__(self, environ, start_response):
        request = GatewayRequest(environ, shallow=True)
        adapter = self.url_map.bind_to_environ(environ)
        try:
            provider, values = adapter.match()
            request.path_values = values
            response = provider.handle_request(request)
        except HTTPException as exc:
            if exc.code is None or exc.code < 400:
                response = exc  # e.g. a redirect to the path with its slash
            else:
                response = problem(exc.code, exc.name, exc.description)
                if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
                    response.headers["Allow"] = ", ".join(sorted(exc.valid_methods))
        if isinstance(response, HTTPException):
            response = response.get_response(environ)
        apply_security_headers(response, request.path, config.get("C2P_SETTINGS"))
        gzip_answer(request, response)
        return response(environ, start_response)


class GatewayWebServer(WebServer):
    def get_wsgi_app(self):
        return _ProblemWsgiApp(self)

    def get_wsgi_server(self, sock, wsgi_app, **kwargs):
        # Answers go out as they are written, without Nagle's wait: an answer of a
        # little over one TCP segment otherwise waited for the client's delayed ACK
        # (40 ms on Linux) before its last bytes left. Accepted sockets inherit it.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return super().get_wsgi_server(sock, wsgi_app, **kwargs)


class GatewayHttp(TransactionalHttp):
    server = GatewayWebServer()

    def __init__(self, method, url, expected_exceptions=(C2PError,), **kwargs):
        # A refused caller is not a crash: logged as a warning, without traceback.
        super().__init__(method, url, expected_exceptions=expected_exceptions, **kwargs)

    def handle_request(self, request):
        # Which entrypoint this is, for the role check of `gateway.policy`
        # applied by `auth.caller(request)`.
        request.environ[ROUTE_KEY] = self.method_name
        nul = [f"query.{k}" for k, v in request.args.items(multi=True)
               if "\x00" in k or "\x00" in v]
        nul += [f"path.{k}" for k, v in (getattr(request, "path_values", None) or {}).items()
                if "\x00" in str(v)]
        if nul:
            status, title = ERROR_STATUS[InvalidInput]
            return problem(status, title, NUL_REASON, {k: [NUL_REASON] for k in nul})
        # API routes only: the web app's pages and files keep whatever query
        # string the browser-side app puts in its own URLs.
        if self.url.startswith(API):
            try:
                check_parameters(documented(self.method_name).get("query"), request.args)
            except InvalidInput as exc:
                return self.response_from_exception(exc)
        return super().handle_request(request)

    def setup(self):
        super().setup()
        if not documented(self.method_name):
            raise TypeError(f"route {self.method_name} is not declared: put "
                            "@route(...) (gateway.openapi) above its @http")
        settings = config.get("C2P_SETTINGS")
        self.strict_views = bool(getattr(settings, "strict_views", False))

    def handle_result(self, event, worker_ctx, result, exc_info):
        # Rendered in the worker, before the unit of work settles: an answer
        # that does not fit its view rolls the change back instead of
        # answering 500 after a commit.
        if exc_info is None:
            try:
                result = self.render(result)
            except Exception:
                result, exc_info = None, sys.exc_info()
        return super().handle_result(event, worker_ctx, result, exc_info)

    def render(self, result) -> Response:
        """The route's result as its declared status, view and headers."""
        doc = documented(self.method_name)
        if isinstance(result, Response):
            if doc.get("response") is not None and result.mimetype == "application/json" \
                    and not isinstance(result, Rendered):
                raise TypeError(f"route {self.method_name} built a JSON response itself: "
                                "return the data, the gateway dumps it through its view")
            return result
        reply = result if isinstance(result, Reply) else Reply(result)
        status = reply.status or doc["status"][0]
        if status not in doc["status"]:
            raise TypeError(f"route {self.method_name} answered {status}, declared "
                            f"{doc['status']}")
        if status == 204:
            return Response(status=204, headers=reply.headers)
        body = dump(view_of(doc["response"]), reply.body, strict=self.strict_views)
        return json_response(body, status=status, headers=reply.headers)

    def response_from_exception(self, exc):
        return error_response(exc)


# Which error answers which HTTP status, with which title: the one map, looked up
# along the error's class hierarchy. Anything not in it is a bug: a logged 500.
ERROR_STATUS = {
    UnknownParameter: (400, "Unknown query parameter"),
    UnsupportedMediaType: (415, "Unsupported media type"),
    PayloadTooLarge: (413, "Payload too large"),
    InvalidInput: (422, "Invalid input"),
    Unacceptable: (422, "Invalid input"),
    Unauthorized: (401, "Unauthorized"),
    Forbidden: (403, "Forbidden"),
    NotFound: (404, "Not found"),
    Conflict: (409, "Conflict"),
    Throttled: (429, "Too many requests"),
    ServiceUnavailable: (503, "Service unavailable"),
    RpcTimeout: (503, "Service unavailable"),
}

# Headers that tell a client what to do next.
ERROR_HEADERS = {
    Unauthorized: lambda exc: {"WWW-Authenticate": 'Bearer realm="c2p"'},
    Throttled: lambda exc: {"Retry-After": str(exc.retry_after)},
}


def _mapped(table, exc):
    return next((table[cls] for cls in type(exc).__mro__ if cls in table), None)


def error_response(exc) -> Response:
    """The problem+json answer to an exception raised while handling a request."""
    mapped = _mapped(ERROR_STATUS, exc)
    if mapped is not None:
        status, title = mapped
        if isinstance(exc, (InvalidInput, Forbidden)):  # PayloadTooLarge and 415 too
            # What was refused and why, field by field (a 403's too).
            response = problem(status, title, str(exc), exc.errors,
                               paired=exc.paired_reasons)
        elif isinstance(exc, RpcTimeout):
            response = problem(status, title, "a service did not answer in time")
        else:
            response = problem(status, title, str(exc.args[0]) if exc.args else title)
        headers = _mapped(ERROR_HEADERS, exc)
        response.headers.extend(headers(exc) if headers else {})
        return response
    if isinstance(exc, HTTPException):
        return problem(exc.code, exc.name, exc.description)
    if isinstance(exc, RemoteError):
        log.error("remote error: %s", exc)
    else:
        log.exception("unexpected error", exc_info=exc)
    return problem(500, "Internal error", "an unexpected error occurred")


http = GatewayHttp.decorator
