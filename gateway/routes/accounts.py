"""Accounts: admins create, re-scope, disable and enable them; supervisors read the
ones in their area. Every change publishes the whole account as `account.*`.

An account is inside a caller's scope when every one of its org-unit paths lies
under one of the caller's: an admin of the Kayes region neither sees nor touches
a coach of Niono, by any id, in any list or count. Out of scope answers 404
(existence is not revealed).
"""
from __future__ import annotations

import re
import uuid

from marshmallow import ValidationError
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from c2p.api import Page, paginate
from c2p.api.accounts import (ID_PATTERN, AccountCreate, AccountQuery, AccountUpdate,
                              AccountView, CoacheesQuery, MeUpdate)
from c2p.clock import iso, utcnow
from c2p.contracts.accounts import Preferences
from c2p.errors import Conflict, Forbidden, InvalidInput, NotFound
from c2p.scope import all_in_scope_clause, in_scope
from gateway.auth import check_password, hash_password
from gateway.dependencies import TimedRpc
from gateway.http import API, Reply, http, read_json
from gateway.models import Account, RefreshToken
from gateway.openapi import route

# Fields whose change alters what the account may see: its tokens are revoked.
ACCESS_FIELDS = ("role", "scope", "facility_id", "coaching")


def check_account(state: dict) -> dict:
    """Rules across fields of a whole account; {} when it holds together."""
    errors = {}
    role, scope = state["role"], state["scope"]
    if role == "coachee":
        facility = state.get("facility_id")
        if not facility:
            errors["facility_id"] = ["required for a coachee"]
        elif not any(path.rsplit("/", 1)[-1] == facility for path in scope):
            errors["facility_id"] = ["a coachee's scope must be the path of their facility"]
        if state.get("coaching"):
            errors["coaching"] = ["a coachee follows no facility"]
    for index, assignment in enumerate(state.get("coaching") or []):
        reasons = []
        if assignment["facility_path"].rsplit("/", 1)[-1] != assignment["facility_id"]:
            reasons.append("facility_path must end with facility_id")
        if not in_scope(assignment["facility_path"], scope):
            reasons.append("facility lies outside the account's scope")
        if reasons:
            errors[f"coaching.{index}"] = reasons
    return errors


def account_in_scope(account, scope) -> bool:
    return bool(account.scope) and all(in_scope(path, scope) for path in account.scope)


def state_of(account) -> dict:
    """The whole account as `account.*` events carry it."""
    return {"account_id": account.id, "username": account.username,
            "display_name": account.display_name, "role": account.role,
            "scope": list(account.scope), "language": account.language,
            "phone": account.phone, "email": account.email, "cohort": account.cohort,
            "facility_id": account.facility_id,
            "coaching": [{"facility_id": a["facility_id"], "facility_path": a["facility_path"]}
                         for a in account.coaching or []],
            "preferences": Preferences().load(account.preferences or {}),
            "active": account.active}


def view_of(account) -> dict:
    state = state_of(account)
    state["id"] = state.pop("account_id")
    state["created_at"] = iso(account.created_at)
    state["updated_at"] = iso(account.updated_at)
    return state



def _load(schema, payload, **kwargs):
    try:
        return schema.load(payload, **kwargs)
    except ValidationError as exc:
        raise InvalidInput(exc.messages) from None


def scope_clause(scope):
    """SQL: every path of the account lies under one of `scope`'s paths."""
    return all_in_scope_clause(Account.scope, scope)


def revoke_sessions(session, account, now=None):
    """Refresh tokens revoked and access tokens outdated (token_version bumped)."""
    now = now or utcnow()
    account.token_version = (account.token_version or 0) + 1
    session.execute(update(RefreshToken).where(RefreshToken.account_id == account.id,
                                               RefreshToken.revoked_at.is_(None))
                    .values(revoked_at=now))


