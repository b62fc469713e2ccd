"""Planner entrypoints: a plan per scored visit, its life cycle, the evidence loop,
due-date alerts and progress figures. The rules are in `planner.domain`.

Every RPC takes the caller as `{"id", "role", "scope"}` (the gateway's
`Caller.as_rpc()`); a plan outside the caller's scope is answered NotFound.
Changes that touch a plan's status lock the plans concerned (SELECT ... FOR NO KEY
UPDATE, in id order, then the action) so that two workers closing the last two
actions of a plan at once still complete it, exactly once. NO KEY: the foreign-key
checks of rows written meanwhile (history, entries) take KEY SHARE locks on plans,
which FOR UPDATE would block, deadlocking with the due-date sweep.
"""
from __future__ import annotations

import logging
import uuid
from datetime import date, datetime, timedelta

from marshmallow import ValidationError
from sqlalchemy import String, case, cast, false, func, null, or_, select, text
from sqlalchemy.orm import selectinload

from c2p.entrypoints import rpc, subscribe
from c2p.errors import Conflict, Forbidden, InvalidInput, NotFound
from c2p.scope import in_scope
from c2p.service import PlatformService
from planner import domain, schemas
from planner.dependencies import Clock, Settings, sweep_timer
from planner.domain import CLOSED, OPEN, Refused, plan_actions
from planner.models import Action, HistoryEntry, ImprovementPlan, PlanEntry

log = logging.getLogger(__name__)

SWEEP_BATCH = 200


