"""The gateway service: one nameko service composed of the route mixins."""
from __future__ import annotations

from c2p.service import PlatformService
from gateway.auth import Auth
from gateway.routes.accounts import AccountRoutes
from gateway.routes.app import AppRoutes
from gateway.routes.checklists import ChecklistRoutes
from gateway.routes.dashboards import DashboardRoutes
from gateway.routes.desk_map import DeskMapRoutes
from gateway.routes.docs import DocsRoutes
from gateway.routes.evidence import EvidenceRoutes
from gateway.routes.exports import ExportRoutes
from gateway.routes.facilities import FacilityRoutes
from gateway.routes.hmis import HmisRoutes
from gateway.routes.inbox import InboxRoutes
from gateway.routes.live import LiveRoutes
from gateway.routes.plans import PlanRoutes
from gateway.routes.review_queue import ReviewQueueRoutes
from gateway.routes.session import SessionRoutes
from gateway.routes.webhooks import WebhookRoutes
from gateway.routes.workday import WorkdayRoutes


class GatewayService(SessionRoutes, AccountRoutes, DocsRoutes, ChecklistRoutes, PlanRoutes, InboxRoutes, EvidenceRoutes,
                     WebhookRoutes, LiveRoutes, DashboardRoutes, FacilityRoutes, ExportRoutes,
                     ReviewQueueRoutes, DeskMapRoutes, HmisRoutes, AppRoutes, WorkdayRoutes,
                     PlatformService):
    name = "gateway"
    auth = Auth()
