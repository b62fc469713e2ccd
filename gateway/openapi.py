"""API documents generated from the code: OpenAPI 3.1 of the HTTP API, AsyncAPI 2.6
of the events.

OpenAPI: every HTTP entrypoint of `GatewayService` is an operation (method,
path, path parameters come from the entrypoint itself); what it reads and
answers comes from the marshmallow schemas of `c2p.api` declared with `@route`
(put it above `@http`), converted by apispec's MarshmallowPlugin. The same
declaration drives the gateway (`gateway.http.GatewayHttp`), so the document
cannot drift from what is sent:

- `query`: the route's query-string schema (a `c2p.api.Query`; `PageQuery` for a
  list). An unknown parameter is a 400 naming it before the route runs; the
  route reads the loaded values as `request.query` (after checking its caller:
  a bad or missing value is a 422 naming it).
- `response`: the view of the 2xx body (`Page(ItemView)` for a paginated list:
  `{"total", "page", "per_page", "items": [ItemView]}`). The route returns the
  data (or `Reply(data, status=..., headers=...)`) and the gateway dumps it
  through this view; a JSON `Response` built by hand is refused. A route
  without a view does not start.
- `request`: the JSON body schema (a body not sent as JSON is a 415, documented
  on every route that declares one); `status`: the 2xx code(s), the first is the
  default; `errors`: problem+json statuses besides 401/403 (and 400/422);
  `upload=(media types)`: the body is a file of one of these types, sent as it
  is (not JSON); `public=True`: no bearer token needed; `media="text/html"` for an answer
  that is not JSON; `stream="text/event-stream"` for a streaming answer
  (generated tests skip it); `status=204` for no body.

For example::

    from c2p.api import Page
    from c2p.api.plans import NewAction, PlanFilters, PlanSummaryView, PlanView
    from gateway.http import API, Reply, http
    from gateway.openapi import route

    class PlanRoutes:
        @route(summary="Plans in the caller's area", query=PlanFilters,
               response=Page(PlanSummaryView), tags=["plans"])
        @http("GET", f"{API}/plans")
        def list_plans(self, request):
            return self.planner.list_plans(caller.as_rpc(), request.query)

        @route(summary="Add an action", request=NewAction, response=PlanView,
               status=(201, 200), errors=(404, 409), tags=["plans"])
        @http("POST", f"{API}/plans/<plan_id>/actions")
        def add_action(self, request, plan_id):
            ...
            return Reply(result["plan"], status=200 if result["replayed"] else 201)

`python -m gateway.openapi FILE` writes the document to FILE (the web app
generates its TypeScript client from it with openapi-typescript).

AsyncAPI: one channel per event type (the routing key on the `c2p.events`
topic exchange), its message the envelope with `data` as the JSON Schema of the
contract registered in `c2p.contracts`.
"""
from __future__ import annotations

import copy
import inspect
import json
import re
import sys
from functools import lru_cache

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from marshmallow import Schema, fields

from c2p.api import Page  # noqa: F401  (re-exported: routes declared `Page(View)` here)

OPENAPI_VERSION = "3.1.0"
API_VERSION = "1.0.0"
_DOCS: dict[str, dict] = {}

# Path parameters by name: what values make sense (generated tests use these).
UUID_PARAMS = {"submission_id", "plan_id", "action_id", "evidence_id", "review_id",
               "message_id", "webhook_id", "delivery_id"}
ID_PARAM_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$"

ERROR_TITLES = {400: "Bad request: an unknown or repeated query parameter",
                401: "No valid bearer token",
                403: "Refused to this caller (its role or scope): `errors` names what was "
                     "refused and why",
                404: "Not found (or outside the caller's scope)", 409: "Conflict",
                413: "Too large: `errors` names the body or file and the limit",
                415: "The body is not JSON: `errors` names the Content-Type header and "
                     "what is accepted (application/json or a +json type)",
                422: "Invalid input: `errors` names each field and reason",
                429: "Too many attempts: see Retry-After", 503: "A service did not answer"}