class PlannerService(PlatformService):
    name = "planner"
    clock = Clock()
    planner_settings = Settings()

    # --- events in ---------------------------------------------------------------

    @subscribe("checklist.submitted")
    def on_checklist_submitted(self, event):
        visit = event.data
        session = self.db.session
        if session.scalars(select(ImprovementPlan.id).where(
                ImprovementPlan.submission_id == visit["submission_id"])).first():
            return  # this visit already has its plan
        plan = ImprovementPlan(
            id=uuid.uuid4(), submission_id=visit["submission_id"],
            facility_id=visit["facility_id"], facility_name=visit["facility_name"],
            facility_path=visit["facility_path"], coach_id=visit["coach_id"], status="draft",
            visited_at=visit["visited_at"], created_at=self.clock.now(),
            coachees=[{"id": c["id"], "role": c.get("role", ""), "name": c.get("name", "")}
                      for c in visit["coachees"]])
        session.add(plan)
        session.flush()
        still_open = self._open_actions_for(plan, [gap["item_code"] for gap in visit["gaps"]])
        planned = plan_actions(visit["gaps"], visit["coachees"], visit["visited_at"].date(),
                               {code: str(a.id) for code, a in still_open.items()})
        for item in planned:
            if item.carried_over:
                action = still_open[item.item_code]
                action.recurring = True
                action.plan_id = plan.id  # its events now name the latest plan
                session.add(PlanEntry(plan_id=plan.id, action_id=action.id,
                                      position=item.position, carried_over=True))
                self._record(plan.id, action.id, "system", "action.carried_over",
                             {"from_plan_id": str(action.origin_plan_id)})
            else:
                action = Action(
                    id=uuid.uuid4(), plan_id=plan.id, origin_plan_id=plan.id,
                    position=item.position, item_code=item.item_code, text_fr=item.text_fr,
                    text_en=item.text_en, verification_fr=item.verification_fr,
                    verification_en=item.verification_en,
                    responsible_role=item.responsible_role, owner_id=item.owner_id,
                    due_date=item.due_date, critical=item.critical,
                    points_lost=item.points_lost, status="todo", source="gap",
                    created_at=self.clock.now())
                session.add(action)
                session.flush()
                session.add(PlanEntry(plan_id=plan.id, action_id=action.id,
                                      position=item.position, carried_over=False))
        session.flush()
        session.refresh(plan)
        self._record(plan.id, None, visit["coach_id"], "plan.created",
                     {"submission_id": str(plan.submission_id), "actions": len(planned)})
        self.db.emit("plan.created", {
            **_plan_ref(plan), "submission_id": plan.submission_id,
            "actions": [{"action_id": e.action.id, "item_code": e.action.item_code,
                         "text_fr": e.action.text_fr, "text_en": e.action.text_en,
                         "owner_id": e.action.owner_id,
                         "owner_role": e.action.responsible_role,
                         "due_date": e.action.due_date, "critical": e.action.critical,
                         "status": e.action.status, "recurring": e.carried_over}
                        for e in plan.entries],
        })

    @subscribe("evidence.reviewed")
    def on_evidence_reviewed(self, event):
        review = event.data
        found = self._lock_action(review["action_id"])
        if found is None:
            log.warning("evidence %s reviewed for unknown action %s: ignored",
                        review["evidence_id"], review["action_id"])
            return
        action, plans = found
        outcome = domain.review_outcome(action.status, review["decision"], review["comment"])
        actor = review["reviewed_by"]
        self._record(action.plan_id, action.id, actor, "evidence.reviewed", {
            "evidence_id": str(review["evidence_id"]), "decision": review["decision"],
            "comment": review["comment"]})
        if outcome.target is None:
            if outcome.comment:
                action.comment = outcome.comment
            return
        self._move(action, plans, outcome.target, actor, review["reviewed_at"],
                   comment=outcome.comment)

    # --- time ----------------------------------------------------------------------

    @sweep_timer(interval=None)
    def send_due_date_alerts(self):
        # One transaction per batch, so a backlog does not hold thousands of locks
        # (the unit of work commits whatever is left when the timer's worker ends).
        while True:
            claimed, sent = self.sweep_due_dates()
            self.db.session.commit()
            if claimed < SWEEP_BATCH or not sent:
                return

    def sweep_due_dates(self) -> tuple[int, int]:
        """Mark actions due soon or overdue and announce each once per state; return
        how many rows were claimed and how many alerts sent.

        Rows are claimed FOR UPDATE SKIP LOCKED and `alert_state` is set in the same
        transaction as the outbox row, so replicas sweeping at once never both send."""
        today = self.clock.today()
        window = self.planner_settings.due_soon_days
        rows = self.db.session.execute(
            select(Action, ImprovementPlan)
            .join(ImprovementPlan, ImprovementPlan.id == Action.plan_id)
            .where(Action.status.in_(OPEN),
                   or_(Action.due_date < today,
                       (Action.alert_state == "none")
                       & (Action.due_date <= today + _days(window))),
                   Action.alert_state != "overdue")
            .order_by(Action.due_date)
            .limit(SWEEP_BATCH)
            .with_for_update(of=Action, skip_locked=True, key_share=True)).all()
        sent = 0
        for action, plan in rows:
            alert = domain.alert_for(action.status, action.due_date, action.alert_state,
                                     today, window)
            if alert is None:
                continue
            action.alert_state = alert
            data = _action_ref(action, plan)
            if alert == "overdue":
                data["days_late"] = (today - action.due_date).days
            else:
                data["days_left"] = (action.due_date - today).days
            self.db.emit(f"action.{alert}", data)
            self._record(plan.id, action.id, "system", f"action.{alert}",
                         {"due_date": action.due_date.isoformat()})
            sent += 1
        return len(rows), sent

    # --- reading -------------------------------------------------------------------

    @rpc
    def get_plan(self, plan_id, caller):
        return self._view(self._plan(plan_id, caller))

    @rpc
    def get_plan_for_submission(self, submission_id, caller):
        plan = self.db.session.scalars(select(ImprovementPlan).where(
            ImprovementPlan.submission_id == _uuid(submission_id))).first()
        if plan is None or not in_scope(plan.facility_path, _caller(caller)["scope"]):
            raise NotFound(f"no plan yet for submission {submission_id}")
        return self._view(plan)

    @rpc
    def list_plans(self, caller, filters=None):
        caller = _caller(caller)
        wanted = _load(schemas.PlanFilters(), filters or {})
        query = select(ImprovementPlan).where(_in_scope(ImprovementPlan.facility_path,
                                                        caller["scope"]))
        if wanted["facility_id"]:
            query = query.where(ImprovementPlan.facility_id == wanted["facility_id"])
        if wanted["status"]:
            query = query.where(ImprovementPlan.status == wanted["status"])
        session = self.db.session
        total = session.scalar(select(func.count()).select_from(query.subquery()))
        page, per_page = wanted["page"], wanted["per_page"]
        plans = session.scalars(
            query.options(selectinload(ImprovementPlan.entries))
            .order_by(ImprovementPlan.created_at.desc(), ImprovementPlan.id)
            .offset((page - 1) * per_page).limit(per_page)).all()
        today = self.clock.today()
        return {"total": total, "page": page, "per_page": per_page,
                "items": [_summary(plan, today) for plan in plans]}

    @rpc
    def plan_history(self, plan_id, caller):
        plan = self._plan(plan_id, caller)
        action_ids = [e.action_id for e in plan.entries]
        rows = self.db.session.scalars(
            select(HistoryEntry).where(or_(HistoryEntry.plan_id == plan.id,
                                           HistoryEntry.action_id.in_(action_ids)))
            .order_by(HistoryEntry.at, HistoryEntry.id)).all()
        return {"plan_id": str(plan.id), "items": [{
            "at": row.at.isoformat(), "actor_id": row.actor_id, "change": row.change,
            "action_id": str(row.action_id) if row.action_id else None,
            "plan_id": str(row.plan_id), "details": row.details} for row in rows]}

    @rpc
    def progress(self, caller, by, since=None, until=None):
        """Actions done, open, overdue and dropped, percent done and median days to
        close, per plan, coachee (owner), facility or district.

        `since`/`until` (ISO dates, inclusive) keep the actions created in that
        window; for `by="plan"`, the plans created in it (with all their actions)."""
        caller = _caller(caller)
        query = _load(schemas.ProgressQuery(), {"by": by, "since": since, "until": until})
        by, since, until = query["by"], query["since"], query["until"]
        if by == "plan":  # a carried-over action counts in every plan it is in
            stmt = (select().select_from(Action)
                    .join(PlanEntry, PlanEntry.action_id == Action.id)
                    .join(ImprovementPlan, ImprovementPlan.id == PlanEntry.plan_id))
            window_on = ImprovementPlan.created_at
        else:  # each action once, with the facility and owner of its latest plan
            stmt = (select().select_from(Action)
                    .join(ImprovementPlan, ImprovementPlan.id == Action.plan_id))
            window_on = Action.created_at
        stmt = stmt.where(_in_scope(ImprovementPlan.facility_path, caller["scope"]))
        if since:
            stmt = stmt.where(func.date(window_on) >= since)
        if until:
            stmt = stmt.where(func.date(window_on) <= until)
        key, label, path = _grouping(by)
        is_open = Action.status.in_(OPEN)
        done = Action.status == "done"
        # percentile_cont skips NULLs: only done actions count towards the median.
        days_to_close = case((done, func.greatest(
            func.extract("epoch", Action.closed_at - Action.created_at), 0) / 86400))
        stmt = stmt.add_columns(
            key.label("key"), label.label("label"), path.label("facility_path"),
            func.count().filter(done).label("done"),
            func.count().filter(is_open).label("open"),
            func.count().filter(is_open & (Action.due_date < self.clock.today())).label(
                "overdue"),
            func.count().filter(Action.status == "dropped").label("dropped"),
            func.percentile_cont(0.5).within_group(days_to_close).label("median"),
        ).group_by(key)
        rows = self.db.session.execute(stmt).all()
        names = self._coachee_names([r.key for r in rows]) if by == "coachee" else {}
        found = [domain.progress_row(
            key=r.key or "unassigned",
            label=(names.get(r.key) or r.key or "unassigned") if by == "coachee" else r.label,
            facility_path=r.facility_path, done=r.done, open=r.open, overdue=r.overdue,
            dropped=r.dropped, median_days=r.median) for r in rows]
        return sorted(found, key=lambda row: (row["label"], row["key"]))

    def _coachee_names(self, ids) -> dict:
        """Coachees' names as the visits recorded them."""
        ids = [i for i in ids if i]
        if not ids:
            return {}
        rows = self.db.session.execute(text(
            "select distinct person->>'id', person->>'name' from plans, "
            "jsonb_array_elements(plans.coachees) as person "
            "where person->>'id' = any(:ids)"), {"ids": ids}).all()
        return {person_id: name for person_id, name in rows if name}

    # --- changing ------------------------------------------------------------------

    @rpc
    def agree_plan(self, plan_id, caller):
        caller = _caller(caller)
        plan = self._plan(plan_id, caller, lock=True)
        coachees_of_plan = set(plan.coachee_ids) | {a.owner_id for a in plan.actions
                                                    if a.owner_id}
        confirmed = {side for side in ("coach", "coachee")
                     if getattr(plan, f"{side}_agreed_by")}
        side = _refusal(lambda: domain.check_agreement(
            plan.status, caller["role"], caller["id"] in coachees_of_plan
            or (not coachees_of_plan and caller["role"] == domain.COACHEE), confirmed))
        if side is None:
            return self._view(plan)  # a retried confirmation
        now = self.clock.now()
        setattr(plan, f"{side}_agreed_by", caller["id"])
        setattr(plan, f"{side}_agreed_at", now)
        self._record(plan.id, None, caller["id"], "plan.confirmed", {"party": side})
        if plan.coach_agreed_by and plan.coachee_agreed_by:
            plan.agreed_at = now
            self.db.emit("plan.agreed", {
                **_plan_ref(plan), "agreed_by": [plan.coach_agreed_by, plan.coachee_agreed_by],
                "agreed_at": now})
            self._record(plan.id, None, caller["id"], "plan.agreed", {})
            self._refresh_status(plan, caller["id"], now)
        return self._view(plan)

    @rpc
    def update_action(self, plan_id, action_id, changes, caller):
        caller = _caller(caller)
        changes = _load(schemas.ActionChange(), changes)
        plan = self._plan(plan_id, caller)
        action = self._action_of(plan, action_id, lock=True)
        _refusal(lambda: domain.check_editable(action.status, caller["role"]))
        if "due_date" in changes:
            _check_due_date(plan, changes["due_date"])
        before = {}
        for name, value in changes.items():
            if getattr(action, name) != value:
                before[name] = getattr(action, name)
                setattr(action, name, value)
        if "due_date" in before:
            action.alert_state = "none"  # a new date deserves its own alerts
        if before:
            self._record(plan.id, action.id, caller["id"], "action.updated", {
                name: {"from": _plain(old), "to": _plain(getattr(action, name))}
                for name, old in before.items()})
        return self._view(plan)

    @rpc
    def change_action_status(self, plan_id, action_id, request, caller):
        caller = _caller(caller)
        request = _load(schemas.StatusChange(), request)
        plan = self._plan(plan_id, caller)
        found = self._lock_action(action_id)
        if found is None or plan.id not in {p.id for p in found[1]}:
            raise NotFound(f"action {action_id} not found in plan {plan_id}")
        action, plans = found
        plan = next(p for p in plans if p.id == plan.id)
        # A carried-over action may go on in a new plan still in draft: the plan it
        # was agreed in counts.
        agreed = next((p.status for p in plans if p.agreed_at is not None), plan.status)
        _refusal(lambda: domain.check_transition(
            action.status, request["status"], caller["role"],
            caller["role"] == domain.COACHEE, agreed, request["reason"]))
        self._move(action, plans, request["status"], caller["id"], self.clock.now(),
                   comment=request["comment"], reason=request["reason"])
        return self._view(plan)

    @rpc
    def add_action(self, plan_id, request, caller):
        """Add a coach's own action; the same client id again returns what was added."""
        caller = _caller(caller)
        request = _load(schemas.NewAction(), request)
        plan = self._plan(plan_id, caller, lock=True)
        if caller["role"] not in domain.EDITORS:
            raise Forbidden(f"a {caller['role']} cannot add actions")
        session = self.db.session
        existing = session.get(Action, request["id"])
        if existing is not None:
            if plan.id not in {e.plan_id for e in existing.entries}:
                raise Conflict(f"action id {request['id']} is already used by another plan")
            return {"replayed": True, "action_id": str(existing.id), "plan": self._view(plan)}
        if plan.status == "completed":
            raise Conflict("the plan is completed; actions can no longer be added")
        _check_due_date(plan, request["due_date"])
        position = max((e.position for e in plan.entries), default=0) + 1
        text_fr = request.get("text_fr") or request["text_en"]
        text_en = request.get("text_en") or request["text_fr"]
        action = Action(
            id=request["id"], plan_id=plan.id, origin_plan_id=plan.id, position=position,
            item_code=None, text_fr=text_fr, text_en=text_en,
            verification_fr=request["verification_fr"],
            verification_en=request["verification_en"],
            responsible_role=request["responsible_role"], owner_id=request["owner_id"],
            due_date=request["due_date"], critical=request["critical"], points_lost=0,
            status="todo", source="coach", created_at=self.clock.now())
        session.add(action)
        session.flush()
        session.add(PlanEntry(plan_id=plan.id, action_id=action.id, position=position))
        session.flush()
        session.refresh(plan)
        self._record(plan.id, action.id, caller["id"], "action.added",
                     {"text_fr": text_fr, "text_en": text_en,
                      "due_date": request["due_date"].isoformat(),
                      "owner_id": request["owner_id"]})
        self._refresh_status(plan, caller["id"], self.clock.now())
        return {"replayed": False, "action_id": str(action.id), "plan": self._view(plan)}

    @rpc
    def update_grow_notes(self, plan_id, notes, caller):
        caller = _caller(caller)
        notes = _load(schemas.GrowNotes(), notes)
        plan = self._plan(plan_id, caller, lock=True)
        if caller["role"] not in domain.EDITORS:
            raise Forbidden(f"a {caller['role']} cannot write the plan's GROW notes")
        changed = {}
        for name, text in notes.items():
            if getattr(plan, f"grow_{name}") != text:
                changed[name] = {"from": getattr(plan, f"grow_{name}"), "to": text}
                setattr(plan, f"grow_{name}", text)
        if changed:
            self._record(plan.id, None, caller["id"], "grow.updated", changed)
        return self._view(plan)

    # --- inside --------------------------------------------------------------------

    def _plan(self, plan_id, caller, lock=False) -> ImprovementPlan:
        query = select(ImprovementPlan).where(ImprovementPlan.id == _uuid(plan_id))
        if lock:
            query = query.with_for_update(key_share=True).execution_options(populate_existing=True)
        plan = self.db.session.scalars(query).first()
        if plan is None or not in_scope(plan.facility_path, _caller(caller)["scope"]):
            raise NotFound(f"plan {plan_id} not found")
        return plan

    def _action_of(self, plan, action_id, lock=False) -> Action:
        query = (select(Action).join(PlanEntry, PlanEntry.action_id == Action.id)
                 .where(PlanEntry.plan_id == plan.id, Action.id == _uuid(action_id)))
        if lock:
            query = (query.with_for_update(of=Action, key_share=True)
                     .execution_options(populate_existing=True))
        action = self.db.session.scalars(query).first()
        if action is None:
            raise NotFound(f"action {action_id} not found in plan {plan.id}")
        return action

    def _lock_action(self, action_id):
        """The action and every plan it is in, locked (plans first, in id order)."""
        session = self.db.session
        action_id = _uuid(action_id)

        def plans_of_action():
            return session.scalars(
                select(ImprovementPlan)
                .join(PlanEntry, PlanEntry.plan_id == ImprovementPlan.id)
                .where(PlanEntry.action_id == action_id)
                .order_by(ImprovementPlan.id).with_for_update(of=ImprovementPlan, key_share=True)
                .execution_options(populate_existing=True)).all()
        plans_of_action()
        action = session.scalars(
            select(Action).where(Action.id == action_id).with_for_update(key_share=True)
            .execution_options(populate_existing=True)).first()
        if action is None:
            return None
        # Again: a visit may have carried the action into a new plan while we waited.
        plans = plans_of_action()
        for plan in plans:  # re-read the entries: other actions may have moved meanwhile
            session.refresh(plan, ["entries"])
        return action, plans

    def _open_actions_for(self, plan, item_codes) -> dict:
        """Still-open actions of earlier visits to this facility, by item (locked)."""
        if not item_codes:
            return {}
        rows = self.db.session.scalars(
            select(Action).join(ImprovementPlan, ImprovementPlan.id == Action.plan_id)
            .where(ImprovementPlan.facility_id == plan.facility_id,
                   ImprovementPlan.id != plan.id,
                   or_(ImprovementPlan.visited_at.is_(None),
                       ImprovementPlan.visited_at <= plan.visited_at),
                   Action.item_code.in_(item_codes), Action.status.in_(OPEN))
            .order_by(Action.created_at)
            .with_for_update(of=Action, key_share=True)).all()
        return {action.item_code: action for action in rows}

    def _move(self, action, plans, target, actor, at, comment="", reason=""):
        """Apply an allowed status change, announce it, and update the plans' status."""
        previous = action.status
        action.status = target
        if comment:
            action.comment = comment
        if target == "in_progress" and action.started_at is None:
            action.started_at = at
        if target in CLOSED:
            action.closed_at = at
            if target == "dropped":
                action.drop_reason = reason
            else:
                action.late = domain.is_late(action.due_date, at.date())
        current = next((p for p in plans if p.id == action.plan_id), plans[0])
        self._record(current.id, action.id, actor, "action.status_changed", {
            "from": previous, "to": target, "comment": comment, "reason": reason,
            "late": action.late})
        self.db.emit("action.status_changed", {
            **_action_ref(action, current), "from_status": previous, "changed_by": actor,
            "changed_at": at, "comment": comment or reason, "late": action.late})
        for plan in plans:
            self._refresh_status(plan, actor, at)

    def _refresh_status(self, plan, actor, at):
        self.db.session.flush()
        status = domain.derive_plan_status(plan.agreed_at is not None,
                                           [a.status for a in plan.actions])
        if status == plan.status:
            return
        self._record(plan.id, None, actor, "plan.status_changed",
                     {"from": plan.status, "to": status})
        plan.status = status
        if status == "completed":
            plan.completed_at = at
            statuses = [a.status for a in plan.actions]
            self.db.emit("plan.completed", {
                **_plan_ref(plan), "completed_at": at,
                "actions_done": statuses.count("done"),
                "actions_dropped": statuses.count("dropped")})

    def _record(self, plan_id, action_id, actor, change, details):
        self.db.session.add(HistoryEntry(plan_id=plan_id, action_id=action_id,
                                         actor_id=actor or "system", change=change,
                                         details=details, at=self.clock.now()))

    def _view(self, plan):
        today = self.clock.today()
        return {
            "id": str(plan.id), "submission_id": str(plan.submission_id),
            "facility_id": plan.facility_id, "facility_name": plan.facility_name,
            "facility_path": plan.facility_path,
            "coach_id": plan.coach_id, "coachees": plan.coachees, "status": plan.status,
            "created_at": plan.created_at.isoformat(),
            "visited_at": plan.visited_at.isoformat() if plan.visited_at else None,
            "agreement": {
                "coach": _confirmation(plan.coach_agreed_by, plan.coach_agreed_at),
                "coachee": _confirmation(plan.coachee_agreed_by, plan.coachee_agreed_at),
                "agreed_at": _iso(plan.agreed_at)},
            "completed_at": _iso(plan.completed_at),
            "grow": {"goal": plan.grow_goal, "reality": plan.grow_reality,
                     "options": plan.grow_options, "will": plan.grow_will},
            "actions": [_action_view(entry, today) for entry in plan.entries],
        }


