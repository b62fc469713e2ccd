"""Checklist service entrypoints: places, templates, submissions and their scores.

Entrypoints only: checking and scoring live in `domain`, reading files in `places`,
queries and writes (shared with the seed and the importer) in `store`, with the
read-side lists and dashboards in `queries` and a facility's page and the visit
plan in `facilities`; requests, views and event data in `schemas`.
"""
from __future__ import annotations

import hashlib
import json
from types import SimpleNamespace

from marshmallow import ValidationError
from nameko import config

from c2p import fastload
from c2p.api.dashboards import MAP_MAX_POINTS
from c2p.clock import utcnow
from c2p.entrypoints import rpc, timer
from c2p.errors import Conflict, Forbidden, InvalidInput, NotFound
from c2p.scope import in_scope, is_national
from c2p.service import PlatformService
from checklist import (answer_cache, dashboards, dhis2_pull, domain, facilities, places,
                       queries, read_models, schemas, store)
from checklist.models import OrgUnit, Submission, TemplateVersion
from checklist.schemas import SubmissionRequest

SUBMITTERS = ("coach", "admin")
SUBMISSION_REQUEST = SubmissionRequest()  # stateless: one for every visit
ADMINS = ("admin",)
# The dashboards' answers of this replica, keyed on the read models' generation.
DASHBOARDS = answer_cache.AnswerCache()


def require_role(caller, roles, what, what_fr):
    if (caller or {}).get("role") not in roles:
        raise Forbidden("role", f"only {' or '.join(roles)} accounts may {what}",
                        f"seuls les comptes {' ou '.join(roles)} peuvent {what_fr}")


def _period(since, until):
    start, end, errors = dashboards.parse_period(since, until)
    if errors:
        raise InvalidInput(errors)
    return start, end


def _page(page, per_page):
    errors = {}
    for name, value, high in (("page", page, 100000), ("per_page", per_page, 100)):
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= high:
            errors[name] = [f"must be an integer between 1 and {high}"]
    if errors:
        raise InvalidInput(errors)


def _answers_by_item(errors, payload):
    """Name a malformed answer by its item code ("answers.cc_in_range.comment")
    rather than by its position in the list, as every other answer error is."""
    answers = payload.get("answers")
    if not isinstance(errors, dict) or not isinstance(errors.get("answers"), dict) \
            or not isinstance(answers, list):
        return errors
    renamed = {k: v for k, v in errors.items() if k != "answers"}
    for position, problem in errors["answers"].items():
        try:
            item = answers[int(position)].get("item")
        except (ValueError, IndexError, AttributeError):
            item = None
        key = f"answers.{item}" if isinstance(item, str) and item else f"answers.{position}"
        renamed[key] = problem
    return renamed


