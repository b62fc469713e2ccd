"""DHIS2 (Mali's national HMIS) over HTTP, for admins: the export of supervision
figures (mapping, metadata to create in DHIS2, exports and their import summaries)
and org units pulled straight from a DHIS2 server, as jobs with their progress.

The HMIS and checklist services check the role again and the caller's scope:
an export covers the facilities of the caller's area only, and a run or a job is
shown only to admins whose scope covers what it covered. Shapes: `c2p.api.hmis`.
"""
from __future__ import annotations

from c2p.api import Page
from c2p.api.hmis import (ExportListQuery, ExportRequest, ExportRunSummaryView,
                          ExportRunView, MappingRequest, MappingView, MetadataQuery,
                          MetadataView, OrgUnitPullRequest, OrgUnitPullView)
from gateway.dependencies import TimedRpc
from gateway.http import API, Reply, http, read_json
from gateway.openapi import route

TAGS = ["dhis2"]


class HmisRoutes:
    hmis = TimedRpc("hmis")

    @route(summary="The DHIS2 mapping of each figure (admins)", response=MappingView,
           tags=TAGS)
    @http("GET", f"{API}/hmis/mapping")
    def get_hmis_mapping(self, request):
        caller = self.auth.caller(request)
        return self.hmis.get_mapping(caller.as_rpc())

    @route(summary="Replace the DHIS2 mapping (admins)", request=MappingRequest,
           response=MappingView, tags=TAGS,
           description="Each figure (`score`, `section:<code>`, `visits`, `actions_done`, "
                       "`actions_open`, `actions_overdue`) to a data element and category "
                       "option combo, by UID or code; org units by DHIS2 id or code. "
                       "Values whose mapping changed are sent again by the next export.")
    @http("PUT", f"{API}/hmis/mapping")
    def set_hmis_mapping(self, request):
        caller = self.auth.caller(request)
        return self.hmis.set_mapping(caller.as_rpc(), read_json(request))

    @route(summary="Metadata to create in DHIS2 (data elements, data set) (admins)",
           query=MetadataQuery, response=MetadataView, errors=(404,), tags=TAGS)
    @http("GET", f"{API}/hmis/metadata")
    def get_hmis_metadata(self, request):
        caller = self.auth.caller(request)
        return self.hmis.dhis2_metadata(caller.as_rpc(),
                                        template=request.query.get("template") or None)

    @route(summary="Export one month to DHIS2, or a dry run (admins)", request=ExportRequest,
           response=ExportRunView, status=202, tags=TAGS,
           description="Queued and run by the HMIS service; follow it at the Location. "
                       "Covers the facilities of the caller's area.")
    @http("POST", f"{API}/hmis/exports")
    def request_hmis_export(self, request):
        caller = self.auth.caller(request)
        run = self.hmis.request_export(caller.as_rpc(), read_json(request))
        return Reply(run, status=202, headers={"Location": f"{API}/hmis/exports/{run['id']}"})

    @route(summary="Exports to DHIS2 and their import summaries, newest first (admins)",
           query=ExportListQuery, response=Page(ExportRunSummaryView),
           tags=TAGS)
    @http("GET", f"{API}/hmis/exports")
    def list_hmis_exports(self, request):
        caller = self.auth.caller(request)
        return self.hmis.list_exports(caller.as_rpc(), request.query["page"],
                                      request.query["per_page"])

    @route(summary="One export: what was sent and what DHIS2 said (admins)",
           response=ExportRunView, errors=(404,), tags=TAGS)
    @http("GET", f"{API}/hmis/exports/<run_id>")
    def get_hmis_export(self, request, run_id):
        caller = self.auth.caller(request)
        return self.hmis.get_export(caller.as_rpc(), run_id)

    # --- org units from a DHIS2 server ------------------------------------------

    @route(summary="Import org units from the DHIS2 server (admins)",
           request=OrgUnitPullRequest, response=OrgUnitPullView, status=202, tags=TAGS,
           description="Pages through DHIS2's organisationUnits under `root`; follow "
                       "the job at the Location. Idempotent: created / updated / "
                       "unchanged / rejected per unit.")
    @http("POST", f"{API}/org-units/dhis2-imports")
    def start_dhis2_import(self, request):
        caller = self.auth.caller(request)
        job = self.checklist.start_dhis2_import(caller.as_rpc(), read_json(request))
        return Reply(job, status=202,
                     headers={"Location": f"{API}/org-units/dhis2-imports/{job['id']}"})

    @route(summary="An org-unit import from DHIS2: status, progress, result (admins)",
           response=OrgUnitPullView, errors=(404,), tags=TAGS)
    @http("GET", f"{API}/org-units/dhis2-imports/<job_id>")
    def get_dhis2_import(self, request, job_id):
        caller = self.auth.caller(request)
        return self.checklist.get_import_job(caller.as_rpc(), job_id)