class AccountRoutes:
    checklist = TimedRpc("checklist")  # owns the org units facilities are checked against

    @route(summary="List the accounts in the caller's area", query=AccountQuery,
           response=Page(AccountView), tags=["accounts"])
    @http("GET", f"{API}/accounts")
    def list_accounts(self, request):
        caller = self.auth.caller(request)
        filters = request.query
        query = select(Account).where(scope_clause(caller.scope))
        for name in ("role", "cohort", "facility_id", "active"):
            if name in filters:
                query = query.where(getattr(Account, name) == filters[name])
        if filters.get("q"):
            pattern = "%" + re.sub(r"([\\%_])", r"\\\1", filters["q"]) + "%"
            query = query.where(or_(Account.username.ilike(pattern),
                                    Account.display_name.ilike(pattern)))
        return paginate(self.db.session, query.order_by(Account.username), filters["page"],
                        filters["per_page"], view=view_of)

    @route(summary="One account", response=AccountView, errors=(404,), tags=["accounts"])
    @http("GET", f"{API}/accounts/<account_id>")
    def get_account(self, request, account_id):
        caller = self.auth.caller(request)
        return view_of(self._account_in_scope(account_id, caller))

    @route(summary="Create an account (admin)", request=AccountCreate, response=AccountView,
           status=(201, 200), errors=(409,), tags=["accounts"])
    @http("POST", f"{API}/accounts")
    def create_account(self, request):
        caller = self.auth.caller(request)
        data = _load(AccountCreate(), read_json(request))
        data.setdefault("language", "fr")
        data.setdefault("coaching", [])
        data.setdefault("preferences", Preferences().load({}))
        self._check_within(caller, data["scope"])
        data = self._with_facilities(caller, data)
        errors = check_account(data)
        if errors:
            raise InvalidInput(errors)
        session = self.db.session
        if "id" in data:
            existing = session.get(Account, data["id"])
            if existing is not None:
                if existing.username == data["username"] and account_in_scope(existing,
                                                                              caller.scope):
                    return Reply(view_of(existing), status=200)
                raise Conflict(f"account id {data['id']} is already used")
        else:
            data["id"] = str(uuid.uuid4())
        if session.scalars(select(Account.id).where(
                Account.username == data["username"])).first():
            raise Conflict(f"username {data['username']} is already taken")
        now = utcnow()
        account = Account(id=data["id"], username=data["username"],
                          password_hash=hash_password(data["password"]),
                          display_name=data["display_name"], role=data["role"],
                          scope=data["scope"], language=data["language"],
                          phone=data.get("phone"), email=data.get("email"),
                          cohort=data.get("cohort"), facility_id=data.get("facility_id"),
                          coaching=data["coaching"], preferences=data["preferences"],
                          active=True, token_version=0, created_at=now, updated_at=now)
        try:
            with session.begin_nested():
                session.add(account)
                session.flush()
        except IntegrityError:
            raise Conflict(f"account {data['id']} or username {data['username']} "
                           "was created meanwhile") from None
        self.db.emit("account.created", state_of(account))
        return Reply(view_of(account), status=201,
                     headers={"Location": f"{API}/accounts/{account.id}"})

    @route(summary="Change an account (admin); re-scoping revokes its tokens",
           request=AccountUpdate, response=AccountView, errors=(404, 409), tags=["accounts"])
    @http("PATCH", f"{API}/accounts/<account_id>")
    def update_account(self, request, account_id):
        caller = self.auth.caller(request)
        changes = _load(AccountUpdate(), read_json(request))
        account = self._account_in_scope(account_id, caller, lock=True)
        if "scope" in changes:
            self._check_within(caller, changes["scope"])
        before = state_of(account)
        merged = {**before, **{k: v for k, v in changes.items() if k != "password"}}
        if {"scope", "role", "facility_id", "coaching"} & set(changes):
            merged = self._with_facilities(caller, merged)
            changes["coaching"] = merged["coaching"]
        errors = check_account(merged)
        if errors:
            raise InvalidInput(errors)
        if account.id == caller.id and merged["role"] != "admin":
            raise Conflict("an admin cannot take away their own admin role")
        for name, value in changes.items():
            if name != "password":
                setattr(account, name, value)
        rescoped = any(merged[name] != before[name] for name in ACCESS_FIELDS)
        if "password" in changes:
            account.password_hash = hash_password(changes["password"])
        if rescoped or "password" in changes:
            revoke_sessions(self.db.session, account)
        if state_of(account) != before or "password" in changes:
            account.updated_at = utcnow()
            self.db.emit("account.updated", state_of(account))
        self.auth.account_changed(account)
        return view_of(account)

    @route(summary="Disable an account (admin): its tokens stop working", response=AccountView,
           errors=(404, 409), tags=["accounts"])
    @http("POST", f"{API}/accounts/<account_id>/disable")
    def disable_account(self, request, account_id):
        caller = self.auth.caller(request)
        account = self._account_in_scope(account_id, caller, lock=True)
        if account.id == caller.id:
            raise Conflict("an admin cannot disable their own account")
        if account.active:
            account.active = False
            revoke_sessions(self.db.session, account)
            account.updated_at = utcnow()
            self.db.emit("account.disabled", state_of(account))
            self.auth.account_changed(account)
        return view_of(account)

    @route(summary="Enable a disabled account (admin)", response=AccountView,
           errors=(404,), tags=["accounts"])
    @http("POST", f"{API}/accounts/<account_id>/enable")
    def enable_account(self, request, account_id):
        caller = self.auth.caller(request)
        account = self._account_in_scope(account_id, caller, lock=True)
        if not account.active:
            account.active = True
            account.updated_at = utcnow()
            self.db.emit("account.updated", state_of(account))
            self.auth.account_changed(account)
        return view_of(account)

    # --- one's own account -------------------------------------------------

    @route(summary="The signed-in account", response=AccountView, tags=["session"])
    @http("GET", f"{API}/me")
    def me(self, request):
        caller = self.auth.caller(request)
        account = self.db.session.get(Account, caller.id)
        if account is None:
            raise NotFound("account not found")
        return view_of(account)

    @route(summary="The coachees of the facilities the signed-in coach follows",
           query=CoacheesQuery, response=Page(AccountView), tags=["session"])
    @http("GET", f"{API}/me/coachees")
    def my_coachees(self, request):
        caller = self.auth.caller(request)
        account = self.db.session.get(Account, caller.id)
        followed = [a["facility_id"] for a in (account.coaching if account else None) or []]
        # Scope still applies: a facility followed but since left out of the
        # coach's scope shows nobody.
        query = select(Account).where(scope_clause(caller.scope), Account.role == "coachee",
                                      Account.active.is_(True),
                                      Account.facility_id.in_(followed))
        return paginate(self.db.session, query.order_by(Account.facility_id, Account.username),
                        request.query["page"], request.query["per_page"], view=view_of)

    @route(summary="Change one's own name, language, contacts, preferences or password",
           request=MeUpdate, response=AccountView, tags=["session"])
    @http("PATCH", f"{API}/me")
    def update_me(self, request):
        caller = self.auth.caller(request)
        changes = _load(MeUpdate(), read_json(request))
        account = self.db.session.get(Account, caller.id, with_for_update=True)
        if account is None:
            raise NotFound("account not found")
        before = state_of(account)
        if "password" in changes:
            if not check_password(account.password_hash, changes["current_password"]):
                raise InvalidInput({"current_password": ["does not match"]})
            account.password_hash = hash_password(changes["password"])
            revoke_sessions(self.db.session, account)
        for name in ("display_name", "language", "phone", "email", "preferences"):
            if name in changes:
                setattr(account, name, changes[name])
        if state_of(account) != before or "password" in changes:
            account.updated_at = utcnow()
            self.db.emit("account.updated", state_of(account))
        self.auth.account_changed(account)
        return view_of(account)

    # --- helpers -----------------------------------------------------------

    def _account_in_scope(self, account_id, caller, lock=False):
        account = None
        if re.match(ID_PATTERN, account_id or ""):
            account = self.db.session.get(Account, account_id, with_for_update=lock or None)
        if account is None or not account_in_scope(account, caller.scope):
            raise NotFound(f"account {account_id} not found")
        return account

    def _with_facilities(self, caller, state):
        """`state` with its coaching paths filled in from the checklist service's org
        units; a facility that is unknown, or outside the account's scope, is
        InvalidInput naming it."""
        wanted = {a["facility_id"] for a in state.get("coaching") or []}
        if state.get("role") == "coachee" and state.get("facility_id"):
            wanted.add(state["facility_id"])
        if not wanted:
            return state
        units = self.checklist.list_org_units(
            {"id": caller.id, "role": caller.role, "scope": list(state["scope"]),
             "facility_id": None}, level="facility")
        paths = {unit["id"]: unit["path"] for unit in units}
        errors = {}
        coaching = []
        for index, assignment in enumerate(state.get("coaching") or []):
            path = paths.get(assignment["facility_id"])
            if path is None:
                errors[f"coaching.{index}.facility_id"] = [
                    "no such facility in the account's scope"]
            elif assignment.get("facility_path") not in (None, path):
                errors[f"coaching.{index}.facility_path"] = [f"the facility's path is {path}"]
            coaching.append({"facility_id": assignment["facility_id"], "facility_path": path})
        if state.get("role") == "coachee" and state.get("facility_id") \
                and state["facility_id"] not in paths:
            errors["facility_id"] = ["no such facility in the account's scope"]
        if errors:
            raise InvalidInput(errors)
        return {**state, "coaching": coaching}

    @staticmethod
    def _check_within(caller, scope):
        outside = [path for path in scope if not in_scope(path, caller.scope)]
        if outside:
            paths = ", ".join(outside)
            raise Forbidden("scope", f"scope {paths} lies outside your own scope",
                            f"le périmètre {paths} sort de votre propre périmètre")

