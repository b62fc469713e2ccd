"""Event contracts shared by every producer and consumer of C2P events.

Importing this package registers every event schema (one module per producer).
"""
from c2p.contracts import accounts, checklist, evidence, notify, planner  # noqa: F401  (registers)
from c2p.contracts.envelope import EnvelopeSchema, Event
from c2p.contracts.events import (REGISTRY, UPCASTERS, Data, dump_data, event_types,
                                  latest_version, load_data)

__all__ = ["Event", "EnvelopeSchema", "REGISTRY", "UPCASTERS", "Data", "event_types",
           "latest_version", "load_data", "dump_data"]
