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

# action -> roles allowed to perform it
ACTIONS: dict[str, frozenset] = {
    "session.read": EVERYONE,           # one's own account
    "session.update": EVERYONE,         # one's own language, contacts, preferences
    "submissions.create": frozenset({"coach", "champion"}),
    "submissions.read": EVERYONE,
    "plans.read": EVERYONE,
    "plans.update": frozenset({"coachee", "coach", "champion"}),
    "evidence.read": EVERYONE,
    "evidence.upload": frozenset({"coachee", "coach", "champion"}),
    "evidence.review": frozenset({"coach", "champion"}),
    "inbox.read": EVERYONE,
    "inbox.update": EVERYONE,
    "checklists.read": EVERYONE,
    "dashboards.read": SUPERVISORS,
    "live.read": EVERYONE,
    "accounts.read": SUPERVISORS,
    "accounts.write": frozenset({"admin"}),
    "webhooks.manage": frozenset({"admin"}),
    "operations.manage": frozenset({"admin"}),
}
DEFAULT_ACTION = "signed_in"
ACTIONS[DEFAULT_ACTION] = EVERYONE

# gateway entrypoint (method name of GatewayService) -> action
ROUTES: dict[str, str] = {
    "me": "session.read",
    "update_me": "session.update",
    "submit_checklist": "submissions.create",
    "get_submission": "submissions.read",
    "get_plan_for_submission": "plans.read",
    "get_plan": "plans.read",
    "get_inbox": "inbox.read",
    "list_accounts": "accounts.read",
    "get_account": "accounts.read",
    "create_account": "accounts.write",
    "update_account": "accounts.write",
    "disable_account": "accounts.write",
    "enable_account": "accounts.write",
}

# Entrypoints answered without a caller (they never call `auth.caller`).
PUBLIC = frozenset({"health", "sign_in", "refresh_session", "sign_out", "openapi_document",
                    "asyncapi_document", "api_docs", "api_docs_asset"})


def action_of(route: str | None) -> str:
    return ROUTES.get(route or "", DEFAULT_ACTION)


def allowed(role: str, action: str) -> bool:
    """May a caller of `role` perform `action`? Unknown actions are refused."""
    return role in ACTIONS.get(action, frozenset())


def may_call(role: str, route: str | None) -> bool:
    return allowed(role, action_of(route))
