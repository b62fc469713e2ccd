"""The compiled dumpers (`c2p.fastdump`) give what `Schema.dump` gives, or step
aside, on every event contract and every API view, for valid data and data bent
the ways a handler or a route might hand it over (a key left out, a None, a value
of another type, an extra key, an object where a dict was expected)."""
from __future__ import annotations

import copy
import datetime
import uuid

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from marshmallow.utils import missing

from c2p.contracts import REGISTRY
from c2p.contracts.events import _schema
from c2p.fastdump import quick_dump
from support import sample_data
from test_fastload import API_SCHEMAS, paths as places

ODD = [None, 0, 1, 1.5, True, "", "x", "2026-11-30", [], ["x"], {}, {"x": 1},
       datetime.date(2026, 11, 30), datetime.datetime(2026, 11, 30, 9, tzinfo=datetime.timezone.utc),
       datetime.datetime(2026, 11, 30, 9), uuid.UUID("3fa85f64-5717-4562-b3fc-2c963f66afa6"),
       object()]

SCHEMAS = {**{f"{t}-v{v}": _schema(t, v) for t, v in sorted(REGISTRY)}, **API_SCHEMAS}


@st.composite
def bent(draw, base):
    data = copy.deepcopy(base)
    for _ in range(draw(st.integers(0, 3))):
        found = list(places(data))
        if not found:
            break
        path, key = draw(st.sampled_from(found))
        container = data
        for step in path:
            container = container[step]
        change = draw(st.sampled_from(["set", "drop", "add"]))
        value = copy.copy(draw(st.sampled_from(ODD)))
        if change == "set":
            container[key] = value
        elif change == "drop" and isinstance(container, dict):
            del container[key]
        elif change == "add" and isinstance(container, dict):
            container[draw(st.sampled_from(["extra", "items", "keys"]))] = value
    return data


def agree(schema, data):
    quick = quick_dump(schema, data)
    if quick is missing:
        return
    assert quick == schema.dump(data), "compiled dump differs from Schema.dump"


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_a_valid_example_dumps_the_quick_way_and_the_same(name):
    schema = SCHEMAS[name]
    data = sample_data(schema)
    quick = quick_dump(schema, data)
    if name in API_SCHEMAS and quick is missing:
        return  # some views are computed by methods: marshmallow's to dump
    assert quick is not missing
    assert quick == schema.dump(data)


@pytest.mark.parametrize("name", sorted(SCHEMAS))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_bent_data_dumps_as_marshmallow_would(name, data):
    schema = SCHEMAS[name]
    agree(schema, data.draw(bent(sample_data(schema))))
