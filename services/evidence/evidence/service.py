"""Evidence entrypoints: upload slots, verification, review, withdrawal, purge.

Both upload paths end in `confirm_upload`: a client that POSTs straight to the
object store with the presigned form, and the gateway that streams a body to
the same upload key, both ask this service to verify what landed. The file is
first copied to a key no client can write to, then read back in full (size,
magic numbers, end marker, SHA-256, decodable image, EXIF, thumbnail); a file
that fails is removed and the record says why.
"""
from __future__ import annotations

import hashlib
import logging
import tempfile
import uuid
from datetime import datetime, timedelta, timezone

import eventlet
from eventlet import tpool
from marshmallow import ValidationError
from nameko import config
from nameko.rpc import ServiceRpc
from sqlalchemy import false, func, or_, select
from sqlalchemy.exc import IntegrityError

from c2p.entrypoints import rpc, subscribe, timer
from c2p.errors import Conflict, Forbidden, InvalidInput, NotFound
from c2p.scope import in_scope
from c2p.service import PlatformService
from evidence import domain, images
from evidence.dependencies import ObjectStore
from evidence.models import Evidence, EvidenceLog, EvidenceTarget
from evidence.schemas import DirectUploadRequest, ReviewRequest, UploadRequest

log = logging.getLogger(__name__)

# A POST policy's expiry is checked when the server reads the form fields, which
# come before the file, so a slow 2G upload begun in time should complete; a
# client that waited too long asks again with the same evidence id for a fresh slot.
SLOT_TTL = timedelta(minutes=15)
DOWNLOAD_TTL = timedelta(minutes=5)
LOCATE_AGAIN_AFTER = timedelta(hours=1)
LOCATE_TIMEOUT_S = 2
PURGE_BATCH = 100


def _now():
    return datetime.now(timezone.utc)


def _uuid(value):
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return uuid.UUID(int=0)


