"""The error -> HTTP map is one table (`gateway.http.ERROR_STATUS`): every error a
caller can act on answers its status as application/problem+json, with the headers
that say what to do next; anything else is a 500 that says nothing of the inside."""
from __future__ import annotations

import json

import pytest
from nameko.exceptions import RemoteError, RpcTimeout

from c2p.errors import (C2PError, Conflict, Forbidden, InvalidInput, NotFound, Refused,
                        ServiceUnavailable, Throttled, Unauthorized, UnknownParameter,
                        UnsupportedMediaType)
from gateway.http import ERROR_STATUS, error_response


@pytest.mark.parametrize("error, status, title, headers", [
    (InvalidInput({"due_date": ["must not be before the visit"]}), 422, "Invalid input", {}),
    (UnknownParameter({"overdue": ["unknown query parameter"]}), 400,
     "Unknown query parameter", {}),
    (Unauthorized("token expired"), 401, "Unauthorized",
     {"WWW-Authenticate": 'Bearer realm="c2p"'}),
    (Forbidden("role", "the role coachee cannot add actions",
               "le rôle coachee ne permet pas d'ajouter des actions"), 403, "Forbidden", {}),
    (NotFound("plan x not found"), 404, "Not found", {}),
    (Conflict("the plan is completed"), 409, "Conflict", {}),
    (Throttled(30), 429, "Too many requests", {"Retry-After": "30"}),
    (ServiceUnavailable("the store is away"), 503, "Service unavailable", {}),
    (RpcTimeout("planner"), 503, "Service unavailable", {}),
    (Refused("conflict", "already agreed").as_error(), 409, "Conflict", {}),
    (Refused("invalid", "required", "reason").as_error(), 422, "Invalid input", {}),
    (Refused("forbidden", "not for you", message_fr="pas pour vous").as_error(), 403,
     "Forbidden", {}),
    (UnsupportedMediaType({"Content-Type": ["text/plain is not accepted"]}), 415,
     "Unsupported media type", {}),
    (RemoteError("KeyError", "boom"), 500, "Internal error", {}),
    (KeyError("boom"), 500, "Internal error", {}),
])
def test_each_error_answers_its_status(error, status, title, headers):
    response = error_response(error)
    body = json.loads(response.get_data())
    assert response.status_code == status
    assert response.content_type.startswith("application/problem+json")
    assert body["status"] == status and body["title"] == title
    for name, value in headers.items():
        assert response.headers[name] == value
    if status == 500:
        assert "boom" not in response.get_data(as_text=True)


def test_invalid_input_names_each_field():
    body = json.loads(error_response(InvalidInput({"answers": {"cc_1": ["required"]}}))
                      .get_data())
    assert body["errors"] == [{"field": "answers.cc_1", "reason": "required",
                               "reason_en": "required", "reason_fr": "obligatoire"}]


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def test_every_error_of_the_family_is_in_the_map():
    assert {cls for cls in _subclasses(C2PError)} <= set(ERROR_STATUS)


@pytest.mark.parametrize("error, field", [
    (Forbidden("role", "the role coachee cannot add actions",
               "le rôle coachee ne permet pas d'ajouter des actions"), "role"),
    (Refused("forbidden", "only a coachee of this plan can agree it", "coachees",
             "seul un agent concerné par ce plan peut le valider").as_error(), "coachees"),
    (Refused("forbidden", "the role manager cannot agree a plan",
             message_fr="le rôle manager ne permet pas de valider un plan").as_error(), "role"),
])
def test_a_refusal_names_what_was_refused_and_why_in_english_and_french(error, field):
    """A 403 carries `errors` in the shape of a 422's: the field, then the reason
    in English and French (the way the evidence checks' 422s give theirs)."""
    body = json.loads(error_response(error).get_data())
    assert body["status"] == 403
    [entry] = body["errors"]
    assert entry["field"] == field
    english, french = entry["reason"].split("; ")
    assert english == error.reason_en and french == error.reason_fr
    assert body["detail"] == f"{field}: {error.reason_en}"


def test_a_refusal_crosses_rpc_as_itself():
    from nameko.exceptions import deserialize, serialize
    sent = Forbidden("facility_id", "F-1 is outside your scope", "F-1 est hors de votre périmètre")
    received = deserialize(serialize(sent))
    assert type(received) is Forbidden
    assert received.errors == {"facility_id": ["F-1 is outside your scope",
                                               "F-1 est hors de votre périmètre"]}


def test_a_forbidden_refusal_must_say_why_in_french_too():
    with pytest.raises(ValueError, match="French"):
        Refused("forbidden", "not for you")
    assert Refused("conflict", "already agreed").as_error().args == ("already agreed",)