# --- helpers ---------------------------------------------------------------------

def _caller(caller) -> dict:
    """The caller dict; a bare scope list (older callers) reads as an anonymous reader."""
    if isinstance(caller, dict):
        return {"id": caller.get("id"), "role": caller.get("role"),
                "scope": list(caller.get("scope") or [])}
    return {"id": None, "role": None, "scope": list(caller or [])}


def _in_scope(column, scope):
    """SQL form of c2p.scope.in_scope."""
    clauses = []
    for root in scope or ():
        clauses.append(column == root)
        prefix = root.rstrip("/") + "/"
        escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        clauses.append(column.like(escaped + "%", escape="\\"))
    return or_(*clauses) if clauses else false()


def _load(schema, payload):
    if not isinstance(payload, dict):
        raise InvalidInput({"body": ["must be a JSON object"]})
    try:
        return schema.load(payload)
    except ValidationError as exc:
        raise InvalidInput(exc.messages) from None


def _refusal(check):
    """Run a domain check, turning its refusal into the matching C2P error."""
    try:
        return check()
    except Refused as refused:
        if refused.kind == "invalid":
            raise InvalidInput({refused.field or "_": [refused.message]}) from None
        if refused.kind == "forbidden":
            raise Forbidden(refused.message) from None
        raise Conflict(refused.message) from None


