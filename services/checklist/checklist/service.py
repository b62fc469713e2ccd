"""Checklist service entrypoints: receive submissions, score them, announce them."""
from __future__ import annotations

import uuid

from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from c2p.entrypoints import rpc
from c2p.errors import Forbidden, InvalidInput, NotFound
from c2p.scope import in_scope
from c2p.service import PlatformService
from checklist import domain
from checklist.models import OrgUnit, Submission, TemplateVersion
from checklist.schemas import SubmissionRequest


class ChecklistService(PlatformService):
    name = "checklist"

    @rpc
    def submit_checklist(self, payload, coach):
        """Store, score and announce a visit; a retried sync returns the original."""
        try:
            request = SubmissionRequest().load(payload)
        except ValidationError as exc:
            raise InvalidInput(exc.messages) from None
        session = self.db.session
        existing = session.get(Submission, request["id"])
        if existing is not None:
            return self._view(existing, replayed=True)

        facility = session.get(OrgUnit, request["facility_id"])
        if facility is None or facility.level != "facility":
            raise InvalidInput({"facility_id": [f"unknown facility {request['facility_id']!r}"]})
        if not in_scope(facility.path, coach["scope"]):
            raise Forbidden(f"facility {facility.id} is outside your scope")
        template = self._template(request["template_code"], request["template_version"])

        answers = {a["item"]: {"value": a["value"], "comment": a["comment"]}
                   for a in request["answers"]}
        errors = domain.check_answers(template.definition, answers)
        if errors:
            raise InvalidInput(errors)
        score, gaps = domain.score(template.definition, answers)

        submission = Submission(
            id=request["id"], facility_id=facility.id, facility_path=facility.path,
            coach_id=coach["id"], template_id=template.id, visited_at=request["visited_at"],
            coachees=request["coachees"], answers=answers, gps=request["gps"],
            score=score, gaps=gaps)
        try:
            with session.begin_nested():
                session.add(submission)
                session.flush()
        except IntegrityError:
            # The same client id arrived twice at once: answer with the first.
            session.rollback()
            return self._view(session.get(Submission, request["id"]), replayed=True)
        session.refresh(submission)
        self.db.emit("checklist.submitted", {
            "submission_id": submission.id, "facility_id": facility.id,
            "facility_name": facility.name, "facility_path": facility.path,
            "coach_id": coach["id"], "coachees": request["coachees"],
            "template_code": template.code, "template_version": template.version,
            "visited_at": submission.visited_at, "received_at": submission.received_at,
            "score": score, "gaps": gaps,
        })
        return self._view(submission, replayed=False)

    @rpc
    def get_submission(self, submission_id, scope):
        try:
            key = uuid.UUID(str(submission_id))
        except ValueError:
            raise NotFound(f"submission {submission_id} not found") from None
        submission = self.db.session.get(Submission, key)
        if submission is None or not in_scope(submission.facility_path, scope):
            raise NotFound(f"submission {submission_id} not found")
        return self._view(submission)

    def _template(self, code, version):
        query = select(TemplateVersion).where(TemplateVersion.code == code)
        if version is not None:
            query = query.where(TemplateVersion.version == version)
        template = self.db.session.scalars(
            query.order_by(TemplateVersion.version.desc()).limit(1)).first()
        if template is None:
            field = "template_version" if version is not None else "template_code"
            raise InvalidInput({field: [f"unknown template {code}"
                                        + (f" version {version}" if version else "")]})
        return template

    def _view(self, submission, replayed=False):
        template = self.db.session.get(TemplateVersion, submission.template_id)
        return {
            "id": str(submission.id), "facility_id": submission.facility_id,
            "facility_path": submission.facility_path, "coach_id": submission.coach_id,
            "template_code": template.code, "template_version": template.version,
            "visited_at": submission.visited_at.isoformat(),
            "received_at": submission.received_at.isoformat(),
            "coachees": submission.coachees, "answers": submission.answers,
            "gps": submission.gps, "score": submission.score, "gaps": submission.gaps,
            "replayed": replayed,
        }
