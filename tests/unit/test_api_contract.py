"""The typed contract of the HTTP API, without a platform: every success answer has a
real schema in the OpenAPI document, the document holds together for client
generators (openapi-typescript), the gateway refuses unknown query parameters and
dumps answers through the very views the document shows, and lists share one
pagination shape."""
import json
import subprocess
import sys

import pytest
from werkzeug.datastructures import MultiDict

from c2p.api import Page, PageQuery, dump, paginate_list, undeclared
from c2p.api.checklists import SubmissionView, TemplateView
from c2p.api.core import ViewDrift
from c2p.api.plans import PlanFilters
from c2p.errors import InvalidInput, UnknownParameter
from gateway.http import check_parameters, error_response, load_query
from gateway.openapi import documented, http_routes
from gateway.service import GatewayService
from gateway.openapi import build_openapi


@pytest.fixture(scope="module")
def document():
    return build_openapi(GatewayService)


def success_responses(document):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                if status.startswith("2") and "content" in response:
                    for media, content in response["content"].items():
                        yield f"{method.upper()} {path} {status} {media}", content.get("schema")


def test_every_success_response_has_a_real_schema(document):
    untyped = [where for where, schema in success_responses(document)
               if not schema or schema == {"type": "object"}]
    assert untyped == []
    # and there are plenty of them: every route answers something typed
    assert len(list(success_responses(document))) >= len(http_routes(GatewayService))


def test_every_route_declares_its_answer():
    for name, _, _ in http_routes(GatewayService):
        doc = documented(name)
        assert doc, name
        assert doc["response"] or doc["media"] or doc["stream"] or doc["status"] == (204,), name


def _refs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def test_the_document_has_no_dangling_reference_and_says_null_the_3_1_way(document):
    schemas = document["components"]["schemas"]
    refs = set(_refs(document))
    assert refs, "components are referenced"
    for ref in refs:
        assert ref.startswith("#/components/schemas/"), ref
        assert ref.rsplit("/", 1)[1] in schemas, ref
    assert document["openapi"].startswith("3.1")
    text = json.dumps(document)
    assert '"nullable"' not in text and '"x-nullable"' not in text  # OpenAPI 3.0 ways
    # a nullable field is typed with null, so a generated client says `string | null`
    agreed = schemas["PlanView"]["properties"]["visited_at"]
    assert agreed["type"] == ["string", "null"] and agreed["format"] == "date-time"
    gps = schemas["SubmissionView"]["properties"]["gps"]
    assert {"type": "null"} in gps["anyOf"]


def test_readme_shapes_the_upload_slot_and_a_template(document):
    schemas = document["components"]["schemas"]
    slot = schemas["UploadSlotView"]["properties"]
    assert {"evidence", "upload"} <= set(slot) and "url" not in slot  # slot apart
    assert schemas["UploadSlot"]["properties"]["fields"]["type"] == "object"
    template = schemas["TemplateView"]["properties"]
    assert template["sections"]["type"] == "array"  # the sections, not a count
    summary = schemas["TemplateSummaryView"]["properties"]
    assert "sections" not in summary and summary["section_count"]["type"] == "integer"


def test_every_list_is_one_paginated_shape():
    lists = set()
    for name, _, _ in http_routes(GatewayService):
        response = documented(name)["response"]
        if response is None or "items" not in response().fields:
            continue
        lists.add(name)
        assert {"total", "page", "per_page"} <= set(response().fields), name
        query = documented(name)["query"]
        assert query is not None and issubclass(query, PageQuery), name
    # org units and templates were whole lists; dashboards' rows are pages too
    assert {"list_org_units", "list_templates", "list_plans", "progress", "leaderboard",
            "get_gaps_dashboard", "list_action_evidence", "plan_history", "get_inbox",
            "list_accounts", "list_submissions"} <= lists


def test_an_unknown_query_parameter_is_refused_naming_it():
    with pytest.raises(UnknownParameter) as refused:
        check_parameters(PlanFilters, MultiDict({"overdue": "true", "status": "draft"}))
    assert error_response(refused.value).status_code == 400
    assert set(refused.value.errors) == {"overdue"}
    assert "facility_id" in refused.value.errors["overdue"][0]  # says what it takes
    with pytest.raises(UnknownParameter) as refused:
        check_parameters(None, MultiDict({"format": "csv"}))  # a route taking none
    assert "none" in refused.value.errors["format"][0]
    with pytest.raises(UnknownParameter) as twice:
        check_parameters(PlanFilters, MultiDict([("status", "draft"), ("status", "agreed")]))
    assert twice.value.errors == {"status": ["given more than once"]}


def test_known_parameters_are_loaded_typed_with_defaults_and_bad_values_named():
    loaded = load_query(PlanFilters, MultiDict({"status": "agreed", "per_page": "50",
                                                "facility_id": ""}))
    assert loaded == {"status": "agreed", "per_page": 50, "page": 1, "facility_id": None}
    with pytest.raises(InvalidInput) as bad:
        load_query(PlanFilters, MultiDict({"per_page": "500", "status": "lost"}))
    assert not isinstance(bad.value, UnknownParameter)
    assert error_response(bad.value).status_code == 422
    assert set(bad.value.errors) == {"per_page", "status"}