class ProblemField(Schema):
    field = fields.String(required=True, metadata={"description": (
        "what was refused: the dotted path of a body field or query parameter, a "
        "header (`Content-Type` in a 415), or in a 403 `role`, `scope` or the field of "
        "the object that rules the caller out (`facility_id`, `uploaded_by`, `coachees`)")})
    reason = fields.String(required=True, metadata={"description": (
        "why, as it always read: English, except that a 403, 413 and 415 say it in "
        "English then French, separated by `; `. Show `reason_en` or `reason_fr` to users")})
    # Always answered; not `required` so that a problem a client kept from an
    # older server (the web app's outbox) still fits the type.
    reason_en = fields.String(metadata={"description": (
        "why, in English (the field's reasons separated by `; `); always present")})
    reason_fr = fields.String(metadata={"description": (
        "why, in French (the field's reasons separated by `; `); the English when "
        "no French is known yet; always present")})


class Problem(Schema):
    """An error, as RFC 9457 application/problem+json."""
    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String(required=True, metadata={"description": "what went wrong, in English"})
    detail_fr = fields.String(metadata={"description": (  # always answered: see reason_en
        "`detail` in French: with `errors`, each field and its `reason_fr`; the English "
        "when no French is known yet; always present")})
    errors = fields.List(fields.Nested(ProblemField), metadata={"description": (
        "what was refused and why: in every 403, 413, 415 and 422, and in a 400 for a "
        "query parameter")})


def register(name: str, *, summary=None, description=None, request=None, query=None,
             response=None, status=200, errors=(), tags=(), public=False, stream=None,
             media=None, upload=()):
    """Declare what entrypoint `name` of GatewayService reads and answers."""
    statuses = tuple(status) if isinstance(status, (tuple, list)) else (status,)
    if request is not None and upload:
        raise TypeError(f"route {name}: a JSON body (request=) or a file (upload=), not both")
    if response is None and not (stream or media) and statuses != (204,):
        raise TypeError(f"route {name}: declare the view of its answer (response=...), "
                        "or media=/stream= for a non-JSON answer, or status=204")
    _DOCS[name] = {"summary": summary, "description": description, "request": request,
                   "query": query, "response": response, "status": statuses,
                   "errors": tuple(errors), "tags": list(tags), "public": public,
                   "stream": stream, "media": media, "upload": tuple(upload)}


def route(**doc):
    """Decorator form of `register`, keyed by the decorated method's name."""
    def mark(method):
        register(method.__name__, **doc)
        return method
    return mark


def documented(name: str) -> dict:
    return _DOCS.get(name, {})


# --- entrypoints of the service ---------------------------------------------

def http_routes(service_cls):
    """[(entrypoint name, HTTP method, werkzeug url)] of every HTTP entrypoint."""
    from nameko.web.handlers import HttpRequestHandler
    found = []
    for name, member in inspect.getmembers(service_cls, inspect.isfunction):
        for entrypoint in getattr(member, "nameko_entrypoints", ()):
            if isinstance(entrypoint, HttpRequestHandler):
                for method in entrypoint.method.split(","):
                    found.append((name, method.strip().upper(), entrypoint.url))
    return sorted(found, key=lambda r: (r[2], r[1]))


_RULE_PARAM = re.compile(r"<(?:(?P<converter>[a-zA-Z_]+)(?:\([^)]*\))?:)?(?P<name>[a-zA-Z_]+)>")


def openapi_path(url: str) -> tuple[str, list[tuple[str, str]]]:
    """werkzeug `/a/<int:x>/<y>` -> (`/a/{x}/{y}`, [(x, int), (y, default)])."""
    params = [(m["name"], m["converter"] or "default") for m in _RULE_PARAM.finditer(url)]
    return _RULE_PARAM.sub(lambda m: "{" + m["name"] + "}", url), params


def _path_parameter(name, converter):
    if converter == "int":
        schema = {"type": "integer", "minimum": 0}
    elif name in UUID_PARAMS:
        schema = {"type": "string", "format": "uuid"}
    elif converter == "path":
        schema = {"type": "string", "pattern": r"^[A-Za-z0-9._/-]{1,200}$"}
    else:
        schema = {"type": "string", "pattern": ID_PARAM_PATTERN}
    return {"name": name, "in": "path", "required": True, "schema": schema}


def _problem(description):
    return {"description": description,
            "content": {"application/problem+json": {"schema": "Problem"}}}