def request_hash(request: dict) -> str:
    canonical = json.dumps(request, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _visit_interval() -> int:
    settings = config.get("C2P_SETTINGS")
    return getattr(settings, "visit_interval_days", 90)


def _today():
    return utcnow().date()


class ChecklistService(PlatformService):
    name = "checklist"

    # --- submissions -------------------------------------------------------

    @rpc
    def submit_checklist(self, payload, coach):
        """Store, score and announce a visit; a retried sync returns the original.

        Nothing is stored unless everything checks: role, shape, facility and
        scope, template and version, every answer.
        """
        require_role(coach, SUBMITTERS, "submit a visit", "soumettre une visite")
        if not isinstance(payload, dict):
            raise InvalidInput({"body": ["must be a JSON object"]})
        try:
            request = fastload.load(SUBMISSION_REQUEST, payload)
        except ValidationError as exc:
            raise InvalidInput(_answers_by_item(exc.messages, payload)) from None
        fingerprint = request_hash(request)
        session = self.db.session
        existing = session.get(Submission, request["id"])
        if existing is not None:
            return self._replay(existing, coach, fingerprint)

        facility = session.get(OrgUnit, request["facility_id"])
        if facility is None or facility.level != "facility":
            raise InvalidInput({"facility_id": [f"unknown facility {request['facility_id']!r}"]})
        if not in_scope(facility.path, coach["scope"]):
            raise Forbidden("facility_id", f"{facility.id} is outside your scope",
                            f"{facility.id} est hors de votre périmètre")
        template, definition = self._template(request["template_code"],
                                              request["template_version"])

        answers = {a["item"]: {"value": a["value"], "comment": a["comment"]}
                   for a in request["answers"]}
        errors = domain.check_answers(definition, answers)
        if errors:
            raise InvalidInput(errors)
        score, gaps = domain.score(definition, answers)

        # Plain values and Core inserts: the same rows as ORM objects would
        # make, for a fraction of the CPU (this is the hot path of the platform).
        submission = SimpleNamespace(
            id=request["id"], facility_id=facility.id, facility_path=facility.path,
            coach_id=coach["id"], template_id=template.id, visited_at=request["visited_at"],
            received_at=utcnow(), coachees=request["coachees"], answers=answers,
            gps=request["gps"], comment=request["comment"] or None, score=score, gaps=gaps,
            percent=score["percent"], colour=score["colour"], flagged=score["flagged"],
            request_hash=fingerprint)
        if not store.add_submission(session, vars(submission)):
            # The same client id arrived twice at once: answer with the first.
            first = session.get(Submission, request["id"])
            if first is None:  # not a duplicate id: the facility or template went away
                raise Conflict("the facility or template changed while storing the visit; "
                               "send it again")
            return self._replay(first, coach, fingerprint)
        store.add_gaps(session, submission, gaps, domain.points(definition))
        self.db.emit("checklist.submitted", schemas.submitted(
            submission, facility, template, request, score, gaps,
            domain.passed_items(definition, answers)))
        return self._view(submission, replayed=False)

    def _replay(self, existing, coach, fingerprint):
        # An id taken by a visit the caller may not see answers like any unknown
        # object (404): a 409 would tell them that visit exists.
        if not in_scope(existing.facility_path, coach["scope"]):
            raise NotFound(f"submission {existing.id} not found")
        same = existing.coach_id == coach["id"] and existing.request_hash in (None, fingerprint)
        if not same:
            raise Conflict(f"id: submission {existing.id} was already received with other "
                           "content; a new visit needs a new id")
        return self._view(existing, replayed=True)

    @rpc
    def get_submission(self, submission_id, scope):
        submission = store.submission(self.db.session, submission_id)
        if submission is None or not in_scope(submission.facility_path, scope):
            raise NotFound(f"submission {submission_id} not found")
        return self._view(submission)

    @rpc
    def list_submissions(self, caller, facility_id=None, district_id=None, region_id=None,
                         coach_id=None, since=None, until=None, page=1, per_page=20):
        """Visits in the caller's scope, newest first, filtered and paginated."""
        start, end = _period(since, until)
        _page(page, per_page)
        return queries.list_submissions(
            self.db.session, caller["scope"], facility_id=facility_id,
            district_id=district_id, region_id=region_id, coach_id=coach_id, start=start,
            end=end, page=page, per_page=per_page)

    @rpc
    def get_facility_history(self, caller, facility_id, since=None, until=None,
                             template_code=None):
        """A facility's visits of one template (by default that of its latest visit),
        oldest first, with overall and section scores."""
        start, end = _period(since, until)
        return queries.facility_history(self.db.session, caller["scope"], facility_id,
                                        start, end, template_code=template_code)

    @rpc
    def facility_scores(self, caller, since=None, until=None, template_code=None):
        """Latest score per facility with a visit of one template in the period (for
        leaderboards): `{"template_code", "items"}`. Without `template_code`, the
        template with the most visits in the caller's scope and period."""
        start, end = _period(since, until)
        session, scope = self.db.session, caller["scope"]

        def compute():
            code = template_code or queries.main_template(session, scope, start, end)
            return {"template_code": code,
                    "items": queries.facility_scores(session, scope, start, end,
                                                     template_code=code) if code else []}
        return DASHBOARDS.get(session, ("facility_scores", answer_cache.scope_key(scope),
                                        start, end, template_code), compute)

    @rpc
    def gap_report(self, caller, level="facility", since=None, until=None, top=10,
                   template_code=None, area_id=None, page=None, per_page=None,
                   all_templates=False):
        """Latest scores of one template (by default the one with the most visits;
        with `all_templates`, of every template) by facility, district or region,
        and its items failed most; optionally within one region or district. With `page` and `per_page` (up to a map's worth),
        `rows` is that page of them and `total` their number: a national table
        need not travel whole."""
        start, end = _period(since, until)
        if per_page is not None:
            _page(page or 1, 1)
            if isinstance(per_page, bool) or not isinstance(per_page, int) \
                    or not 1 <= per_page <= MAP_MAX_POINTS:
                raise InvalidInput({"per_page": [
                    f"must be an integer between 1 and {MAP_MAX_POINTS}"]})
        if isinstance(top, bool) or not isinstance(top, int) or not 1 <= top <= 100:
            raise InvalidInput({"top": ["must be an integer between 1 and 100"]})
        for name, value in (("template_code", template_code), ("area_id", area_id)):
            if value is not None and (not isinstance(value, str) or len(value) > 64):
                raise InvalidInput({name: ["must be a string of at most 64 characters"]})
        if not isinstance(all_templates, bool):
            raise InvalidInput({"all_templates": ["must be a boolean"]})
        session, scope = self.db.session, caller["scope"]
        return DASHBOARDS.get(
            session, ("gap_report", answer_cache.scope_key(scope), level, start, end, top,
                      template_code or None, all_templates, area_id or None, page or 1,
                      per_page),
            lambda: queries.gap_report(session, scope, level, start, end, top,
                                       template_code=template_code or None,
                                       area_id=area_id or None, page=page or 1,
                                       per_page=per_page, all_templates=all_templates))

    @rpc
    def dashboards_generation(self):
        """The read models' generation (`checklist.read_models`; None: unknown), on
        which the gateway keys the dashboards' rendered answers."""
        return read_models.generation(self.db.session)

    # --- a coach's working day ------------------------------------------------

    @rpc
    def facility_overview(self, caller, facility_id):
        """A facility, its latest score per template, its score trend by section and
        when its next visit is due (NotFound outside the caller's scope)."""
        return facilities.facility_overview(self.db.session, caller["scope"], facility_id,
                                            _visit_interval(), _today())

    @rpc
    def visit_plan(self, caller, district_id=None, template_code=None, within_days=0,
                   include_all=False, page=1, per_page=20):
        """Facilities in scope due for a visit: never visited first, then most overdue."""
        _page(page, per_page)
        if isinstance(within_days, bool) or not isinstance(within_days, int) \
                or not 0 <= within_days <= 365:
            raise InvalidInput({"within_days": ["must be an integer between 0 and 365"]})
        rows = facilities.visit_plan(
            self.db.session, caller["scope"], _visit_interval(), _today(),
            district_id=district_id, template_code=template_code, within_days=within_days,
            include_all=bool(include_all))
        return schemas.visit_plan_page(rows, page, per_page, _today())

    @rpc
    def export_visits(self, caller, since=None, until=None, facility_id=None,
                      district_id=None, template_code=None, page=1, per_page=500):
        """Visits in scope and period, oldest first, with section scores and gaps (a
        page at a time: the gateway writes the CSV)."""
        start, end = _period(since, until)
        if isinstance(page, bool) or not isinstance(page, int) or page < 1 \
                or isinstance(per_page, bool) or not isinstance(per_page, int) \
                or not 1 <= per_page <= 1000:
            raise InvalidInput({"per_page": ["must be an integer between 1 and 1000"]})
        return facilities.export_visits(
            self.db.session, caller["scope"], start=start, end=end, facility_id=facility_id,
            district_id=district_id, template_code=template_code, page=page,
            per_page=per_page)

    # --- templates ---------------------------------------------------------

    @rpc
    def create_template(self, caller, definition):
        """Publish a template version (admins); returns it with `created`."""
        require_role(caller, ADMINS, "publish checklist templates",
                     "publier des grilles")
        if not is_national(caller.get("scope")):
            # A template scores every visit of the programme: a regional admin
            # publishing a version would change the scores of other regions.
            raise Forbidden("scope", "checklist templates are programme-wide: publishing "
                            "one needs national scope",
                            "les grilles valent pour tout le programme : en publier une "
                            "demande un périmètre national")
        row, created = store.publish_template(self.db.session, definition, caller["id"])
        return schemas.published_template_view(row, created)

    @rpc
    def list_templates(self, caller, code=None):
        """Every published version, newest first per code (summaries only)."""
        return [schemas.template_summary(row)
                for row in store.template_versions(self.db.session, code)]

    @rpc
    def get_template(self, caller, code, version=None):
        """A template version in full (the latest when no version is given)."""
        if version is not None and (isinstance(version, bool) or not isinstance(version, int)):
            raise InvalidInput({"version": ["must be an integer"]})
        row = store.template(self.db.session, code, version, definition=True)
        if row is None:
            raise NotFound(f"template {code}" + (f" version {version}" if version else "")
                           + " not found")
        return schemas.template_view(row)

    def _template(self, code, version):
        """(the template version a visit names, its definition) or InvalidInput."""
        template = (store.template(self.db.session, code) if version is None
                    else store.published_version(self.db.session, code, version))
        if template is None:
            known = store.template_version_numbers(self.db.session, code)
            if version is not None and known:
                raise InvalidInput({"template_version": [
                    f"template {code} has no version {version} "
                    f"(published: {', '.join(map(str, sorted(known)))})"]})
            raise InvalidInput({"template_code": [f"unknown template {code}"]})
        return template, store.template_definition(self.db.session, template.id)

    # --- places ------------------------------------------------------------

    @rpc
    def import_org_units(self, caller, fmt, content, dry_run=False):
        """Import org units from CSV text or a DHIS2 export (admins); line-by-line report."""
        require_role(caller, ADMINS, "import org units", "importer des unités")
        # Only units within the importer's scope are touched (a regional admin
        # cannot move a facility of another region into theirs).
        return store.import_org_units(self.db.session, fmt, content, dry_run=bool(dry_run),
                                      scope=list(caller.get("scope") or ()))

    @rpc
    def list_org_units(self, caller, level=None, parent_id=None):
        """Org units in the caller's scope, by path (a phone's list of facilities)."""
        if level and level not in places.LEVELS:
            raise InvalidInput({"level": [f"must be one of {', '.join(places.LEVELS)}"]})
        return [schemas.unit_view(u) for u in store.org_units(
            self.db.session, caller["scope"], level=level, parent_id=parent_id)]

    @rpc
    def start_dhis2_import(self, caller, body):
        """Queue an org-unit import from the DHIS2 server (admins); see dhis2_pull."""
        require_role(caller, ADMINS, "import org units", "importer des unités")
        return dhis2_pull.job_view(dhis2_pull.queue_job(self.db.session, caller, body))

    @rpc
    def get_import_job(self, caller, job_id):
        """An import's status, progress and report, for admins whose scope covers it."""
        require_role(caller, ADMINS, "import org units", "importer des unités")
        return dhis2_pull.job_view(dhis2_pull.visible_job(self.db.session, caller, job_id))

    @timer(2)
    def run_import_jobs(self):
        job = dhis2_pull.claim(self.db.session)
        if job is not None:
            dhis2_pull.run_job(self.db.session, job, config["C2P_SETTINGS"],
                               checkpoint=self.db.commit)

    @rpc
    def facility_references(self, facility_ids):
        """{id: {"dhis2_id", "code"}} of the given facilities: how the HMIS service
        names them in DHIS2 (service to service; ids and codes only)."""
        if not isinstance(facility_ids, list) or len(facility_ids) > 20000:
            raise InvalidInput({"facility_ids": ["must be a list of at most 20000 ids"]})
        return store.facility_references(self.db.session, [str(i) for i in facility_ids])

    # --- views -------------------------------------------------------------

    def _view(self, submission, replayed=False):
        session = self.db.session
        return schemas.submission_view(
            submission, session.get(OrgUnit, submission.facility_id),
            session.get(TemplateVersion, submission.template_id), replayed)
