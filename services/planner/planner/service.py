"""Planner entrypoints: a plan per scored visit, its life cycle, the evidence loop,
due-date alerts and progress figures.

Entrypoints only: the rules are in `planner.domain`, the queries (and the locking
order that keeps concurrent changes exact) in `planner.store`, the requests, views
and event data in `planner.schemas`.

Every RPC takes the caller as `{"id", "role", "scope"}` (the gateway's
`Caller.as_rpc()`); a plan outside the caller's scope is answered NotFound.
"""
from __future__ import annotations

import logging

from nameko import config

from c2p.clock import Clock
from c2p.entrypoints import rpc, subscribe, timer
from c2p.errors import Conflict, Forbidden, NotFound
from c2p.scope import in_scope
from c2p.service import PlatformService
from c2p.validation import load
from planner import domain, follow_up, schemas, store, visit_plans
from planner.domain import plan_actions
from planner.models import Action, ActionComment, ImprovementPlan

log = logging.getLogger(__name__)

SWEEP_BATCH = 200


class PlannerService(PlatformService):
    name = "planner"
    clock = Clock()

    # --- events in ---------------------------------------------------------------

    @subscribe("checklist.submitted")
    def on_checklist_submitted(self, event):
        visit = event.data
        session = self.db.session
        plan = visit_plans.insert_plan(session, visit, self.clock.now())
        if plan is None:
            return  # this visit already has its plan
        # First what this visit verifies (plans, then actions, locked in the one safe
        # order), then what it carries over.
        follow_up.verify_passed(session, self.db.emit, plan, visit, self.clock.now())
        carried = visit_plans.still_open(session, plan,
                                         [gap["item_code"] for gap in visit["gaps"]])
        planned = plan_actions(visit["gaps"], visit["coachees"], visit["visited_at"].date(),
                               {code: str(row.id) for code, row in carried.items()},
                               dtc_id=visit.get("dtc_id"))
        actions = visit_plans.write_actions(session, plan, planned, carried,
                                            self.clock.now(), visit["coach_id"])
        self.db.emit("plan.created", visit_plans.plan_created(plan, actions))

    @subscribe("evidence.reviewed")
    def on_evidence_reviewed(self, event):
        review = event.data
        found = store.lock_action(self.db.session, review["action_id"])
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

    @timer("due_alert_interval_s")
    def send_due_date_alerts(self):
        # One transaction per batch, so a backlog does not hold thousands of locks
        # (the unit of work commits whatever is left when the timer's worker ends).
        while True:
            claimed, sent = self.sweep_due_dates()
            self.db.commit()
            if claimed < SWEEP_BATCH or not sent:
                return

    def sweep_due_dates(self) -> tuple[int, int]:
        """Mark actions due soon or overdue and announce each once per state; return
        how many rows were claimed and how many alerts sent.

        `alert_state` is set in the same transaction as the outbox row, and the
        rows are claimed SKIP LOCKED, so replicas sweeping at once never both send."""
        today = self.clock.today()
        window = config["C2P_SETTINGS"].due_soon_days
        rows = store.claim_due_actions(self.db.session, today, window, SWEEP_BATCH)
        sent = 0
        for action, plan in rows:
            alert = domain.alert_for(action.status, action.due_date, action.alert_state,
                                     today, window)
            if alert is None:
                continue
            action.alert_state = alert
            self.db.emit(f"action.{alert}", schemas.action_alert(action, plan, alert, today))
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
        plan = store.plan_for_submission(self.db.session, submission_id)
        if plan is None or not in_scope(plan.facility_path, schemas.caller(caller)["scope"]):
            raise NotFound(f"no plan yet for submission {submission_id}")
        return self._view(plan)

    @rpc
    def list_plans(self, caller, filters=None):
        caller = schemas.caller(caller)
        wanted = load(schemas.PlanFilters(), filters or {})
        total, plans = store.list_plans(
            self.db.session, caller["scope"], facility_id=wanted["facility_id"],
            status=wanted["status"], page=wanted["page"], per_page=wanted["per_page"])
        return schemas.plan_page(total, wanted["page"], wanted["per_page"], plans,
                                 self.clock.today())

    @rpc
    def plan_history(self, plan_id, caller):
        plan = self._plan(plan_id, caller)
        return schemas.history_view(plan, store.history(self.db.session, plan))

    @rpc
    def my_actions(self, caller, filters=None):
        """The caller's actions across plans (owned; for a coach, also those of the
        plans they lead), in scope, overdue first then by due date."""
        caller = schemas.caller(caller)
        wanted = load(schemas.MyActionFilters(), filters or {})
        today = self.clock.today()
        total, rows = store.my_actions(self.db.session, caller, wanted, today)
        return schemas.my_actions_page(total, wanted["page"], wanted["per_page"], rows,
                                       caller["id"], today)

    @rpc
    def list_comments(self, plan_id, action_id, caller, page=1, per_page=50):
        """The conversation on an action, oldest first (NotFound outside scope)."""
        plan = self._plan(plan_id, caller)
        action = store.action_in_plan(self.db.session, plan, action_id)
        if action is None:
            raise NotFound(f"action {action_id} not found in plan {plan.id}")
        wanted = load(schemas.PlanFilters(), {"page": page, "per_page": per_page})
        total, rows = store.comments(self.db.session, action.id, wanted["page"],
                                     wanted["per_page"])
        return {"action_id": str(action.id), "total": total, "page": wanted["page"],
                "per_page": wanted["per_page"],
                "items": [schemas.comment_view(row) for row in rows]}

    @rpc
    def add_comment(self, plan_id, action_id, request, caller):
        """Comment on an action; the other side of the conversation is alerted. The
        same client id again returns the comment made."""
        caller = schemas.caller(caller)
        request = load(schemas.NewComment(), request)
        plan = self._plan(plan_id, caller)
        session = self.db.session
        action = store.action_in_plan(session, plan, action_id)
        if action is None:
            raise NotFound(f"action {action_id} not found in plan {plan.id}")
        existing = session.get(ActionComment, request["id"])
        if existing is not None:
            if existing.action_id != action.id or existing.author_id != caller["id"]:
                raise Conflict(f"comment id {request['id']} is already used")
            return {"replayed": True, "comment": schemas.comment_view(existing)}
        concerned = caller["id"] in set(plan.coachee_ids) or caller["id"] == action.owner_id
        domain.check_comment(caller["role"], concerned)
        comment = ActionComment(id=request["id"], action_id=action.id, plan_id=plan.id,
                                author_id=caller["id"],
                                author_role=domain.comment_side(caller["role"]),
                                text=request["text"].strip(), created_at=self.clock.now())
        session.add(comment)
        session.flush()
        self._record(plan.id, action.id, caller["id"], "action.commented",
                     {"comment_id": str(comment.id)})
        self.db.emit("action.commented", schemas.action_commented(action, plan, comment))
        return {"replayed": False, "comment": schemas.comment_view(comment)}

    @rpc
    def progress(self, caller, by, since=None, until=None):
        """Actions done, open, overdue and dropped, percent done and median days to
        close, per plan, coachee (owner), facility or district.

        `since`/`until` (ISO dates, inclusive) keep the actions created in that
        window; for `by="plan"`, the plans created in it (with all their actions)."""
        caller = schemas.caller(caller)
        query = load(schemas.ProgressQuery(), {"by": by, "since": since, "until": until})
        by = query["by"]
        session = self.db.session
        rows = store.progress_groups(session, caller["scope"], by, query["since"],
                                     query["until"], self.clock.today())
        names = store.coachee_names(session, [r.key for r in rows]) if by == "coachee" else {}
        found = [domain.progress_row(
            key=r.key or "unassigned",
            label=(names.get(r.key) or r.key or "unassigned") if by == "coachee" else r.label,
            facility_path=r.facility_path, done=r.done, open=r.open, overdue=r.overdue,
            dropped=r.dropped, median_days=r.median) for r in rows]
        return sorted(found, key=lambda row: (row["label"], row["key"]))

    # --- changing ------------------------------------------------------------------

    @rpc
    def agree_plan(self, plan_id, caller):
        caller = schemas.caller(caller)
        plan = self._plan(plan_id, caller, lock=True)
        coachees_of_plan = set(plan.coachee_ids) | {a.owner_id for a in plan.actions
                                                    if a.owner_id}
        confirmed = {side for side in ("coach", "coachee")
                     if getattr(plan, f"{side}_agreed_by")}
        side = domain.check_agreement(
            plan.status, caller["role"], caller["id"] in coachees_of_plan
            or (not coachees_of_plan and caller["role"] == domain.COACHEE), confirmed)
        if side is None:
            return self._view(plan)  # a retried confirmation
        now = self.clock.now()
        setattr(plan, f"{side}_agreed_by", caller["id"])
        setattr(plan, f"{side}_agreed_at", now)
        self._record(plan.id, None, caller["id"], "plan.confirmed", {"party": side})
        # A CSCom where nobody met on the visit, and nobody who owns an action, has an
        # account (nor a DTC account to answer for them): nobody could ever confirm
        # for its side, so the coach's confirmation agrees the plan (they agreed it
        # with the team on the spot), rather than leave it to agree forever.
        if plan.coach_agreed_by and (plan.coachee_agreed_by or not coachees_of_plan):
            plan.agreed_at = now
            self.db.emit("plan.agreed", {
                **schemas.plan_ref(plan),
                "agreed_by": [who for who in (plan.coach_agreed_by, plan.coachee_agreed_by)
                              if who],
                "agreed_at": now})
            self._record(plan.id, None, caller["id"], "plan.agreed", {})
            self._refresh_status(plan, caller["id"], now)
        return self._view(plan)

    @rpc
    def update_action(self, plan_id, action_id, changes, caller):
        caller = schemas.caller(caller)
        changes = load(schemas.ActionChange(), changes)
        plan = self._plan(plan_id, caller)
        action = store.action_in_plan(self.db.session, plan, action_id, lock=True)
        if action is None:
            raise NotFound(f"action {action_id} not found in plan {plan.id}")
        domain.check_editable(action.status, caller["role"])
        if "due_date" in changes:
            domain.check_due_date(_visit_day(plan), changes["due_date"])
        before = domain.change_action(action, changes)
        if before:
            self._record(plan.id, action.id, caller["id"], "action.updated", {
                name: {"from": schemas.plain(old), "to": schemas.plain(getattr(action, name))}
                for name, old in before.items()})
        return self._view(plan)

    @rpc
    def change_action_status(self, plan_id, action_id, request, caller):
        caller = schemas.caller(caller)
        request = load(schemas.StatusChange(), request)
        plan = self._plan(plan_id, caller)
        found = store.lock_action(self.db.session, action_id)
        if found is None or plan.id not in {p.id for p in found[1]}:
            raise NotFound(f"action {action_id} not found in plan {plan_id}")
        action, plans = found
        plan = next(p for p in plans if p.id == plan.id)
        # A carried-over action may go on in a new plan still in draft: the plan it
        # was agreed in counts.
        agreed = next((p.status for p in plans if p.agreed_at is not None), plan.status)
        domain.check_transition(action.status, request["status"], caller["role"],
                                caller["role"] == domain.COACHEE, agreed, request["reason"])
        self._move(action, plans, request["status"], caller["id"], self.clock.now(),
                   comment=request["comment"], reason=request["reason"])
        return self._view(plan)

    @rpc
    def add_action(self, plan_id, request, caller):
        """Add a coach's own action; the same client id again returns what was added."""
        caller = schemas.caller(caller)
        request = load(schemas.NewAction(), request)
        plan = self._plan(plan_id, caller, lock=True)
        if caller["role"] not in domain.EDITORS:
            raise Forbidden("role", f"the role {caller['role']} cannot add actions",
                            f"le rôle {caller['role']} ne permet pas d'ajouter des actions")
        session = self.db.session
        existing = session.get(Action, request["id"])
        if existing is not None:
            if plan.id not in {e.plan_id for e in existing.entries}:
                raise Conflict(f"action id {request['id']} is already used by another plan")
            return schemas.added_action_view(existing, plan, self.clock.today(), replayed=True)
        if plan.status == "completed":
            raise Conflict("the plan is completed; actions can no longer be added")
        domain.check_due_date(_visit_day(plan), request["due_date"])
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
        store.add_to_plan(session, plan, action, position)
        session.flush()
        session.refresh(plan)
        self._record(plan.id, action.id, caller["id"], "action.added",
                     {"text_fr": text_fr, "text_en": text_en,
                      "due_date": request["due_date"].isoformat(),
                      "owner_id": request["owner_id"]})
        self._refresh_status(plan, caller["id"], self.clock.now())
        return schemas.added_action_view(action, plan, self.clock.today(), replayed=False)

    @rpc
    def update_grow_notes(self, plan_id, notes, caller):
        caller = schemas.caller(caller)
        notes = load(schemas.GrowNotes(), notes)
        plan = self._plan(plan_id, caller, lock=True)
        if caller["role"] not in domain.EDITORS:
            raise Forbidden("role", f"the role {caller['role']} cannot write the plan's "
                            "GROW notes", f"le rôle {caller['role']} ne permet pas d'écrire "
                            "les notes GROW du plan")
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
        plan = store.plan(self.db.session, plan_id, lock=lock)
        if plan is None or not in_scope(plan.facility_path, schemas.caller(caller)["scope"]):
            raise NotFound(f"plan {plan_id} not found")
        return plan

    def _move(self, action, plans, target, actor, at, comment="", reason=""):
        """Apply an allowed status change, announce it, and update the plans' status."""
        previous = domain.move_action(action, target, at, comment=comment, reason=reason)
        self._announce_move(action, plans, previous, actor, at, comment, reason)

    def _announce_move(self, action, plans, previous, actor, at, comment="", reason=""):
        """Record and announce a status change made, and update the plans' status."""
        target = action.status
        current = next((p for p in plans if p.id == action.plan_id), plans[0])
        self._record(current.id, action.id, actor, "action.status_changed", {
            "from": previous, "to": target, "comment": comment, "reason": reason,
            "late": action.late})
        change = schemas.status_change(action, current, previous, actor, at,
                                       comment or reason)
        self.db.emit("action.status_changed", change)
        self.db.emit("actions.status_changed", schemas.status_changes([change]))
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
                **schemas.plan_ref(plan), "completed_at": at,
                "actions_done": statuses.count("done"),
                "actions_dropped": statuses.count("dropped")})

    def _record(self, plan_id, action_id, actor, change, details):
        store.record(self.db.session, plan_id, action_id, actor, change, details,
                     self.clock.now())

    def _view(self, plan):
        return schemas.plan_view(plan, self.clock.today())


def _visit_day(plan):
    return (plan.visited_at or plan.created_at).date()
