"""Evidence entrypoints: learn which actions may receive evidence."""
from __future__ import annotations

from c2p.entrypoints import rpc, subscribe
from c2p.service import PlatformService
from evidence.dependencies import ObjectStore
from evidence.models import EvidenceTarget


class EvidenceService(PlatformService):
    name = "evidence"
    store = ObjectStore()

    @subscribe("plan.created")
    def on_plan_created(self, event):
        plan = event.data
        for action in plan["actions"]:
            self.db.session.merge(EvidenceTarget(
                action_id=action["action_id"], plan_id=plan["plan_id"],
                facility_id=plan["facility_id"], facility_path=plan["facility_path"],
                coach_id=plan["coach_id"], owner_id=action["owner_id"],
                due_date=action["due_date"]))

    @rpc
    def count_targets(self, plan_id):
        from sqlalchemy import func, select
        return self.db.session.scalar(select(func.count()).select_from(EvidenceTarget)
                                      .where(EvidenceTarget.plan_id == plan_id))
