"""Events that can change safely: every version after the first has its upcaster (on
its own contract), an upcast old event is a valid new one, and a field a consumer's
contract does not know is ignored rather than refused (a newer producer may add one)."""
from __future__ import annotations

import pytest

from c2p.contracts import REGISTRY, Event
from c2p.contracts.events import UPCASTERS, dump_data, load_data
from support import sample_data

LATER_VERSIONS = sorted(key for key in REGISTRY if key[1] > 1)
ALL_VERSIONS = sorted(REGISTRY)


@pytest.mark.parametrize("event_type, version", LATER_VERSIONS)
def test_every_later_version_upcasts_the_one_before(event_type, version):
    assert (event_type, version - 1) in UPCASTERS, \
        f"{event_type} v{version} has no upcast(data) from v{version - 1}"
    old = dump_data(event_type, version - 1, sample_data(REGISTRY[(event_type, version - 1)]()))
    upcast = load_data(event_type, version - 1, old)
    dump_data(event_type, version, upcast)  # raises if the upcast breaks the new contract


@pytest.mark.parametrize("event_type, version", ALL_VERSIONS)
def test_a_field_the_contract_does_not_know_is_ignored(event_type, version):
    wire = Event(type=event_type, version=version, source="test",
                 data=sample_data(REGISTRY[(event_type, version)]())).to_wire()
    wire["data"]["added_by_a_newer_producer"] = "ignored"
    for value in wire["data"].values():  # and in nested objects, where there are some
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, dict):
                item["added_by_a_newer_producer"] = "ignored"
    data = Event.from_wire(wire).data
    assert "added_by_a_newer_producer" not in str(data)