class EvidenceService(PlatformService):
    name = "evidence"
    store = ObjectStore()
    checklist = ServiceRpc("checklist")

    # --- what may receive evidence ------------------------------------------

    @subscribe("plan.created")
    def on_plan_created(self, event):
        plan = event.data
        session = self.db.session
        for action in plan["actions"]:
            target = session.get(EvidenceTarget, action["action_id"])
            if target is None:
                target = EvidenceTarget(action_id=action["action_id"],
                                        status=action["status"])
                session.add(target)
            elif target.status_changed_at is None:
                target.status = action["status"]  # no newer news from status_changed
            target.plan_id = plan["plan_id"]
            target.facility_id, target.facility_path = plan["facility_id"], plan["facility_path"]
            target.facility_name = plan["facility_name"]
            target.coach_id, target.owner_id = plan["coach_id"], action["owner_id"]
            target.due_date = action["due_date"]

    @subscribe("action.status_changed")
    def on_action_status_changed(self, event):
        change = event.data
        session = self.db.session
        target = session.get(EvidenceTarget, change["action_id"], with_for_update=True)
        if target is None:  # status news before the plan: the event carries enough
            target = EvidenceTarget(
                action_id=change["action_id"], plan_id=change["plan_id"],
                facility_id=change["facility_id"], facility_path=change["facility_path"],
                facility_name=change["facility_name"], coach_id=change["coach_id"],
                owner_id=change["owner_id"], due_date=change["due_date"])
            session.add(target)
        elif target.status_changed_at and change["changed_at"] <= target.status_changed_at:
            return  # an older change arriving late must not undo a newer one
        target.status = change["status"]
        target.status_changed_at = change["changed_at"]

    @rpc
    def count_targets(self, plan_id):
        from sqlalchemy import func
        return self.db.session.scalar(select(func.count()).select_from(EvidenceTarget)
                                      .where(EvidenceTarget.plan_id == plan_id))

    # --- uploading ------------------------------------------------------------

    @rpc
    def request_upload(self, payload, caller, channel="direct"):
        """An upload slot for a client-generated evidence id.

        `channel="direct"` returns a presigned POST bounded in size and type;
        `"stream"` returns the upload key the gateway streams to. Asking again
        with the same id returns the same record (and a fresh slot while no
        verified file is there): a retried upload never makes a second record.
        """
        schema = DirectUploadRequest() if channel == "direct" else UploadRequest()
        try:
            request = schema.load(payload or {})
        except ValidationError as exc:
            raise InvalidInput(exc.messages) from None
        if caller["role"] not in domain.UPLOADER_ROLES:
            raise Forbidden(f"a {caller['role']} cannot upload evidence")
        session = self.db.session
        existing = session.get(Evidence, request["id"])
        if existing is not None:
            return self._replay_slot(existing, request, caller, channel)

        target = session.get(EvidenceTarget, request["action_id"])
        if target is None or not in_scope(target.facility_path, caller["scope"]):
            raise NotFound(f"action {request['action_id']} not found")
        if target.status in domain.CLOSED_ACTION_STATUSES:
            raise Conflict(f"the action is {target.status}: it takes no more evidence")
        max_bytes = self._max_bytes()
        if request["size_bytes"] is not None and request["size_bytes"] > max_bytes:
            raise InvalidInput({"size_bytes": [
                f"larger than the {domain.format_size(max_bytes)} limit"]})
        evidence = Evidence(
            id=request["id"], action_id=target.action_id, plan_id=target.plan_id,
            facility_id=target.facility_id, facility_path=target.facility_path,
            uploaded_by=caller["id"], channel=channel, status=domain.PENDING,
            object_key=domain.object_key(target.action_id, request["id"]),
            upload_key=domain.upload_key(request["id"]),
            filename=domain.sanitise_filename(request["filename"]),
            declared_type=request["content_type"][:100])
        try:
            with session.begin_nested():
                session.add(evidence)
                session.flush()
        except IntegrityError:
            # The same client id arrived twice at once: answer as for a retry.
            session.rollback()
            return self._replay_slot(session.get(Evidence, request["id"]), request, caller,
                                     channel)
        self._log(evidence, caller["id"], "slot_issued", channel=channel)
        return self._slot(evidence, request, channel, replayed=False)

    def _replay_slot(self, evidence, request, caller, channel):
        if not in_scope(evidence.facility_path, caller["scope"]):
            raise NotFound(f"action {request['action_id']} not found")
        if evidence.uploaded_by != caller["id"] or evidence.action_id != request["action_id"]:
            raise Conflict(f"evidence id {evidence.id} is already used for another upload")
        return self._slot(evidence, request, channel, replayed=True)

    def _slot(self, evidence, request, channel, replayed):
        if evidence.status == domain.WITHDRAWN:
            raise Conflict(f"evidence {evidence.id} was withdrawn: upload under a new id")
        result = {"evidence": self._view(evidence), "replayed": replayed, "upload": None}
        if evidence.status not in domain.CONFIRMABLE:
            return result  # already verified: nothing more to upload
        evidence.slot_expires_at = _now() + SLOT_TTL
        evidence.channel = channel  # a client may switch paths on a retry
        if channel == "direct":
            result["upload"] = self.store.upload_slot(
                evidence.upload_key, request["content_type"], self._max_bytes(), SLOT_TTL)
        else:
            result["upload"] = {"key": evidence.upload_key, "max_bytes": self._max_bytes()}
        return result

    @rpc
    def confirm_upload(self, evidence_id, caller):
        """Verify what landed at the upload key; accept it or refuse it with a reason."""
        session = self.db.session
        evidence = session.get(Evidence, _uuid(evidence_id), with_for_update=True)
        if evidence is None or not in_scope(evidence.facility_path, caller["scope"]):
            raise NotFound(f"evidence {evidence_id} not found")
        if evidence.uploaded_by != caller["id"]:
            raise Forbidden("only the person who uploads evidence may confirm it")
        if evidence.status in domain.VERIFIED:
            return {"evidence": self._view(evidence), "replayed": True}
        if evidence.status == domain.WITHDRAWN:
            raise Conflict(f"evidence {evidence_id} was withdrawn")
        target = session.get(EvidenceTarget, evidence.action_id)
        if target.status in domain.CLOSED_ACTION_STATUSES:
            self._refuse(evidence, caller, domain.Rejected(
                "action_closed", f"the action is {target.status}: it takes no more evidence",
                "l'action est close : elle ne reçoit plus de preuve"), status=409)

        max_bytes = self._max_bytes()
        size = self.store.size(evidence.upload_key)
        if size is None:
            raise InvalidInput({"file": ["nothing was uploaded for this evidence yet"]})
        if size == 0 or size > max_bytes:
            # Refused on its size alone, without reading it.
            self._refuse(evidence, caller, _rejection(size, max_bytes))
        # Copy first, then verify the copy: a slot still valid cannot swap the bytes.
        self.store.copy(evidence.upload_key, evidence.object_key)
        try:
            facts = self._inspect(evidence.object_key, max_bytes)
        except domain.Rejected as rejected:
            self._refuse(evidence, caller, rejected)
        kind, size, digest, image = facts
        # Only now: if anything above failed, a retried confirm finds the upload again.
        self.store.remove(evidence.upload_key)
        thumbnail_key = None
        if image is not None and image.thumbnail:
            thumbnail_key = domain.thumbnail_key(evidence.id)
            self.store.put_bytes(thumbnail_key, image.thumbnail, "image/jpeg")
        evidence.status = domain.ACCEPTED
        evidence.content_type = domain.ALLOWED[kind]
        evidence.size_bytes, evidence.sha256 = size, digest
        evidence.uploaded_at = _now()
        evidence.refusal_code = evidence.refusal_reason = evidence.refusal_reason_fr = None
        if image is not None:
            evidence.width, evidence.height = image.width, image.height
            evidence.captured_at = image.captured_at
            if image.gps:
                evidence.gps_lat, evidence.gps_lon = image.gps.lat, image.gps.lon
            evidence.thumbnail_key, evidence.note = thumbnail_key, image.note
        self._log(evidence, caller["id"], "accepted", sha256=digest, size_bytes=size,
                  content_type=evidence.content_type)
        self.db.emit("evidence.uploaded", {
            **self._ref(evidence, target), "content_type": evidence.content_type,
            "size_bytes": size, "sha256": digest, "filename": evidence.filename,
            "captured_at": evidence.captured_at, "uploaded_at": evidence.uploaded_at})
        return {"evidence": self._view(evidence), "replayed": False}

    def _inspect(self, key, max_bytes):
        """Read the object once: size, SHA-256, first and last bytes, and (for
        images) a spooled copy to decode. Memory stays bounded whatever the size."""
        digest = hashlib.sha256()
        head, tail, size = b"", b"", 0
        with tempfile.SpooledTemporaryFile(max_size=1024 * 1024) as spool:
            is_image, early = None, []  # only images are kept to be decoded
            for chunk in self.store.read(key, max_bytes + 1):
                digest.update(chunk)
                if len(head) < domain.HEAD_BYTES:
                    head += chunk[:domain.HEAD_BYTES - len(head)]
                tail = (tail + chunk)[-domain.TAIL_BYTES:]
                size += len(chunk)
                if is_image is None:
                    early.append(chunk)
                    if len(head) >= domain.HEAD_BYTES:
                        is_image = domain.sniff(head) in domain.IMAGE_KINDS
                        spool.writelines(early if is_image else ())
                        early = []
                elif is_image:
                    spool.write(chunk)
            if is_image is None and domain.sniff(head) in domain.IMAGE_KINDS:
                spool.writelines(early)
            kind = domain.verify(size, head, tail, max_bytes)
            image = None
            if kind in domain.IMAGE_KINDS:
                # Decoding is CPU work in C: off the eventlet hub, in a real thread.
                image = tpool.execute(images.inspect, spool, kind)
        return kind, size, digest.hexdigest(), image

    def _refuse(self, evidence, caller, rejected, status=422):
        """Remove the bytes, record why, commit that record, then tell the caller."""
        for key in (evidence.upload_key, evidence.object_key, evidence.thumbnail_key):
            self.store.remove(key)
        evidence.status = domain.REFUSED
        evidence.refusal_code = rejected.code
        evidence.refusal_reason, evidence.refusal_reason_fr = rejected.reason_en, rejected.reason_fr
        self._log(evidence, caller["id"], "refused", code=rejected.code,
                  reason=rejected.reason_en)
        # Committed here: the error below makes the entrypoint roll back, and the
        # refusal (and the removal it reports) must be on record all the same.
        self.db.session.commit()
        if status == 409:
            raise Conflict(rejected.reason_en)
        raise InvalidInput({"file": [rejected.reason_en, rejected.reason_fr]})

    # --- reading --------------------------------------------------------------

    @rpc
    def get_evidence(self, evidence_id, caller):
        evidence = self._visible(evidence_id, caller)
        target = self.db.session.get(EvidenceTarget, evidence.action_id)
        self._locate(target)
        return self._view(evidence, with_urls=True, target=target)

    @rpc
    def list_evidence(self, action_id, caller):
        session = self.db.session
        target = session.get(EvidenceTarget, _uuid(action_id))
        if target is None or not in_scope(target.facility_path, caller["scope"]):
            raise NotFound(f"action {action_id} not found")
        rows = session.scalars(select(Evidence).where(Evidence.action_id == target.action_id)
                               .order_by(Evidence.created_at)).all()
        self._locate(target)
        return {"action_id": str(target.action_id), "action_status": target.status,
                "items": [self._view(e, with_urls=True, target=target) for e in rows]}

    @rpc
    def list_evidence_queue(self, caller, status=domain.ACCEPTED, facility_id=None, page=1,
                            per_page=20):
        """Evidence of the caller's scope in one status, oldest upload first: with
        `accepted` (verified, waiting for review), the coach's review queue."""
        errors = {}
        known = (domain.PENDING, domain.REFUSED, domain.WITHDRAWN, *domain.VERIFIED)
        if status not in known:
            errors["status"] = [f"must be one of {', '.join(known)}"]
        for name, value, high in (("page", page, 100000), ("per_page", per_page, 100)):
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= high:
                errors[name] = [f"must be an integer between 1 and {high}"]
        if facility_id is not None and (not isinstance(facility_id, str)
                                        or not 0 < len(facility_id) <= 64):
            errors["facility_id"] = ["must be an org-unit id of at most 64 characters"]
        if errors:
            raise InvalidInput(errors)
        query = select(Evidence).where(Evidence.status == status,
                                       _scope_clause(Evidence.facility_path, caller["scope"]))
        if facility_id:
            query = query.where(Evidence.facility_id == facility_id)
        session = self.db.session
        total = session.scalar(select(func.count()).select_from(query.subquery()))
        rows = session.scalars(query.order_by(
            func.coalesce(Evidence.uploaded_at, Evidence.created_at), Evidence.id)
            .offset((page - 1) * per_page).limit(per_page)).all()
        targets = {row.action_id: session.get(EvidenceTarget, row.action_id) for row in rows}
        for target in targets.values():
            self._locate(target)
        return {"items": [self._view(row, with_urls=True, target=targets[row.action_id])
                          for row in rows],
                "page": page, "per_page": per_page, "total": total}

    @rpc
    def download_url(self, evidence_id, caller, variant="original"):
        """A presigned GET valid for a few minutes, for users whose scope covers the facility."""
        evidence = self._visible(evidence_id, caller)
        if evidence.status not in domain.VERIFIED or evidence.purged_at is not None:
            raise NotFound(f"evidence {evidence_id} has no file to download")
        if variant == "thumbnail":
            if not evidence.thumbnail_key:
                raise NotFound(f"evidence {evidence_id} has no thumbnail")
            url = self.store.download_url(evidence.thumbnail_key, DOWNLOAD_TTL, "image/jpeg")
        elif variant == "original":
            url = self.store.download_url(evidence.object_key, DOWNLOAD_TTL,
                                          evidence.content_type,
                                          evidence.filename or f"{evidence.id}")
        else:
            raise InvalidInput({"variant": ["must be original or thumbnail"]})
        return {"url": url, "expires_in": int(DOWNLOAD_TTL.total_seconds()),
                "expires_at": (_now() + DOWNLOAD_TTL).isoformat()}

    # --- review and lifecycle -------------------------------------------------

    @rpc
    def review_evidence(self, evidence_id, payload, caller):
        try:
            request = ReviewRequest().load(payload or {})
        except ValidationError as exc:
            raise InvalidInput(exc.messages) from None
        session = self.db.session
        evidence = self._visible(evidence_id, caller, lock=True)
        if caller["role"] not in domain.REVIEWER_ROLES:
            raise Forbidden("only a coach may review evidence")
        if (evidence.decision == request["decision"] and evidence.reviewed_by == caller["id"]
                and (evidence.review_comment or "") == request["comment"]):
            return self._view(evidence)  # a retried review: already done
        reason = domain.can_review(caller["role"], evidence.status)
        if reason:
            raise Conflict(reason)
        evidence.status = evidence.decision = request["decision"]
        evidence.review_comment = request["comment"]
        evidence.reviewed_by, evidence.reviewed_at = caller["id"], _now()
        self._log(evidence, caller["id"], "reviewed", decision=request["decision"])
        target = session.get(EvidenceTarget, evidence.action_id)
        self.db.emit("evidence.reviewed", {
            **self._ref(evidence, target), "decision": request["decision"],
            "comment": request["comment"], "reviewed_by": caller["id"],
            "reviewed_at": evidence.reviewed_at})
        return self._view(evidence)

    @rpc
    def withdraw_evidence(self, evidence_id, caller):
        """The uploader takes evidence back before review; its bytes go after retention."""
        evidence = self._visible(evidence_id, caller, lock=True)
        if evidence.status == domain.WITHDRAWN:
            return self._view(evidence)
        reason = domain.can_withdraw(caller["id"], evidence.uploaded_by, evidence.status)
        if reason:
            raise (Forbidden if caller["id"] != evidence.uploaded_by else Conflict)(reason)
        announced = evidence.status == domain.ACCEPTED
        self.store.remove(evidence.upload_key)  # unverified bytes are worth nothing
        evidence.status = domain.WITHDRAWN
        evidence.withdrawn_by, evidence.withdrawn_at = caller["id"], _now()
        evidence.purge_after = evidence.withdrawn_at + timedelta(days=domain.RETENTION_DAYS)
        self._log(evidence, caller["id"], "withdrawn",
                  purge_after=evidence.purge_after.isoformat())
        if announced:
            target = self.db.session.get(EvidenceTarget, evidence.action_id)
            self.db.emit("evidence.withdrawn", {**self._ref(evidence, target),
                                                "withdrawn_at": evidence.withdrawn_at})
        return self._view(evidence)

    @timer(3600)
    def purge_withdrawn(self):
        """Remove the bytes of evidence withdrawn longer ago than the retention period."""
        session = self.db.session
        due = session.scalars(select(Evidence).where(
            Evidence.purge_after <= _now(), Evidence.purged_at.is_(None))
            .order_by(Evidence.purge_after).limit(PURGE_BATCH)
            .with_for_update(skip_locked=True)).all()
        for evidence in due:
            for key in (evidence.object_key, evidence.thumbnail_key, evidence.upload_key):
                self.store.remove(key)
            evidence.purged_at = _now()
            self._log(evidence, "system", "purged", retention_days=domain.RETENTION_DAYS)
        if due:
            log.info("purged the files of %d withdrawn evidence records", len(due))
        return len(due)

    @timer(3600)
    def sweep_uploads(self):
        """Empty the upload keys whose slots have expired.

        Bytes a client sent but never confirmed, or sent again with a slot still
        valid after its evidence was accepted, would otherwise stay for ever.
        """
        session = self.db.session
        stale = session.scalars(select(Evidence).where(
            Evidence.slot_expires_at < _now(),
            or_(Evidence.upload_swept_at.is_(None),
                Evidence.upload_swept_at < Evidence.slot_expires_at))
            .order_by(Evidence.slot_expires_at).limit(PURGE_BATCH)
            .with_for_update(skip_locked=True)).all()
        for evidence in stale:
            self.store.remove(evidence.upload_key)  # a missing key is no error
            evidence.upload_swept_at = _now()
            self._log(evidence, "system", "upload_swept", status=evidence.status)
        return len(stale)

    # --- helpers --------------------------------------------------------------

    def _locate(self, target):
        """Learn the facility's coordinates from the checklist service, which owns
        places (no event carries them). Best effort: a reviewer's page never
        fails or waits long because of it."""
        if target is None or target.facility_lat is not None:
            return
        if target.facility_located_at and _now() - target.facility_located_at \
                < LOCATE_AGAIN_AFTER:
            return
        target.facility_located_at = _now()
        # Asked with a scope of exactly this facility: the answer is that one unit.
        asker = {"id": "service:evidence", "role": "service", "scope": [target.facility_path]}
        try:
            with eventlet.Timeout(LOCATE_TIMEOUT_S):
                units = self.checklist.list_org_units(asker, "facility")
        except (Exception, eventlet.Timeout) as exc:
            log.warning("facility %s not located: %r", target.facility_id, exc)
            return
        for unit in units:
            if unit.get("id") == target.facility_id and unit.get("latitude") is not None:
                target.facility_lat, target.facility_lon = unit["latitude"], unit["longitude"]

    def _max_bytes(self):
        return config["C2P_SETTINGS"].evidence_max_bytes

    def _visible(self, evidence_id, caller, lock=False):
        evidence = self.db.session.get(Evidence, _uuid(evidence_id), with_for_update=lock)
        if evidence is None or not in_scope(evidence.facility_path, caller["scope"]):
            raise NotFound(f"evidence {evidence_id} not found")
        return evidence

    def _log(self, evidence, actor, what, **detail):
        self.db.session.add(EvidenceLog(evidence_id=evidence.id, actor=actor, what=what,
                                        detail=detail))

    @staticmethod
    def _ref(evidence, target):
        return {"evidence_id": evidence.id, "action_id": evidence.action_id,
                "plan_id": evidence.plan_id, "facility_id": evidence.facility_id,
                "facility_path": evidence.facility_path, "coach_id": target.coach_id,
                "uploaded_by": evidence.uploaded_by}

    def _view(self, evidence, with_urls=False, target=None):
        target = target or self.db.session.get(EvidenceTarget, evidence.action_id)
        gps = ({"lat": evidence.gps_lat, "lon": evidence.gps_lon}
               if evidence.gps_lat is not None else None)
        location = ({"lat": target.facility_lat, "lon": target.facility_lon}
                    if target is not None and target.facility_lat is not None else None)
        distance = None
        if gps and location:
            distance = round(domain.distance_m(domain.Point(**gps), domain.Point(**location)))
        age_h = None
        if evidence.captured_at and evidence.uploaded_at:
            age_h = round((evidence.uploaded_at - evidence.captured_at).total_seconds() / 3600, 1)
        view = {
            "id": str(evidence.id), "action_id": str(evidence.action_id),
            "plan_id": str(evidence.plan_id), "status": evidence.status,
            "channel": evidence.channel, "uploaded_by": evidence.uploaded_by,
            "facility": {"id": evidence.facility_id, "path": evidence.facility_path,
                         "name": target.facility_name if target else None,
                         "location": location},
            "filename": evidence.filename, "content_type": evidence.content_type,
            "size_bytes": evidence.size_bytes, "sha256": evidence.sha256,
            "width": evidence.width, "height": evidence.height,
            "created_at": evidence.created_at.isoformat() if evidence.created_at else None,
            "uploaded_at": _iso(evidence.uploaded_at),
            "captured_at": _iso(evidence.captured_at), "gps": gps,
            # How long before upload the photo was taken, and how far from the
            # facility: an old photo, or one taken elsewhere, stands out.
            "hours_between_capture_and_upload": age_h,
            "distance_from_facility_m": distance,
            "note": evidence.note or "",
            "refusal": ({"code": evidence.refusal_code, "reason_en": evidence.refusal_reason,
                         "reason_fr": evidence.refusal_reason_fr}
                        if evidence.refusal_code else None),
            "review": ({"decision": evidence.decision, "comment": evidence.review_comment,
                        "reviewed_by": evidence.reviewed_by,
                        "reviewed_at": _iso(evidence.reviewed_at)}
                       if evidence.decision else None),
            "withdrawn_at": _iso(evidence.withdrawn_at),
            "purged_at": _iso(evidence.purged_at),
        }
        if with_urls and evidence.thumbnail_key and evidence.purged_at is None \
                and evidence.status in domain.VERIFIED:
            view["thumbnail_url"] = self.store.download_url(evidence.thumbnail_key,
                                                            DOWNLOAD_TTL, "image/jpeg")
        return view


def _scope_clause(column, scope):
    """SQL twin of c2p.scope.in_scope: the path is a root of the scope or lies under it."""
    clauses = []
    for root in scope or ():
        prefix = root.rstrip("/") + "/"
        escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        clauses += [column == root, column.like(escaped + "%", escape="\\")]
    return or_(*clauses) if clauses else false()


def _iso(value):
    return value.isoformat() if value else None


def _rejection(size, max_bytes):
    try:
        domain.verify(size, b"", b"", max_bytes)
    except domain.Rejected as rejected:
        return rejected
    raise AssertionError("size within limits")  # pragma: no cover