def _check_due_date(plan, due: date):
    start = (plan.visited_at or plan.created_at).date()
    if due < start:
        raise InvalidInput({"due_date": [f"must not be before the visit ({start.isoformat()})"]})


def _days(n):
    return timedelta(days=n)


def _uuid(value):
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return uuid.UUID(int=0)


def _iso(moment):
    return moment.isoformat() if moment else None


def _plain(value):
    return value.isoformat() if isinstance(value, (date, datetime)) else value


def _confirmation(by, at):
    return {"by": by, "at": at.isoformat()} if by else None


def _plan_ref(plan) -> dict:
    return {"plan_id": plan.id, "facility_id": plan.facility_id,
            "facility_name": plan.facility_name, "facility_path": plan.facility_path,
            "coach_id": plan.coach_id, "coachee_ids": plan.coachee_ids}


def _action_ref(action, plan) -> dict:
    return {**_plan_ref(plan), "action_id": action.id, "item_code": action.item_code,
            "text_fr": action.text_fr, "text_en": action.text_en,
            "owner_id": action.owner_id, "due_date": action.due_date,
            "status": action.status}


def _action_view(entry, today) -> dict:
    a = entry.action
    return {
        "id": str(a.id), "position": entry.position, "item_code": a.item_code,
        "text_fr": a.text_fr, "text_en": a.text_en,
        "verification_fr": a.verification_fr, "verification_en": a.verification_en,
        "responsible_role": a.responsible_role, "owner_id": a.owner_id,
        "due_date": a.due_date.isoformat(), "critical": a.critical,
        "points_lost": a.points_lost, "status": a.status, "source": a.source,
        "recurring": a.recurring, "carried_over": entry.carried_over,
        "origin_plan_id": str(a.origin_plan_id) if a.origin_plan_id else None,
        "comment": a.comment, "drop_reason": a.drop_reason, "late": a.late,
        "overdue": a.status in OPEN and a.due_date < today,
        "created_at": _iso(a.created_at), "started_at": _iso(a.started_at),
        "closed_at": _iso(a.closed_at),
    }


