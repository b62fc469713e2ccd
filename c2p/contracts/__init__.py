"""Event contracts shared by every producer and consumer of C2P events."""
from c2p.contracts.envelope import Event, EnvelopeSchema
from c2p.contracts.events import REGISTRY, event_types, latest_version, load_data, dump_data

__all__ = ["Event", "EnvelopeSchema", "REGISTRY", "event_types", "latest_version",
           "load_data", "dump_data"]
