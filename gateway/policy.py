"""Who may do what: role permissions of the HTTP API, in one place.

Two checks guard every object, and this module is the first of them:

1. role: may a caller of this role do this action at all? (`ACTIONS`, here);
2. scope: does the object itself lie under one of the caller's org-unit paths?
   That one is checked by whoever holds the object (the services, against the
   object's facility path; the gateway for accounts), never by the route alone.

Every gateway HTTP entrypoint is named in `ROUTES` with the action it performs.
`gateway.auth` applies the check when a route asks for its caller
(`self.auth.caller(request)`): the entrypoint name travels with the request
(`gateway.http.GatewayHttp`), so a route cannot forget it. A route that is not
listed yet is open to every signed-in role (`DEFAULT_ACTION`) and still
scope-checked by the service behind it; list it here when adding it.

Plain Python, no nameko: unit-tested in milliseconds.
"""
from __future__ import annotations

ROLES = ("coachee", "coach", "champion", "manager", "admin")
EVERYONE = frozenset(ROLES)
SUPERVISORS = frozenset({"coach", "champion", "manager", "admin"})

# action -> roles allowed to perform it. The services check the same rules
# again where they own the object (e.g. the planner: who may agree a plan).
ACTIONS: dict[str, frozenset] = {
    "session.read": EVERYONE,           # one's own account
    "session.update": EVERYONE,         # one's own language, contacts, preferences
    "checklists.read": EVERYONE,        # templates, org units, visits, score history
    "submissions.create": frozenset({"coach", "admin"}),
    "templates.write": frozenset({"admin"}),
    "org_units.write": frozenset({"admin"}),
    "plans.read": EVERYONE,
    # Agreeing a plan and moving an action: the coach's side and the coachee's.
    "plans.progress": frozenset({"coachee", "coach", "admin"}),
    # Rewording, re-dating, adding actions, GROW notes: the coach's side only.
    "plans.edit": frozenset({"coach", "admin"}),
    "evidence.read": EVERYONE,
    "evidence.upload": frozenset({"coachee", "coach", "champion", "admin"}),
    "evidence.review": frozenset({"coach", "champion", "admin"}),
    "inbox.read": EVERYONE,             # one's own inbox only (the notify service)
    "inbox.update": EVERYONE,
    # Figures of the caller's own area: a coachee sees their facility's.
    "dashboards.read": EVERYONE,
    "live.read": EVERYONE,
    "accounts.read": SUPERVISORS,
    "accounts.write": frozenset({"admin"}),
    "deliveries.read": frozenset({"admin"}),
    "webhooks.manage": frozenset({"admin"}),
    # A coach's working day: which facilities to visit next, exports of the area.
    "visits.plan": SUPERVISORS,
    # The conversation on an action: the coach's side and the coachees (the
    # planner checks that a coachee is one of the plan's).
    "plans.comment": frozenset({"coachee", "coach", "champion", "admin"}),
    "exports.read": SUPERVISORS,
    # DHIS2: the export's mapping, metadata and runs; org units pulled from DHIS2.
    "hmis.manage": frozenset({"admin"}),
}
DEFAULT_ACTION = "signed_in"
ACTIONS[DEFAULT_ACTION] = EVERYONE

# gateway entrypoint (method name of GatewayService) -> action
ROUTES: dict[str, str] = {
    "me": "session.read",
    "update_me": "session.update",
    "my_coachees": "session.read",
    "list_accounts": "accounts.read",
    "get_account": "accounts.read",
    "create_account": "accounts.write",
    "update_account": "accounts.write",
    "disable_account": "accounts.write",
    "enable_account": "accounts.write",
    "submit_checklist": "submissions.create",
    "list_submissions": "checklists.read",
    "get_submission": "checklists.read",
    "get_facility_history": "checklists.read",
    "list_templates": "checklists.read",
    "get_template": "checklists.read",
    "list_org_units": "checklists.read",
    "create_template": "templates.write",
    "import_org_units": "org_units.write",
    "list_plans": "plans.read",
    "get_plan": "plans.read",
    "get_plan_for_submission": "plans.read",
    "list_evidence_queue": "evidence.read",
    "plan_history": "plans.read",
    "agree_plan": "plans.progress",
    "change_action_status": "plans.progress",
    "add_action": "plans.edit",
    "update_action": "plans.edit",
    "update_grow_notes": "plans.edit",
    "get_evidence": "evidence.read",
    "get_evidence_download": "evidence.read",
    "list_action_evidence": "evidence.read",
    "request_evidence_upload": "evidence.upload",
    "stream_evidence": "evidence.upload",
    "confirm_evidence_upload": "evidence.upload",
    "withdraw_evidence": "evidence.upload",
    "review_evidence": "evidence.review",
    "get_inbox": "inbox.read",
    "get_inbox_unread_count": "inbox.read",
    "mark_inbox_message_read": "inbox.update",
    "mark_inbox_read": "inbox.update",
    "get_delivery_log": "deliveries.read",
    "get_gaps_dashboard": "dashboards.read",
    "get_map_layer": "dashboards.read",
    "progress": "dashboards.read",
    "leaderboard": "dashboards.read",
    "live_updates": "live.read",
    "list_webhooks": "webhooks.manage",
    "create_webhook": "webhooks.manage",
    "get_webhook": "webhooks.manage",
    "disable_webhook": "webhooks.manage",
    "rotate_webhook_secret": "webhooks.manage",
    "list_webhook_deliveries": "webhooks.manage",
    "get_webhook_delivery": "webhooks.manage",
    "redeliver_webhook": "webhooks.manage",
    "get_facility_page": "checklists.read",
    "my_actions": "plans.read",
    "list_action_comments": "plans.read",
    "add_action_comment": "plans.comment",
    "visit_planning": "visits.plan",
    "export_visits_csv": "exports.read",
    "export_gaps_csv": "exports.read",
    # A visit's report: whoever may read the visit (a coachee shares theirs too).
    "visit_report": "checklists.read",
    "get_hmis_mapping": "hmis.manage",
    "set_hmis_mapping": "hmis.manage",
    "get_hmis_metadata": "hmis.manage",
    "request_hmis_export": "hmis.manage",
    "list_hmis_exports": "hmis.manage",
    "get_hmis_export": "hmis.manage",
    "start_dhis2_import": "org_units.write",
    "get_dhis2_import": "org_units.write",
}

# Entrypoints answered without a caller (they never call `auth.caller`).
PUBLIC = frozenset({"health", "sign_in", "refresh_session", "sign_out", "openapi_document",
                    "asyncapi_document", "api_docs", "api_docs_asset",
                    # the web app's files (web/dist): the app itself signs in
                    "web_app", "web_app_root", "web_app_asset", "web_app_screen"})


def action_of(route: str | None) -> str:
    return ROUTES.get(route or "", DEFAULT_ACTION)


def allowed(role: str, action: str) -> bool:
    """May a caller of `role` perform `action`? Unknown actions are refused."""
    return role in ACTIONS.get(action, frozenset())


def may_call(role: str, route: str | None) -> bool:
    return allowed(role, action_of(route))