def _summary(plan, today) -> dict:
    statuses = [(e.action.status, e.action.due_date) for e in plan.entries]
    return {
        "id": str(plan.id), "submission_id": str(plan.submission_id),
        "facility_id": plan.facility_id, "facility_name": plan.facility_name,
        "facility_path": plan.facility_path, "coach_id": plan.coach_id,
        "status": plan.status, "created_at": plan.created_at.isoformat(),
        "visited_at": _iso(plan.visited_at),
        "actions": {"total": len(statuses),
                    "done": sum(1 for s, _ in statuses if s == "done"),
                    "dropped": sum(1 for s, _ in statuses if s == "dropped"),
                    "open": sum(1 for s, _ in statuses if s in OPEN),
                    "overdue": sum(1 for s, d in statuses if s in OPEN and d < today)},
    }


def _grouping(by):
    """Key, label and facility path (SQL expressions) of the groups of `progress`."""
    if by == "plan":
        day = func.to_char(func.coalesce(ImprovementPlan.visited_at,
                                         ImprovementPlan.created_at), "YYYY-MM-DD")
        return (cast(ImprovementPlan.id, String),
                func.max(ImprovementPlan.facility_name + " (" + day + ")"),
                func.max(ImprovementPlan.facility_path))
    if by == "facility":
        return (ImprovementPlan.facility_id, func.max(ImprovementPlan.facility_name),
                func.max(ImprovementPlan.facility_path))
    if by == "district":
        district = func.regexp_replace(ImprovementPlan.facility_path, "/[^/]+$", "")
        return district, func.max(func.regexp_replace(district, "^.*/", "")), null()
    return Action.owner_id, func.max(Action.owner_id), null()
