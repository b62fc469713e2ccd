"""Notify entrypoints: inbox alerts from events, and the inbox itself."""
from __future__ import annotations

from sqlalchemy import func, select

from c2p.entrypoints import rpc, subscribe
from c2p.service import PlatformService
from notify.messages import PLAN_TO_AGREE, render
from notify.models import InboxMessage


class NotifyService(PlatformService):
    name = "notify"

    @subscribe("plan.created")
    def on_plan_created(self, event):
        plan = event.data
        texts = render(PLAN_TO_AGREE, facility=plan["facility_name"],
                       count=len(plan["actions"]),
                       critical=sum(1 for a in plan["actions"] if a["critical"]))
        self.db.session.add(InboxMessage(
            recipient_id=plan["coach_id"], event_id=event.id, kind="plan.to_agree",
            link=f"/api/v1/plans/{plan['plan_id']}", **texts))

    @rpc
    def list_inbox(self, recipient_id, page=1, per_page=20):
        session = self.db.session
        query = select(InboxMessage).where(InboxMessage.recipient_id == recipient_id)
        total = session.scalar(select(func.count()).select_from(query.subquery()))
        rows = session.scalars(query.order_by(InboxMessage.created_at.desc())
                               .offset((page - 1) * per_page).limit(per_page)).all()
        return {"total": total, "page": page, "per_page": per_page, "items": [{
            "id": str(m.id), "kind": m.kind, "title_fr": m.title_fr, "title_en": m.title_en,
            "body_fr": m.body_fr, "body_en": m.body_en, "link": m.link,
            "created_at": m.created_at.isoformat(), "read": m.read_at is not None,
        } for m in rows]}
