"""The gateway service: one nameko service composed of the route mixins."""
from __future__ import annotations

from c2p.service import PlatformService
from gateway.auth import Auth
from gateway.routes.checklists import ChecklistRoutes
from gateway.routes.inbox import InboxRoutes
from gateway.routes.plans import PlanRoutes
from gateway.routes.session import SessionRoutes


class GatewayService(SessionRoutes, ChecklistRoutes, PlanRoutes, InboxRoutes, PlatformService):
    name = "gateway"
    auth = Auth()
