"""What the HMIS workers are given besides the database: a DHIS2 client, the
checklist service's facility identifiers with a deadline, and the section titles
this process last read from its database."""
from __future__ import annotations

import eventlet
from nameko import config
from nameko.extensions import DependencyProvider
from nameko.rpc import ServiceRpc

from c2p.dhis2 import Dhis2Client

REFS_TIMEOUT_S = 20


class Dhis2(DependencyProvider):
    """A `c2p.dhis2.Dhis2Client` per worker, or None when C2P_DHIS2_URL is not set."""

    def get_dependency(self, worker_ctx):
        settings = config["C2P_SETTINGS"]
        if not settings.dhis2_url:
            return None
        return Dhis2Client.from_settings(settings)


class FacilityReferences(ServiceRpc):
    """`refs(facility_ids)` -> {id: {"dhis2_id", "code"}}, from the checklist service,
    within REFS_TIMEOUT_S (nameko's RPC client would wait for ever)."""

    def __init__(self):
        super().__init__("checklist")

    def get_dependency(self, worker_ctx):
        client = super().get_dependency(worker_ctx)

        def refs(facility_ids):
            with eventlet.Timeout(REFS_TIMEOUT_S):
                return client.facility_references(list(facility_ids))
        refs.client = client
        return refs


class KnownSections(DependencyProvider):
    """One dict per service container, {section code: (title_fr, title_en)} as last
    read from `hmis_sections`, so a visit whose sections are known writes none
    (`hmis.store.save_sections`). Only ever filled from committed rows: a
    transaction rolled back leaves nothing wrong in it."""

    def setup(self):
        self.known: dict = {}

    def get_dependency(self, worker_ctx):
        return self.known
