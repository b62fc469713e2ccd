"""The OpenAPI and AsyncAPI documents generated from the code: valid, complete,
and saying what the code does (no platform needed)."""
import copy

import jsonschema
import pytest
from openapi_spec_validator import validate

from c2p.contracts import REGISTRY, Event, event_types
from gateway.openapi import build_asyncapi, build_openapi, http_routes, openapi_path
from gateway.service import GatewayService


@pytest.fixture(scope="module")
def document():
    return build_openapi(GatewayService)


def test_the_openapi_document_is_valid(document):
    validate(document)


def test_every_http_entrypoint_is_an_operation(document):
    documented = {(path, method) for path, item in document["paths"].items()
                  for method in item}
    for name, method, url in http_routes(GatewayService):
        path, _ = openapi_path(url)
        assert (path, method.lower()) in documented, name
        assert document["paths"][path][method.lower()]["operationId"] == name


def test_werkzeug_rules_become_openapi_paths():
    assert openapi_path("/a/<plan_id>/b/<int:n>") == ("/a/{plan_id}/b/{n}",
                                                      [("plan_id", "default"), ("n", "int")])


def test_account_operations_carry_their_schemas_paging_and_security(document):
    create = document["paths"]["/api/v1/accounts"]["post"]
    body = create["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert body.endswith("/AccountCreate")
    schemas = document["components"]["schemas"]
    assert set(schemas["AccountCreate"]["required"]) >= {"username", "password", "role",
                                                         "scope", "display_name"}
    assert "password" not in schemas["AccountView"]["properties"]
    assert set(create["responses"]) >= {"201", "200", "401", "403", "409", "422"}
    assert create["security"] == [{"bearerAuth": []}]
    listing = document["paths"]["/api/v1/accounts"]["get"]
    assert {p["name"] for p in listing["parameters"]} >= {"page", "per_page", "role", "q"}
    page = listing["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert set(schemas[page.rsplit("/", 1)[1]]["required"]) == {"total", "page", "per_page",
                                                                "items"}
    problem = create["responses"]["422"]["content"]["application/problem+json"]["schema"]
    assert problem["$ref"].endswith("/Problem")
    assert document["paths"]["/api/v1/auth/token"]["post"]["security"] == []
    plan = document["paths"]["/api/v1/plans/{plan_id}"]["get"]["parameters"][0]
    assert plan["schema"] == {"type": "string", "format": "uuid"}


def test_the_asyncapi_document_has_a_channel_per_event_type_on_the_events_exchange():
    events = build_asyncapi()
    assert events["asyncapi"] == "2.6.0"
    assert set(events["channels"]) == set(event_types())
    channel = events["channels"]["account.created"]
    assert channel["bindings"]["amqp"]["exchange"]["name"] == "c2p.events"
    assert channel["subscribe"]["message"]["$ref"] == "#/components/messages/account.created.v1"
    assert len(events["components"]["messages"]) == len(REGISTRY)


def _payload_validator(events, key):
    root = {"components": events["components"], "$ref": f"#/components/schemas/{key}"}
    return jsonschema.Draft7Validator(root)


def test_a_real_event_validates_against_its_asyncapi_payload_and_a_broken_one_does_not():
    events = build_asyncapi()
    wire = Event(type="account.created", source="gateway", data={
        "account_id": "u-1", "username": "awa", "display_name": "Awa Traoré", "role": "coach",
        "scope": ["/ML/ML-SEG"], "language": "fr", "phone": None,
        "coaching": [{"facility_id": "F", "facility_path": "/ML/F"}], "active": True}).to_wire()
    validator = _payload_validator(events, "account.created.v1")
    validator.validate(wire)
    broken = copy.deepcopy(wire)
    del broken["data"]["role"]
    broken["data"]["coaching"][0]["surprise"] = 1
    messages = {e.message for e in validator.iter_errors(broken)}
    assert any("'role' is a required property" in m for m in messages)
    assert any("surprise" in m for m in messages)
    assert not _payload_validator(events, "account.created.v1").is_valid(
        {**wire, "type": "account.disabled"})


def test_a_415_is_documented_where_a_json_body_is_taken_and_only_there(document):
    operations = [(f"{method.upper()} {path}", operation)
                  for path, item in document["paths"].items()
                  for method, operation in item.items()]
    for where, operation in operations:
        # A JSON body has a schema; a file upload's media types (a DHIS2 export may
        # be JSON) have none, and the route reads it whatever it is declared as.
        media = operation.get("requestBody", {}).get("content", {})
        takes_json = "schema" in media.get("application/json", {})
        assert ("415" in operation["responses"]) == takes_json, where
    # The file uploads take their own media types: no 415 promised there.
    stream = document["paths"]["/api/v1/evidence/{evidence_id}/content"]["put"]
    assert "415" not in stream["responses"]
    assert "415" not in document["paths"]["/api/v1/org-units/import"]["post"]["responses"]
    sign_in = document["paths"]["/api/v1/auth/token"]["post"]["responses"]["415"]
    assert "Content-Type" in sign_in["description"]
    assert sign_in["content"]["application/problem+json"]["schema"]["$ref"].endswith("/Problem")


def test_the_problem_schema_says_403_and_415_answers_name_what_was_refused(document):
    schemas = document["components"]["schemas"]
    errors = schemas["Problem"]["properties"]["errors"]["description"]
    assert "403" in errors and "415" in errors and "422" in errors
    field = schemas["ProblemField"]["properties"]["field"]["description"]
    assert "Content-Type" in field and "role" in field and "scope" in field
    forbidden = document["paths"]["/api/v1/accounts"]["post"]["responses"]["403"]
    assert "`errors`" in forbidden["description"]


BODY_READS = ("read_json(", "request.stream", "request.get_data", "request.data", "wsgi.input")


def test_every_route_that_reads_a_body_documents_it(document):
    """A client generated from the document must be able to send what a route reads:
    a JSON body (`request=`) or a file (`upload=`), found in the route's own code."""
    import inspect
    for name, method, url in http_routes(GatewayService):
        source = inspect.getsource(getattr(GatewayService, name))
        path, _ = openapi_path(url)
        operation = document["paths"][path][method.lower()]
        if any(read in source for read in BODY_READS):
            assert operation.get("requestBody", {}).get("required"), name


def test_a_file_upload_is_documented_as_its_media_types_not_json(document):
    upload = document["paths"]["/api/v1/evidence/{evidence_id}/content"]["put"]
    media = set(upload["requestBody"]["content"])
    assert {"image/jpeg", "application/pdf"} <= media and "application/json" not in media
    assert "415" not in upload["responses"]  # a refused type is a 422 naming the file
