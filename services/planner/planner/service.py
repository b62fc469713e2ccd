"""Planner entrypoints: a plan per scored visit, and plan queries."""
from __future__ import annotations

import uuid

from sqlalchemy import select

from c2p.entrypoints import rpc, subscribe
from c2p.errors import NotFound
from c2p.scope import in_scope
from c2p.service import PlatformService
from planner.domain import plan_actions
from planner.models import Action, ImprovementPlan


class PlannerService(PlatformService):
    name = "planner"

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
            facility_path=visit["facility_path"], coach_id=visit["coach_id"], status="draft")
        for planned in plan_actions(visit["gaps"], visit["coachees"], visit["visited_at"].date()):
            plan.actions.append(Action(id=uuid.uuid4(), **planned.__dict__, status="todo"))
        session.add(plan)
        session.flush()
        self.db.emit("plan.created", {
            "plan_id": plan.id, "submission_id": plan.submission_id,
            "facility_id": plan.facility_id, "facility_name": plan.facility_name,
            "facility_path": plan.facility_path, "coach_id": plan.coach_id,
            "coachee_ids": [c["id"] for c in visit["coachees"]],
            "actions": [{"action_id": a.id, "item_code": a.item_code, "text_fr": a.text_fr,
                         "text_en": a.text_en, "owner_id": a.owner_id,
                         "owner_role": a.responsible_role, "due_date": a.due_date,
                         "critical": a.critical, "status": a.status} for a in plan.actions],
        })

    @rpc
    def get_plan(self, plan_id, scope):
        plan = self.db.session.get(ImprovementPlan, _uuid(plan_id))
        if plan is None or not in_scope(plan.facility_path, scope):
            raise NotFound(f"plan {plan_id} not found")
        return _view(plan)

    @rpc
    def get_plan_for_submission(self, submission_id, scope):
        plan = self.db.session.scalars(select(ImprovementPlan).where(
            ImprovementPlan.submission_id == _uuid(submission_id))).first()
        if plan is None or not in_scope(plan.facility_path, scope):
            raise NotFound(f"no plan yet for submission {submission_id}")
        return _view(plan)


def _uuid(value):
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return uuid.UUID(int=0)


def _view(plan):
    return {
        "id": str(plan.id), "submission_id": str(plan.submission_id),
        "facility_id": plan.facility_id, "facility_name": plan.facility_name,
        "coach_id": plan.coach_id, "status": plan.status,
        "created_at": plan.created_at.isoformat(),
        "actions": [{
            "id": str(a.id), "position": a.position, "item_code": a.item_code,
            "text_fr": a.text_fr, "text_en": a.text_en,
            "verification_fr": a.verification_fr, "verification_en": a.verification_en,
            "responsible_role": a.responsible_role, "owner_id": a.owner_id,
            "due_date": a.due_date.isoformat(), "critical": a.critical,
            "points_lost": a.points_lost, "status": a.status,
        } for a in plan.actions],
    }
