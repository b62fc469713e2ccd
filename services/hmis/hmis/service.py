"""HMIS service entrypoints: keep monthly figures per facility from events, export
them to DHIS2 on a timer, and serve the admins' mapping, metadata and export log.

Thin: figures and the export rules live in `domain`, queries in `store`, one
export in `exporter`.
"""
from __future__ import annotations

import logging

from nameko import config

from c2p.entrypoints import rpc, subscribe, timer
from c2p.errors import Forbidden, InvalidInput, NotFound
from c2p.service import PlatformService
from hmis import domain, exporter, schemas, store
from hmis.dependencies import Dhis2, FacilityReferences, KnownSections

log = logging.getLogger(__name__)

ADMINS = ("admin",)
QUEUED_INTERVAL_S = 2


def _action_change(data) -> dict:
    """What an action event says of its action, for `store.record_actions`."""
    return {key: data[key] for key in
            ("action_id", "facility_id", "facility_path", "due_date", "status")}


def require_admin(caller):
    if (caller or {}).get("role") not in ADMINS:
        raise Forbidden("role", "only admin accounts may manage the DHIS2 export",
                        "seuls les comptes admin peuvent gérer l'export DHIS2")


class HmisService(PlatformService):
    name = "hmis"
    dhis2 = Dhis2()
    refs = FacilityReferences()
    known_sections = KnownSections()

    # --- figures from events ----------------------------------------------------

    @subscribe("checklist.submitted")
    def on_checklist_submitted(self, event):
        store.record_visit(self.db.session, event.data, self.known_sections)

    @subscribe("plan.created")
    def on_plan_created(self, event):
        data = event.data
        # Its actions exist from the visit on (the plan is drawn up with the team that
        # day), not from when a phone that was offline for a week synced it.
        created = min(data.get("visited_at") or event.occurred_at, event.occurred_at)
        store.record_actions(self.db.session, [
            {"action_id": action["action_id"], "facility_id": data["facility_id"],
             "facility_path": data["facility_path"], "due_date": action["due_date"],
             "status": action["status"], "at": event.occurred_at, "created_at": created}
            for action in data["actions"]])

    @subscribe("actions.status_changed")
    def on_action_status_changed(self, event):
        # One change per `action.status_changed` still waiting from before the
        # upgrade to `actions.status_changed` (c2p.topology.FORMER_BINDINGS).
        changes = event.data["changes"] if event.type == "actions.status_changed" \
            else [event.data]
        # What a follow-up visit verified was done on the visit's day, however late the
        # phone synced it (the change itself is stamped when the planner made it).
        verified_on = event.data.get("visited_at")  # a visit's batch only
        store.record_actions(self.db.session, [
            {**_action_change(data), "at": data["changed_at"],
             "closed_at": verified_on or data["changed_at"]}
            for data in changes])

    @subscribe("action.overdue")
    def on_action_overdue(self, event):
        store.record_actions(self.db.session, [
            {**_action_change(event.data), "at": event.occurred_at}])

    # --- exports ------------------------------------------------------------------

    @timer("hmis_export_interval_s")
    def export_changed(self):
        """Send what changed since the last export (with back-off after failures)."""
        try:
            exporter.export(self.db.session, self.dhis2, self.refs, trigger="timer",
                            backoff_s=config["C2P_SETTINGS"].hmis_backoff_s)
        except exporter.Busy:
            pass

    @timer(QUEUED_INTERVAL_S)
    def run_requested_exports(self):
        """Run the exports admins asked for over the API, oldest first."""
        session = self.db.session
        run = store.next_queued(session)
        if run is None:
            return
        log.info("export %s (%s%s) asked by %s: starting", run.id, run.period,
                 ", dry run" if run.dry_run else "", run.requested_by)
        try:
            exporter.export(session, self.dhis2, self.refs, trigger="api", period=run.period,
                            dry_run=run.dry_run, send_all=run.send_all, scope=run.scope,
                            requested_by=run.requested_by, run=run,
                            backoff_s=config["C2P_SETTINGS"].hmis_backoff_s)
        except exporter.Busy:
            session.rollback()  # still queued: the next tick tries again

    @rpc
    def request_export(self, caller, body):
        """Queue an export of one period (admins), limited to the caller's scope."""
        require_admin(caller)
        if not isinstance(body, dict):
            raise InvalidInput({"body": ["must be a JSON object"]})
        errors = {}
        for key in sorted(set(body) - {"period", "dry_run", "all"}):
            errors[key] = ["unknown field"]
        try:
            period = domain.parse_period(body.get("period"))
        except ValueError as exc:
            errors["period"] = [str(exc)]
        for flag in ("dry_run", "all"):
            if not isinstance(body.get(flag, False), bool):
                errors[flag] = ["must be true or false"]
        if errors:
            raise InvalidInput(errors)
        return schemas.run_view(store.queue_export(
            self.db.session, caller, period, body.get("dry_run", False),
            body.get("all", False)))

    @rpc
    def get_export(self, caller, run_id):
        require_admin(caller)
        run = store.visible_run(self.db.session, caller["scope"], run_id)
        if run is None:
            raise NotFound(f"export {run_id} not found")
        return schemas.run_view(run)

    @rpc
    def list_exports(self, caller, page=1, per_page=20):
        require_admin(caller)
        return store.list_runs(self.db.session, caller["scope"], page, per_page)

    # --- mapping and metadata -----------------------------------------------------

    @rpc
    def get_mapping(self, caller):
        require_admin(caller)
        return store.mapping(self.db.session)

    @rpc
    def set_mapping(self, caller, body):
        """Replace the mapping (admins): every figure's data element and combo."""
        require_admin(caller)
        normalised, errors = domain.validate_mapping(body)
        if errors:
            raise InvalidInput(errors)
        return store.save_mapping(self.db.session, normalised, caller["id"])

    @rpc
    def dhis2_metadata(self, caller, template=None):
        """The `/api/metadata` payload to create C2P's data elements and data set in
        DHIS2, and the mapping pointing at them. Sections: those of `template` (from
        the checklist service), else every section seen in visits."""
        require_admin(caller)
        if template:
            found = self.refs.client.get_template(caller, template)
            definition = found.get("definition", found)  # the template view spreads it
            sections = [{"code": s["code"], "title_fr": s.get("title_fr", s["code"]),
                         "title_en": s.get("title_en", s["code"])}
                        for s in definition["sections"]]
        else:
            sections = store.sections(self.db.session)
        payload, mapping = domain.metadata(sections)
        return {"metadata": payload, "mapping": mapping}
