"""DHIS2 (the national HMIS) over HTTP: the export's mapping, the metadata to create
in DHIS2, export runs with DHIS2's import summaries, and org-unit imports from a
DHIS2 server as jobs. The hmis and checklist services check requests themselves
(`hmis.domain.validate_mapping`, `checklist.dhis2_pull.check_request`)."""
from __future__ import annotations

from marshmallow import fields, validate

from c2p.api.core import Query, Strict, Timestamp, View
from c2p.api.pages import PageQuery

SCHEMES = ["UID", "CODE"]
RUN_STATUSES = ["queued", "running", "success", "warning", "error", "nothing_to_send",
                "unavailable", "refused", "not_configured"]


class MappingEntry(Strict):
    figure = fields.String(required=True, metadata={
        "description": "score, visits, actions_done, actions_open, actions_overdue, "
                       "or section:<section code>"})
    data_element = fields.String(required=True, metadata={"description": "UID or code"})
    category_option_combo = fields.String(allow_none=True, metadata={
        "description": "UID or code; none: the default combo"})
    id_scheme = fields.String(validate=validate.OneOf(SCHEMES), metadata={
        "description": "how data element and combo are named (default UID)"})


class MappingRequest(Strict):
    org_unit_scheme = fields.String(validate=validate.OneOf(SCHEMES), metadata={
        "description": "facilities go by their DHIS2 id (UID) or code"})
    data_set = fields.String(allow_none=True, metadata={"description": "data set UID"})
    entries = fields.List(fields.Nested(MappingEntry), required=True)


class MappingEntryView(View):
    figure = fields.String(required=True)
    data_element = fields.String(required=True)
    category_option_combo = fields.String(required=True, allow_none=True)
    id_scheme = fields.String(required=True, validate=validate.OneOf(SCHEMES))


class SuggestedMappingView(View):
    org_unit_scheme = fields.String(required=True, validate=validate.OneOf(SCHEMES))
    data_set = fields.String(required=True, allow_none=True)
    entries = fields.List(fields.Nested(MappingEntryView), required=True)


class MappingView(SuggestedMappingView):
    updated_at = Timestamp(required=True, allow_none=True)
    updated_by = fields.String(required=True, allow_none=True)


class MetadataQuery(Query):
    template = fields.String(metadata={"description": "a template code: its sections "
                                       "(default: every section seen in visits)"})


class MetadataView(View):
    metadata = fields.Dict(required=True, metadata={
        "description": "POST it to DHIS2's /api/metadata: dataElements and dataSets"})
    mapping = fields.Nested(SuggestedMappingView, required=True, metadata={
        "description": "the mapping pointing at that metadata (PUT /hmis/mapping)"})


class ExportRequest(Strict):
    period = fields.String(required=True, metadata={"description": "YYYYMM, e.g. 202507"})
    dry_run = fields.Boolean(metadata={"description": "ask DHIS2 (dryRun=true), store nothing"})
    all = fields.Boolean(metadata={"description": "every value, not only the changed ones"})


class ExportListQuery(PageQuery):
    pass


class ImportCountView(View):
    imported = fields.Integer(required=True)
    updated = fields.Integer(required=True)
    ignored = fields.Integer(required=True)
    deleted = fields.Integer(required=True)


class ConflictView(View):
    object = fields.String(required=True)
    reason = fields.String(required=True)
    error_code = fields.String(required=True)
    property = fields.String(required=True)
    indexes = fields.List(fields.Integer(), required=True)


class ExportRunSummaryView(View):
    id = fields.String(required=True)
    trigger = fields.String(required=True, validate=validate.OneOf(["timer", "command", "api"]))
    requested_by = fields.String(required=True, allow_none=True)
    period = fields.String(required=True, allow_none=True)
    dry_run = fields.Boolean(required=True)
    all = fields.Boolean(required=True)
    status = fields.String(required=True, validate=validate.OneOf(RUN_STATUSES))
    created_at = Timestamp(required=True, allow_none=True)
    finished_at = Timestamp(required=True, allow_none=True)
    values_sent = fields.Integer(required=True)
    import_count = fields.Nested(ImportCountView, required=True)
    conflict_count = fields.Integer(required=True)
    error = fields.String(required=True, allow_none=True)


class ExportRunView(ExportRunSummaryView):
    conflicts = fields.List(fields.Nested(ConflictView), required=True)
    skipped = fields.List(fields.Dict(), required=True, metadata={
        "description": "values not sent, and why (no mapping, no DHIS2 id)"})
    payloads = fields.List(fields.Dict(), required=True, metadata={
        "description": "what was (or would be) POSTed, per request (first 2000 values)"})


class OrgUnitPullRequest(Strict):
    root = fields.String(required=True, metadata={
        "description": "DHIS2 id of the org unit whose subtree to import (e.g. Mali)"})
    dry_run = fields.Boolean()


class OrgUnitPullView(View):
    id = fields.String(required=True)
    root = fields.String(required=True)
    dry_run = fields.Boolean(required=True)
    requested_by = fields.String(required=True)
    status = fields.String(required=True,
                           validate=validate.OneOf(["queued", "running", "done", "failed"]))
    phase = fields.String(required=True, allow_none=True,
                          validate=validate.OneOf(["fetching", "importing"]))
    progress = fields.Dict(required=True, metadata={
        "description": "pages_done, pages_total, units_fetched, units_total"})
    summary = fields.Dict(required=True, allow_none=True, metadata={
        "description": "created / updated / unchanged / rejected"})
    lines = fields.List(fields.Dict(), required=True, metadata={
        "description": "one entry per unit, as the file import reports it"})
    error = fields.String(required=True, allow_none=True)
    created_at = Timestamp(required=True, allow_none=True)
    finished_at = Timestamp(required=True, allow_none=True)
