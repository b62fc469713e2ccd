"""The compiled loaders (`c2p.fastload`) accept only what marshmallow
accepts, and give what it gives, on every registered contract and the envelope.

Each case starts from a valid example of the contract and breaks or bends it in
the ways a producer or a partner might (a key dropped, a null, a value of another
type, a date or an id written another way, an undeclared key, at any depth); the
compiled loader must either step aside (None) or agree with `Schema.load`.
"""
from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from marshmallow import ValidationError

from c2p.contracts import REGISTRY
from c2p.contracts.envelope import _ENVELOPE
from c2p.contracts.events import _schema, known_fields
from c2p.fastload import quick_load
from support import sample_data

CONTRACTS = sorted(REGISTRY)

ODD_VALUES = [None, 0, 1, -1, 2 ** 40, 1.0, 1.5, float("inf"), True, False, "", "x", "1", "1.0",
              "true", "yes", "0", "2026-11-30", "2026-11-30T10:00:00", "2026-11-30T10:00:00Z",
              "2026-11-30T10:00:00+00:00", "20261130", "2026-W48-1", "2026-11-30 10:00",
              "3fa85f64-5717-4562-b3fc-2c963f66afa6", "3FA85F64-5717-4562-B3FC-2C963F66AFA6",
              "3fa85f6457174562b3fc2c963f66afa6", "{3fa85f64-5717-4562-b3fc-2c963f66afa6}",
              "é" * 300, "\x00", [], [1], ["x"], {}, {"x": 1}]


def wire(event_type, version) -> dict:
    """A valid example of the contract's data as it travels (JSON)."""
    schema = _schema(event_type, version)
    return json.loads(json.dumps(schema.dump(sample_data(schema)), default=str))


def paths(value, prefix=()):
    """Every place in a JSON value: (path to its container, key or index)."""
    if isinstance(value, dict):
        for key, inner in value.items():
            yield prefix, key
            yield from paths(inner, prefix + (key,))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield prefix, index
            yield from paths(inner, prefix + (index,))


def at(value, path):
    for step in path:
        value = value[step]
    return value


def odd(draw):
    """One of ODD_VALUES, a copy of it (a later change must not alter the list)."""
    value = draw(st.sampled_from(ODD_VALUES))
    return json.loads(json.dumps(value)) if isinstance(value, (list, dict)) else value


@st.composite
def bent(draw, base):
    """`base` with a few changes anywhere in it."""
    data = json.loads(json.dumps(base))
    for _ in range(draw(st.integers(0, 3))):
        places = list(paths(data))
        if not places:
            break
        container_path, key = draw(st.sampled_from(places))
        container = at(data, container_path)
        change = draw(st.sampled_from(["set", "drop", "add", "grow"]))
        if change == "set":
            container[key] = odd(draw)
        elif change == "drop" and isinstance(container, dict):
            del container[key]
        elif change == "add" and isinstance(container, dict):
            container[draw(st.sampled_from(["extra", "note", "_x"]))] = odd(draw)
        elif change == "grow" and isinstance(container[key], list) and container[key]:
            container[key].append(json.loads(json.dumps(container[key][0])))
    return data


def marshmallow_load(schema, data, drop_unknown):
    try:
        return "ok", schema.load(known_fields(schema, data) if drop_unknown else data)
    except ValidationError:
        return "refused", None


def check(schema, data, drop_unknown):
    quick = quick_load(schema, data, drop_unknown)
    if quick is None:
        return  # stepped aside: marshmallow decides, as before
    verdict, loaded = marshmallow_load(schema, data, drop_unknown)
    assert verdict == "ok", f"compiled loader accepted what marshmallow refuses: {data!r}"
    assert quick == loaded


@pytest.mark.parametrize("contract", CONTRACTS, ids=lambda c: f"{c[0]}-v{c[1]}")
def test_a_valid_example_loads_the_quick_way_and_the_same(contract):
    schema = _schema(*contract)
    data = wire(*contract)
    for drop_unknown in (True, False):
        quick = quick_load(schema, data, drop_unknown)
        assert quick is not None, "the plain path should take a valid example"
        assert quick == schema.load(data)


@pytest.mark.parametrize("contract", CONTRACTS, ids=lambda c: f"{c[0]}-v{c[1]}")
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_bent_data_is_refused_or_loaded_as_marshmallow_would(contract, data):
    schema = _schema(*contract)
    case = data.draw(bent(wire(*contract)))
    check(schema, case, drop_unknown=True)
    check(schema, case, drop_unknown=False)


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_the_envelope_is_refused_or_loaded_as_marshmallow_would(data):
    envelope = {"id": "3fa85f64-5717-4562-b3fc-2c963f66afa6", "type": "plan.created",
                "version": 1, "occurred_at": "2026-11-30T10:00:00.123456+00:00",
                "source": "planner", "correlation_id": "c-1", "data": {"x": 1}}
    check(_ENVELOPE, data.draw(bent(envelope)), drop_unknown=False)


def test_a_broken_event_is_still_named_by_marshmallow():
    # Off the plain path the errors are marshmallow's, field by field, as before.
    event_type, version = "plan.created", max(v for t, v in REGISTRY if t == "plan.created")
    data = wire(event_type, version)
    data["actions"][0]["due_date"] = "demain"
    del data["plan_id"]
    from c2p.contracts.events import load_data
    with pytest.raises(ValidationError) as refused:
        load_data(event_type, version, data)
    assert set(refused.value.messages["data"]) == {"plan_id", "actions"}


# --- the requests the services load (`c2p.validation.load`) ---------------------------

def request_schemas():
    """Every schema class of the API and of the services' requests, made with its
    own options (as the services make them)."""
    import importlib
    import inspect
    import pkgutil

    import c2p.api
    from marshmallow import Schema
    modules = [importlib.import_module(f"c2p.api.{m.name}")
               for m in pkgutil.iter_modules(c2p.api.__path__)]
    modules += [importlib.import_module(f"{service}.schemas")
                for service in ("checklist", "planner", "evidence", "notify", "hmis")]
    found = {}
    for module in modules:
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, Schema) and cls.__module__ == module.__name__:
                try:
                    found[f"{module.__name__}.{name}"] = cls()
                except TypeError:
                    continue
    return found


API_SCHEMAS = request_schemas()


@pytest.mark.parametrize("name", sorted(API_SCHEMAS))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_requests_are_refused_or_loaded_as_marshmallow_would(name, data):
    schema = API_SCHEMAS[name]
    base = json.loads(json.dumps(sample_data(schema), default=str))
    check(schema, data.draw(bent(base)), drop_unknown=False)


def test_a_visit_with_its_answers_loads_the_quick_way():
    # The 49-answer visit is why requests go this way: its schema's own checks
    # (`@validates`, `@validates_schema`) run as marshmallow runs them.
    schema = API_SCHEMAS["c2p.api.checklists.SubmissionRequest"]
    visit = {"id": "3fa85f64-5717-4562-b3fc-2c963f66afa6", "facility_id": "ML-SEG-NIO-CEN",
             "template_code": "pev-integrated", "visited_at": "2026-11-30T09:00:00+00:00",
             "answers": [{"item": f"item_{i}", "value": "yes"} for i in range(49)]}
    quick = quick_load(schema, visit, drop_unknown=False)
    assert quick is not None and quick == schema.load(visit)
    twice = {**visit, "answers": visit["answers"] + visit["answers"][:1]}
    assert quick_load(schema, twice, drop_unknown=False) is None  # refused: marshmallow names it
    with pytest.raises(ValidationError):
        schema.load(twice)
