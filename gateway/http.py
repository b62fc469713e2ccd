"""JSON in and out, and every failure as application/problem+json, in one place."""
from __future__ import annotations

import json
import logging

from nameko import config
from nameko.exceptions import RemoteError, RpcTimeout
from nameko.web.server import WebServer, WsgiApp
from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.wrappers import Request, Response

from c2p import safejson
from c2p.entrypoints import TransactionalHttp
from c2p.errors import C2PError, InvalidInput, flatten_errors
from gateway.auth import ROUTE_KEY, Throttled, Unauthorized
from gateway.security import apply_security_headers

log = logging.getLogger(__name__)

API = "/api/v1"
MAX_JSON_BYTES = 2 * 1024 * 1024


def json_response(payload, status=200, headers=None) -> Response:
    return Response(json.dumps(payload, ensure_ascii=False, default=str), status=status,
                    headers=headers, content_type="application/json; charset=utf-8")


def problem(status, title, detail, errors=None) -> Response:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    if errors:
        body["errors"] = [{"field": field, "reason": "; ".join(reasons)}
                          for field, reasons in flatten_errors(errors).items()]
    return Response(json.dumps(body, ensure_ascii=False), status=status,
                    content_type="application/problem+json; charset=utf-8")


def read_json(request) -> dict:
    """The request body as a JSON object, or InvalidInput saying why not.

    The one reader of JSON bodies (`c2p.safejson`): too deep a nesting, and any
    text that cannot be stored (NUL, lone surrogates), are refused here with the
    field named, rather than failing deep in a service as a 500.
    """
    if request.content_length and request.content_length > MAX_JSON_BYTES:
        raise InvalidInput({"body": [f"larger than {MAX_JSON_BYTES} bytes"]})
    raw = request.get_data(cache=False)
    try:
        body = safejson.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise InvalidInput({"body": ["must be UTF-8"]}) from None
    except safejson.TooDeep as exc:
        raise InvalidInput({"body": [str(exc)]}) from None
    except ValueError as exc:
        raise InvalidInput({"body": [f"not valid JSON: {exc}"]}) from None
    if not isinstance(body, dict):
        raise InvalidInput({"body": ["must be a JSON object"]})
    problems = safejson.text_problems(body)
    if problems:
        raise InvalidInput(problems)
    return body


NUL_REASON = safejson.NUL_REASON


def page_params(request) -> tuple[int, int]:
    """`page` (from 1) and `per_page` (1..100) from the query string."""
    errors = {}
    values = {}
    for name, default, low, high in (("page", 1, 1, 100000), ("per_page", 20, 1, 100)):
        raw = request.args.get(name, default)
        try:
            values[name] = int(raw)
        except (TypeError, ValueError):
            errors[name] = [f"must be an integer, got {raw!r}"]
            continue
        if not low <= values[name] <= high:
            errors[name] = [f"must be between {low} and {high}"]
    if errors:
        raise InvalidInput(errors)
    return values["page"], values["per_page"]


class _ProblemWsgiApp(WsgiApp):
    """nameko's WSGI app, but an unknown path or method is problem+json too, and
    every answer carries the security headers of `gateway.security`."""

    def __call__(self, environ, start_response):
        request = Request(environ, shallow=True)
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
        return response(environ, start_response)


class GatewayWebServer(WebServer):
    def get_wsgi_app(self):
        return _ProblemWsgiApp(self)


class GatewayHttp(TransactionalHttp):
    server = GatewayWebServer()

    def __init__(self, method, url, expected_exceptions=(C2PError, Unauthorized, Throttled),
                 **kwargs):
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
            return problem(422, InvalidInput.title, NUL_REASON, {k: [NUL_REASON] for k in nul})
        return super().handle_request(request)

    def response_from_exception(self, exc):
        if isinstance(exc, InvalidInput):
            return problem(exc.status, exc.title, str(exc), exc.errors)
        if isinstance(exc, C2PError):
            return problem(exc.status, exc.title, str(exc.args[0]) if exc.args else exc.title)
        if isinstance(exc, Unauthorized):
            response = problem(401, "Unauthorized", str(exc))
            response.headers["WWW-Authenticate"] = 'Bearer realm="c2p"'
            return response
        if isinstance(exc, Throttled):
            response = problem(429, "Too many requests", str(exc))
            response.headers["Retry-After"] = str(exc.retry_after)
            return response
        if isinstance(exc, HTTPException):
            return problem(exc.code, exc.name, exc.description)
        if isinstance(exc, RpcTimeout):
            return problem(503, "Service unavailable", "a service did not answer in time")
        if isinstance(exc, RemoteError):
            log.error("remote error: %s", exc)
        else:
            log.exception("unexpected error", exc_info=exc)
        return problem(500, "Internal error", "an unexpected error occurred")


http = GatewayHttp.decorator
