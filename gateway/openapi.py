"""API documents generated from the code: OpenAPI 3.1 of the HTTP API, AsyncAPI 2.6
of the events.

OpenAPI: every HTTP entrypoint of `GatewayService` is an operation (method,
path, path parameters come from the entrypoint itself); what it reads and
answers comes from marshmallow schemas declared in this registry, converted by
apispec's MarshmallowPlugin. An entrypoint with no declaration is still
documented (any JSON object in and out), so nothing is ever missing.

How a route module declares its schemas (put `@route` above `@http`)::

    from gateway.openapi import Page, route

    class PlanRoutes:
        @route(summary="Plans in the caller's area", query=PlanQuery,
               response=Page(PlanView), tags=["plans"])
        @http("GET", f"{API}/plans")
        def list_plans(self, request): ...

        @route(summary="Add an action", request=NewAction, response=PlanView,
               status=(201, 200), errors=(404, 409), tags=["plans"])
        @http("POST", f"{API}/plans/<plan_id>/actions")
        def add_action(self, request, plan_id): ...

- `request`: the JSON body schema; `query`: a schema of query parameters;
- `response`: the 2xx body schema (`Page(Item)` for a paginated list:
  `{"total", "page", "per_page", "items": [Item]}`); `status`: its code(s);
- `errors`: problem+json statuses besides 401/403 (and 422 when there is input);
- `public=True`: no bearer token needed; `media="text/html"` for an answer
  that is not JSON; `stream="text/event-stream"` for a streaming answer
  (generated tests skip it).

Or, without touching the route module: `register("list_plans", summary=...)`.
Routes owned elsewhere are registered that way in `_register_known_routes`.

AsyncAPI: one channel per event type (the routing key on the `c2p.events`
topic exchange), its message the envelope with `data` as the JSON Schema of the
contract registered in `c2p.contracts`.
"""
from __future__ import annotations

import copy
import importlib
import inspect
import re
from functools import lru_cache

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from marshmallow import Schema, fields

OPENAPI_VERSION = "3.1.0"
API_VERSION = "1.0.0"
_DOCS: dict[str, dict] = {}
_PAGES: dict[type, type] = {}

# Path parameters by name: what values make sense (generated tests use these).
UUID_PARAMS = {"submission_id", "plan_id", "action_id", "evidence_id", "review_id",
               "message_id", "webhook_id", "delivery_id"}
ID_PARAM_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$"

ERROR_TITLES = {400: "Bad request", 401: "No valid bearer token", 403: "Role not allowed",
                404: "Not found (or outside the caller's scope)", 409: "Conflict",
                413: "Too large", 422: "Invalid input: `errors` names each field and reason",
                429: "Too many attempts: see Retry-After", 503: "A service did not answer"}


class ProblemField(Schema):
    field = fields.String(required=True, metadata={"description": "dotted path of the field"})
    reason = fields.String(required=True)


class Problem(Schema):
    """An error, as RFC 9457 application/problem+json."""
    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String(required=True)
    errors = fields.List(fields.Nested(ProblemField))


def Page(item: type[Schema]) -> type[Schema]:  # noqa: N802  (reads as a type)
    """The schema of one page of a list of `item`."""
    if item not in _PAGES:
        _PAGES[item] = type(f"{item.__name__.removesuffix('Schema')}Page", (Schema,), {
            "total": fields.Integer(required=True,
                                    metadata={"description": "items matching, all pages"}),
            "page": fields.Integer(required=True),
            "per_page": fields.Integer(required=True),
            "items": fields.List(fields.Nested(item), required=True),
            "__doc__": f"One page of {item.__name__} (`page` from 1, `per_page` 1-100).",
        })
    return _PAGES[item]


def register(name: str, *, summary=None, description=None, request=None, query=None,
             response=None, status=200, errors=(), tags=(), public=False, stream=None,
             media=None):
    """Declare what entrypoint `name` of GatewayService reads and answers."""
    _DOCS[name] = {"summary": summary, "description": description, "request": request,
                   "query": query, "response": response,
                   "status": status if isinstance(status, (tuple, list)) else (status,),
                   "errors": tuple(errors), "tags": list(tags), "public": public,
                   "stream": stream, "media": media}


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


def _operation(name, method, params, service_cls):
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
    if doc.get("request") is not None:
        operation["requestBody"] = {"required": True, "content": {
            "application/json": {"schema": doc["request"]}}}
    elif has_body and name in _DOCS:
        pass  # declared without a body
    elif has_body:
        operation["requestBody"] = {"required": False, "content": {
            "application/json": {"schema": {"type": "object"}}}}
    for status in doc.get("status") or (200,):
        if doc.get("stream") or doc.get("media"):
            content = {doc.get("stream") or doc["media"]: {"schema": {"type": "string"}}}
        elif doc.get("response") is not None:
            content = {"application/json": {"schema": doc["response"]}}
        else:
            content = {"application/json": {"schema": {"type": "object"}}}
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
    _register_known_routes()
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
                                                                service_cls)
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    return spec.to_dict()


def _schema(module, name):
    """A schema class of another module, or None if it is not there (any more)."""
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return None


