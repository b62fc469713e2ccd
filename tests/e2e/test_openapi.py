"""The API documents as a client gets them, and generated tests driven by the
OpenAPI document (schemathesis) against the running platform: no request the
document allows may make any endpoint answer 5xx."""
import time
import uuid

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from openapi_spec_validator import validate

from c2p.contracts import event_types

API = "/api/v1"
EXAMPLES_PER_OPERATION = 6  # per generation mode


def sign_in(base, username, password):
    response = requests.post(f"{base}{API}/auth/token", timeout=10,
                             json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.mark.slow
def test_documents_are_served_and_generated_requests_find_no_server_error(platform):
    document = requests.get(f"{platform}{API}/openapi.json", timeout=10)
    assert document.status_code == 200
    document = document.json()
    validate(document)  # raises on an invalid OpenAPI document
    operations = {(method, path) for path, item in document["paths"].items()
                  for method in item}
    assert ("post", "/api/v1/accounts") in operations
    assert ("get", "/api/v1/plans/{plan_id}") in operations

    events = requests.get(f"{platform}{API}/asyncapi.json", timeout=10).json()
    assert events["asyncapi"] == "2.6.0" and set(events["channels"]) == set(event_types())

    # The viewer works offline: the page loads only files the gateway serves.
    page = requests.get(f"{platform}/api/docs", timeout=10)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert "://" not in page.text
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "c2p-docs.js"):
        assert f"/api/docs/{asset}" in page.text
        served = requests.get(f"{platform}/api/docs/{asset}", timeout=10)
        assert served.status_code == 200 and len(served.content) > 100, asset
    assert requests.get(f"{platform}/api/docs/..%2Fdocs.html", timeout=10).status_code == 404

    # Unknown paths and methods are problem+json like every other failure.
    missing = requests.get(f"{platform}{API}/no-such-thing", timeout=10)
    assert missing.status_code == 404
    assert missing.headers["Content-Type"].startswith("application/problem+json")
    wrong = requests.delete(f"{platform}{API}/auth/token", timeout=10)
    assert wrong.status_code == 405 and wrong.headers["Allow"] == "POST"
    assert wrong.json()["status"] == 405

    # Generated requests, as a throwaway national admin (PATCH /me touches only it).
    admin = sign_in(platform, "admin", "demo-c2p-2025")
    suffix = uuid.uuid4().hex[:8]
    fuzzer = {"id": f"fuzz-{suffix}", "username": f"fuzz.{suffix}", "password": "fuzz-pass-2025",
              "display_name": "Schemathesis", "role": "admin", "scope": ["/ML"]}
    assert requests.post(f"{platform}{API}/accounts", json=fuzzer, headers=admin,
                         timeout=10).status_code == 201
    auth = sign_in(platform, fuzzer["username"], fuzzer["password"])

    schema = schemathesis.openapi.from_dict(document)
    server_errors, counts = [], {}
    started = time.monotonic()
    for result in schema.get_all_operations():
        operation = result.ok()
        definition = document["paths"][operation.path][operation.method.lower()]
        if definition.get("x-c2p-stream"):
            continue  # a stream stays open by design (SSE)
        label = f"{operation.method.upper()} {operation.path}"
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            fuzz(operation, mode, label, platform, auth, counts, server_errors)
    elapsed = time.monotonic() - started
    assert not server_errors, "\n".join(map(str, server_errors))
    assert len(counts) >= len(operations) - 2  # every operation but streams was called
    print(f"schemathesis: {sum(counts.values())} requests over {len(counts)} operations "
          f"in {elapsed:.1f} s")


def fuzz(operation, mode, label, base, auth, counts, server_errors):
    """A few generated requests to one operation, valid ones (positive) or ones the
    document forbids (negative: those must be refused with 4xx); a 5xx is recorded."""
    @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None,
              phases=[Phase.explicit, Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode))
    def call(case):
        response = case.call(base_url=base, headers=auth, timeout=15)
        counts[label] = counts.get(label, 0) + 1
        if response.status_code >= 500:
            server_errors.append((label, mode.value, response.status_code,
                                  response.request.url, response.request.body,
                                  response.text[:300]))
    try:
        call()
    except Unsatisfiable:
        assert mode is GenerationMode.NEGATIVE  # nothing to break in an operation with no input