def _operation(name, method, params, service_cls, path=""):
    doc = documented(name)
    function = getattr(service_cls, name)
    docstring = inspect.getdoc(function) or ""
    summary = doc.get("summary") or (docstring.splitlines()[0] if docstring else
                                     name.replace("_", " ").capitalize())
    operation = {"operationId": name, "summary": summary,
                 "tags": doc.get("tags") or [_tag_of(function)],
                 "parameters": [_path_parameter(n, c) for n, c in params],
                 "responses": {}}
    description = doc.get("description") or (docstring if docstring != summary else None)
    if description:
        operation["description"] = description
    if doc.get("query") is not None:
        operation["parameters"].append({"in": "query", "schema": doc["query"]})
    has_body = method in ("POST", "PUT", "PATCH")
    if not doc:
        raise TypeError(f"route {name} is not declared: put @route(...) above its @http")
    if doc.get("request") is not None:
        operation["requestBody"] = {"required": True, "content": {
            "application/json": {"schema": doc["request"]}}}
    if doc.get("upload"):
        # OpenAPI 3.1: a file sent as the raw body is a media type without a schema.
        operation["requestBody"] = {"required": True, "description": "The file itself.",
                                    "content": {media: {} for media in doc["upload"]}}
    for status in doc["status"]:
        if doc.get("stream") or doc.get("media"):
            content = {doc.get("stream") or doc["media"]: {"schema": {"type": "string"}}}
        else:
            content = {"application/json": {"schema": doc["response"]}}
        if status == 204:
            operation["responses"]["204"] = {"description": "Done (no content)"}
            continue
        operation["responses"][str(status)] = {
            "description": "Created" if status == 201 else "Replayed" if
            status == 200 and 201 in doc.get("status", ()) else "OK", "content": content}
    errors = set(doc.get("errors", ()))
    if not doc.get("public"):
        errors |= {401, 403}
        operation["security"] = [{"bearerAuth": []}]
    else:
        operation["security"] = []
    if path.startswith("/api/v1/"):
        errors.add(400)  # an unknown query parameter, on every API route
    if doc.get("request") is not None:
        errors.add(415)  # a body not declared as JSON (gateway.http.read_json)
        errors.add(413)  # a body over gateway.http.MAX_JSON_BYTES (read_json)
    if params or has_body or doc.get("query") is not None:
        errors.add(422 if has_body or doc.get("query") is not None else 404)
    if not name.startswith(("api_docs", "web_app")) and name not in ("health", "openapi_document",
                                                         "asyncapi_document"):
        errors.add(503)
    for status in sorted(errors):
        operation["responses"][str(status)] = _problem(ERROR_TITLES.get(status, "Error"))
    if doc.get("stream"):
        operation["x-c2p-stream"] = True
    return operation


def _tag_of(function):
    module = function.__module__.rsplit(".", 1)[-1]
    return module if module != "service" else "gateway"


def build_openapi(service_cls) -> dict:
    """The OpenAPI 3.1 document of every HTTP entrypoint of `service_cls`."""
    spec = APISpec(
        title="C2P API", version=API_VERSION, openapi_version=OPENAPI_VERSION,
        plugins=[MarshmallowPlugin()],
        info={"description": (
            "The HTTP API of C2P (Coach2PEV): supportive supervision and coaching of "
            "immunization staff. JSON in UTF-8; errors as application/problem+json "
            "naming each field and reason; every list is paginated (`page`, "
            "`per_page`); what a phone creates offline carries a client-generated id, "
            "so a retried sync returns the original. Sign in at `POST /api/v1/auth/token` "
            "and send `Authorization: Bearer <access_token>`. Events: "
            "`/api/v1/asyncapi.json`.")},
        servers=[{"url": "/"}])
    spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer",
                                                   "bearerFormat": "JWT"})
    spec.components.schema("Problem", schema=Problem)
    paths: dict[str, dict] = {}
    for name, method, url in http_routes(service_cls):
        path, params = openapi_path(url)
        paths.setdefault(path, {})[method.lower()] = _operation(name, method, params,
                                                                service_cls, path)
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    return spec.to_dict()


# --- AsyncAPI -----------------------------------------------------------------

def _camel(event_type: str) -> str:
    return "".join(part.capitalize() for part in re.split(r"[._]", event_type))