# Routes whose modules do not declare their own schemas: entrypoint name ->
# (declaration, {keyword: (module, schema name)}). A route's own `@route` wins.
_KNOWN = {
    "health": (dict(summary="Liveness", public=True, tags=["session"]), {}),
    "submit_checklist": (dict(
        summary="Submit a supervision visit (checklist)", status=(201, 200), errors=(403,),
        tags=["checklists"], description="The client-generated `id` makes a retried sync "
                                         "return the original (200 instead of 201)."),
        {"request": ("checklist.schemas", "SubmissionRequest")}),
    "list_submissions": (dict(summary="Visits in the caller's area", tags=["checklists"]),
                         {"query": ("gateway.routes.checklists", "SubmissionQuery")}),
    "get_submission": (dict(summary="One visit with its score and gaps", errors=(404,),
                            tags=["checklists"]), {}),
    "get_facility_history": (dict(summary="Score history of a facility", errors=(404,),
                                  tags=["checklists"]), {}),
    "get_gaps_dashboard": (dict(summary="Gaps by location", tags=["dashboards"]),
                           {"query": ("gateway.routes.checklists", "GapsQuery")}),
    "list_templates": (dict(summary="Checklist templates", tags=["checklists"]),
                       {"query": ("gateway.routes.checklists", "TemplateQuery")}),
    "get_template": (dict(summary="One checklist template", errors=(404,),
                          tags=["checklists"]), {}),
    "create_template": (dict(summary="Publish a checklist template (admin)",
                             status=(201, 200), errors=(409,), tags=["checklists"]),
                        {"request": ("checklist.schemas", "TemplateDefinition")}),
    "list_org_units": (dict(summary="Org units (region, district, facility)",
                            tags=["checklists"]),
                       {"query": ("gateway.routes.checklists", "OrgUnitQuery")}),
    "import_org_units": (dict(summary="Import org units (admin)", tags=["checklists"]),
                         {"query": ("gateway.routes.checklists", "ImportQuery")}),
    "list_plans": (dict(summary="Improvement plans in the caller's area", tags=["plans"]),
                   {"query": ("planner.schemas", "PlanFilters")}),
    "get_plan": (dict(summary="One improvement plan", errors=(404,), tags=["plans"]), {}),
    "get_plan_for_submission": (dict(summary="The improvement plan of a visit",
                                     errors=(404,), tags=["plans"]), {}),
    "plan_history": (dict(summary="What happened to a plan", errors=(404,), tags=["plans"]),
                     {}),
    "agree_plan": (dict(summary="Agree a plan (coach and coachee each)", errors=(404, 409),
                        tags=["plans"]), {}),
    "add_action": (dict(summary="Add an action to a plan", status=(201, 200),
                        errors=(404, 409), tags=["plans"]),
                   {"request": ("planner.schemas", "NewAction")}),
    "update_action": (dict(summary="Reword, re-date or re-assign an action",
                           errors=(404, 409), tags=["plans"]),
                      {"request": ("planner.schemas", "ActionChange")}),
    "change_action_status": (dict(summary="Move an action on", errors=(404, 409),
                                  tags=["plans"]),
                             {"request": ("planner.schemas", "StatusChange")}),
    "update_grow_notes": (dict(summary="The plan's GROW notes", errors=(404,),
                               tags=["plans"]),
                          {"request": ("planner.schemas", "GrowNotes")}),
    "progress": (dict(summary="Coachees' progress", tags=["dashboards"]),
                 {"query": ("planner.schemas", "ProgressQuery")}),
    "request_evidence_upload": (dict(summary="An upload slot (presigned POST) for evidence",
                                     status=(201, 200), errors=(404, 409),
                                     tags=["evidence"]),
                                {"request": ("evidence.schemas", "DirectUploadRequest")}),
    "review_evidence": (dict(summary="Approve, reject or ask for more", errors=(404, 409),
                             tags=["evidence"]),
                        {"request": ("evidence.schemas", "ReviewRequest")}),
    "leaderboard": (dict(summary="Championship leaderboard of a cohort and period",
                         tags=["dashboards"]),
                    {"query": ("gateway.routes.dashboards", "LeaderboardQuery"),
                     "response": ("gateway.routes.dashboards", "LeaderboardView")}),
    "live_updates": (dict(summary="Live updates of the caller's area (Server-Sent Events)",
                          stream="text/event-stream", tags=["live"]), {}),
    "create_webhook": (dict(summary="Register a webhook endpoint (admin)", status=(201, 200),
                            errors=(409,), tags=["webhooks"]),
                       {"request": ("gateway.routes.webhooks", "WebhookCreate"),
                        "response": ("gateway.routes.webhooks", "WebhookView")}),
    "get_webhook": (dict(summary="One webhook endpoint", errors=(404,), tags=["webhooks"]),
                    {"response": ("gateway.routes.webhooks", "WebhookView")}),
    "list_webhook_deliveries": (dict(summary="Deliveries to an endpoint", errors=(404,),
                                     tags=["webhooks"]),
                                {"query": ("gateway.routes.webhooks", "DeliveryQuery")}),
    "get_webhook_delivery": (dict(summary="One delivery and its attempts", errors=(404,),
                                  tags=["webhooks"]),
                             {"response": ("gateway.routes.webhooks", "DeliveryDetail")}),
}


def _register_known_routes():
    """Declarations for routes whose modules do not declare their own (yet)."""
    for name, (doc, schemas) in _KNOWN.items():
        if name in _DOCS:
            continue
        found = {key: _schema(*where) for key, where in schemas.items()}
        register(name, **doc, **{key: value for key, value in found.items()
                                 if value is not None})


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