def test_a_view_dumps_what_it_declares_and_strict_mode_names_the_rest():
    template = {"code": "pev-mini", "version": 1, "title_fr": "t", "title_en": "t",
                "section_count": 1, "item_count": 1, "published_at": None,
                "published_by": None, "thresholds": {"green": 80, "amber": 50},
                "sections": [{"code": "cold_chain", "title_fr": "f", "title_en": "e",
                              "items": []}]}
    assert dump(TemplateView, template, strict=True) == template
    drifted = {**template, "secret_flag": True, "sections": [{**template["sections"][0],
                                                              "colour": "red"}]}
    with pytest.raises(ViewDrift, match="secret_flag") as drift:
        dump(TemplateView, drifted, strict=True)
    assert "sections.0.colour" in str(drift.value)
    assert "secret_flag" not in dump(TemplateView, drifted)  # lenient: dropped
    # a value of another kind than declared is drift too (a dict where a list is)
    assert any(p.startswith("coachees") for p in undeclared(SubmissionView(), {
        "coachees": {"u-1": {"role": "dtc"}}}))


def test_one_pagination_shape_for_lists_in_memory():
    page = paginate_list(range(45), page=3, per_page=20, level="facility")
    assert page == {"total": 45, "page": 3, "per_page": 20, "items": [40, 41, 42, 43, 44],
                    "level": "facility"}
    assert paginate_list([], 1, 20)["items"] == []
    assert set(Page(TemplateView)().fields) == {"total", "page", "per_page", "items"}
    assert Page(TemplateView) is Page(TemplateView)


def test_the_document_is_written_to_a_file_for_client_generators(tmp_path):
    target = tmp_path / "openapi.json"
    done = subprocess.run([sys.executable, "-m", "gateway.openapi", str(target)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    written = json.loads(target.read_text(encoding="utf-8"))
    assert written["openapi"] == "3.1.0"
    assert "/api/v1/plans" in written["paths"]
    assert written["components"]["schemas"]["PlanView"]


def test_every_documented_shape_lives_in_the_shared_api_package():
    """What the gateway documents and dumps is what the services load and build:
    the schemas come from c2p.api, never from a route module or a service."""
    elsewhere = []
    for name, _, _ in http_routes(GatewayService):
        doc = documented(name)
        for key in ("query", "request", "response"):
            schema = doc.get(key)
            if schema is not None and not schema.__module__.startswith("c2p.api."):
                elsewhere.append((name, key, f"{schema.__module__}.{schema.__name__}"))
    assert elsewhere == []


# --- JSON bodies: only a body declared as JSON is read (415 otherwise) ---------------

def _body_request(body=b'{"username": "awa"}', content_type=None):
    from werkzeug.test import EnvironBuilder
    from werkzeug.wrappers import Request
    headers = {"Content-Type": content_type} if content_type is not None else {}
    environ = EnvironBuilder(method="POST", path="/api/v1/auth/token", data=body,
                             headers=headers).get_environ()
    if content_type is None:
        environ.pop("CONTENT_TYPE", None)
    return Request(environ)


@pytest.mark.parametrize("content_type", [
    "application/json", "application/json; charset=utf-8", "Application/JSON",
    "application/problem+json", "application/merge-patch+json; charset=utf-8"])
def test_a_json_body_is_read_whatever_its_json_media_type(content_type):
    from gateway.http import read_json
    assert read_json(_body_request(content_type=content_type)) == {"username": "awa"}


@pytest.mark.parametrize("content_type, named", [
    ("text/plain", "text/plain is not accepted"),
    ("text/plain; charset=utf-8", "text/plain is not accepted"),
    ("application/x-www-form-urlencoded", "application/x-www-form-urlencoded is not accepted"),
    ("multipart/form-data; boundary=x", "multipart/form-data is not accepted"),
    (None, "missing"),
])
def test_a_body_not_sent_as_json_is_a_415_naming_the_content_type(content_type, named):
    from c2p.errors import UnsupportedMediaType
    from gateway.http import read_json
    with pytest.raises(UnsupportedMediaType) as refused:
        read_json(_body_request(content_type=content_type))
    response = error_response(refused.value)
    body = json.loads(response.get_data())
    assert response.status_code == 415 and body["status"] == 415
    assert response.content_type.startswith("application/problem+json")
    assert body["title"] == "Unsupported media type"
    [entry] = body["errors"]
    assert entry["field"] == "Content-Type"
    english, french = entry["reason"].split("; ")
    assert english.startswith(named) and "application/json" in english
    assert "application/json" in french and "JSON" in french


def test_a_json_body_that_is_not_json_is_still_a_422():
    from gateway.http import read_json
    with pytest.raises(InvalidInput) as refused:
        read_json(_body_request(b"{not json", "application/json"))
    assert error_response(refused.value).status_code == 422


def test_a_json_body_over_the_limit_is_a_413_naming_the_body_and_the_limit():
    from c2p.errors import PayloadTooLarge
    from gateway.http import MAX_JSON_BYTES, read_json
    big = b'{"note": "' + b"x" * MAX_JSON_BYTES + b'"}'
    with pytest.raises(PayloadTooLarge) as refused:
        read_json(_body_request(big, "application/json"))
    response = error_response(refused.value)
    body = json.loads(response.get_data())
    assert response.status_code == 413 and body["title"] == "Payload too large"
    assert body["errors"] == [{"field": "body", "reason":
                               "larger than the 2 MB limit; dépasse la limite de 2 MB",
                               "reason_en": "larger than the 2 MB limit",
                               "reason_fr": "dépasse la limite de 2 MB"}]


def test_every_route_that_reads_a_json_body_declares_it():
    """The 415 is documented where a request body is declared: every route
    reading one through `read_json` declares it, and no other route calls it."""
    import inspect
    for name, _, _ in http_routes(GatewayService):
        reads = "read_json(" in inspect.getsource(getattr(GatewayService, name))
        assert reads == (documented(name)["request"] is not None), name