@lru_cache(maxsize=1)
def build_asyncapi() -> dict:
    """The AsyncAPI 2.6 document of every event contract on the bus."""
    from c2p import topology
    from c2p.contracts import REGISTRY, EnvelopeSchema, latest_version

    plugin = MarshmallowPlugin()
    spec = APISpec(title="C2P events", version=API_VERSION, openapi_version=OPENAPI_VERSION,
                   plugins=[plugin])
    envelope = plugin.converter.schema2jsonschema(EnvelopeSchema)
    messages, channels, payloads = {}, {}, {}
    for (event_type, version), schema_cls in sorted(REGISTRY.items()):
        key = f"{event_type}.v{version}"
        data_name = f"{_camel(event_type)}V{version}Data"
        spec.components.schema(data_name, schema=schema_cls)
        payload = copy.deepcopy(envelope)
        payload["properties"]["type"] = {"type": "string", "const": event_type}
        payload["properties"]["version"] = {"type": "integer", "const": version}
        payload["properties"]["data"] = {"$ref": f"#/components/schemas/{data_name}"}
        payloads[key] = payload
        messages[key] = {
            "name": event_type, "title": f"{event_type} (version {version})",
            "summary": (inspect.getdoc(schema_cls) or event_type).splitlines()[0],
            "contentType": "application/json",
            "payload": {"$ref": f"#/components/schemas/{key}"},
            "bindings": {"amqp": {"messageType": event_type, "bindingVersion": "0.2.0"}},
        }
    for event_type in sorted({t for t, _ in REGISTRY}):
        versions = sorted(v for t, v in REGISTRY if t == event_type)
        refs = [{"$ref": f"#/components/messages/{event_type}.v{v}"} for v in versions]
        channels[event_type] = {
            "description": f"`{event_type}` events (newest version "
                           f"{latest_version(event_type)}), routing key `{event_type}` on "
                           f"the `{topology.EVENTS_EXCHANGE.name}` topic exchange. Bind "
                           "your own durable queue to it.",
            "bindings": {"amqp": {
                "is": "routingKey",
                "exchange": {"name": topology.EVENTS_EXCHANGE.name, "type": "topic",
                             "durable": True, "autoDelete": False, "vhost": "/"},
                "bindingVersion": "0.2.0"}},
            "subscribe": {"operationId": f"receive{_camel(event_type)}",
                          "summary": f"Receive {event_type}",
                          "message": refs[0] if len(refs) == 1 else {"oneOf": refs}},
        }
    schemas = spec.to_dict().get("components", {}).get("schemas", {})
    schemas.update(payloads)
    return {
        "asyncapi": "2.6.0",
        "id": "urn:c2p:events",
        "info": {"title": "C2P events", "version": API_VERSION, "description": (
            "Every fact C2P publishes, on the `c2p.events` topic exchange of RabbitMQ "
            "(routing key = event type). Each message is a JSON envelope (`id`, `type`, "
            "`version`, `occurred_at`, `source`, `correlation_id`, `data`); `data` "
            "follows the contract of its type and version. Delivery is at-least-once: "
            "deduplicate on `id`.")},
        "defaultContentType": "application/json",
        "servers": {"broker": {"url": "{host}:{port}", "protocol": "amqp",
                               "protocolVersion": "0.9.1",
                               "variables": {"host": {"default": "localhost"},
                                             "port": {"default": "5672"}}}},
        "channels": channels,
        "components": {"schemas": schemas, "messages": messages},
    }


# --- the document as a file -----------------------------------------------------

def write_openapi(path: str) -> dict:
    """Write the OpenAPI document of the gateway to `path` (JSON, UTF-8)."""
    from gateway.service import GatewayService
    document = build_openapi(GatewayService)
    with open(path, "w", encoding="utf-8") as out:
        json.dump(document, out, ensure_ascii=False, indent=2, sort_keys=False)
        out.write("\n")
    return document


def main(argv=None) -> int:
    """`python -m gateway.openapi FILE`: write the OpenAPI document to FILE."""
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m gateway.openapi FILE (e.g. web/openapi.json)", file=sys.stderr)
        return 2
    # Through the imported module: run as __main__, this file is a second copy
    # whose registry the routes never filled.
    from gateway import openapi
    document = openapi.write_openapi(argv[0])
    print(f"{argv[0]}: OpenAPI {document['openapi']}, {len(document['paths'])} paths")
    return 0


if __name__ == "__main__":
    sys.exit(main())
