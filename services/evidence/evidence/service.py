"""Evidence entrypoints: upload slots, verification, review, withdrawal, purge.

Entrypoints only: the rules (acceptable files, who may do what) are in
`evidence.domain`, the queries in `evidence.store`, requests, views and event data
in `evidence.schemas`, the bytes behind `evidence.dependencies.ObjectStore`.

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
from datetime import timedelta

import eventlet
from eventlet import tpool
from nameko import config

from c2p.clock import utcnow
from c2p.entrypoints import ServiceRpc, rpc, subscribe, timer
from c2p.errors import (Conflict, Forbidden, InvalidInput, NotFound, ServiceUnavailable,
                        Unacceptable)
from c2p.scope import in_scope
from c2p.service import PlatformService
from c2p.validation import load
from evidence import documents, domain, images, schemas, store
from evidence.dependencies import ObjectStore
from evidence.models import Evidence, EvidenceTarget
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


class EvidenceService(PlatformService):
    name = "evidence"
    store = ObjectStore()
    checklist = ServiceRpc("checklist")

    # --- what may receive evidence ------------------------------------------

    @subscribe("plan.created")
    def on_plan_created(self, event):
        store.save_targets(self.db.session, event.data)

    @subscribe("actions.status_changed")
    def on_action_status_changed(self, event):
        # One change per `action.status_changed` still waiting from before the
        # upgrade to `actions.status_changed` (c2p.topology.FORMER_BINDINGS).
        changes = event.data["changes"] if event.type == "actions.status_changed" \
            else [event.data]
        waiting = store.apply_statuses(self.db.session, changes)
        # Evidence nobody reviewed before its action closed is settled: it leaves the
        # review queue (its file and record are kept, with why, in its log). A
        # change not applied (older than one applied before) settles nothing.
        for change in changes:
            status = change["status"]
            if status not in domain.CLOSED_ACTION_STATUSES or not waiting.get(
                    change["action_id"]):
                continue  # nothing to settle: no need to look further
            for row in store.unreviewed(self.db.session, change["action_id"]):
                if domain.settles(status, row.status):
                    row.status = domain.SETTLED
                    store.log(self.db.session, row, change["changed_by"], "settled",
                              action_status=status, comment=change.get("comment", ""))

    @rpc
    def count_targets(self, plan_id):
        return store.count_targets(self.db.session, plan_id)

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
        request = load(schema, payload or {})
        domain.check_uploader(caller["role"])
        session = self.db.session
        existing = session.get(Evidence, request["id"])
        if existing is not None:
            return self._replay_slot(existing, request, caller, channel)

        target = session.get(EvidenceTarget, request["action_id"])
        if target is None or not in_scope(target.facility_path, caller["scope"]):
            raise NotFound(f"action {request['action_id']} not found")
        domain.check_takes_evidence(target.status)
        domain.check_declared_size(request["size_bytes"], self._max_bytes())
        evidence = Evidence(
            id=request["id"], action_id=target.action_id, plan_id=target.plan_id,
            facility_id=target.facility_id, facility_path=target.facility_path,
            uploaded_by=caller["id"], channel=channel, status=domain.PENDING,
            object_key=domain.object_key(target.action_id, request["id"]),
            upload_key=domain.upload_key(request["id"]),
            filename=domain.sanitise_filename(request["filename"]),
            declared_type=request["content_type"][:100])
        if not store.add_evidence(session, evidence):
            # The same client id arrived twice at once: answer as for a retry.
            return self._replay_slot(session.get(Evidence, request["id"]), request, caller,
                                     channel)
        store.log(session, evidence, caller["id"], "slot_issued", channel=channel)
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
        if evidence.status not in domain.CONFIRMABLE:
            # already verified: nothing more to upload
            return schemas.slot_view(self._view(evidence), replayed, None)
        evidence.slot_expires_at = utcnow() + SLOT_TTL
        evidence.channel = channel  # a client may switch paths on a retry
        if channel == "direct":
            upload = self.store.upload_slot(
                evidence.upload_key, request["content_type"], self._max_bytes(), SLOT_TTL)
        else:
            upload = schemas.stream_slot(evidence.upload_key, self._max_bytes())
        return schemas.slot_view(self._view(evidence), replayed, upload)

    @rpc
    def confirm_upload(self, evidence_id, caller):
        """Verify what landed at the upload key; accept it or refuse it with a reason."""
        session = self.db.session
        evidence = store.evidence(session, evidence_id, lock=True)
        if evidence is None or not in_scope(evidence.facility_path, caller["scope"]):
            raise NotFound(f"evidence {evidence_id} not found")
        if evidence.uploaded_by != caller["id"]:
            raise Forbidden("uploaded_by", "only the person who uploads evidence may confirm it",
                            "seule la personne qui envoie la preuve peut la confirmer")
        if evidence.status in domain.VERIFIED:
            return schemas.confirmation_view(self._view(evidence), replayed=True)
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
            self._refuse(evidence, caller, domain.rejection_for_size(size, max_bytes))
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
        evidence.uploaded_at = utcnow()
        evidence.refusal_code = evidence.refusal_reason = evidence.refusal_reason_fr = None
        if image is not None:
            evidence.width, evidence.height = image.width, image.height
            evidence.captured_at = image.captured_at
            if image.gps:
                evidence.gps_lat, evidence.gps_lon = image.gps.lat, image.gps.lon
            evidence.thumbnail_key, evidence.note = thumbnail_key, image.note
        store.log(session, evidence, caller["id"], "accepted", sha256=digest, size_bytes=size,
                  content_type=evidence.content_type)
        self.db.emit("evidence.uploaded", {
            **schemas.evidence_ref(evidence, target), "content_type": evidence.content_type,
            "size_bytes": size, "sha256": digest, "filename": evidence.filename,
            "captured_at": evidence.captured_at, "uploaded_at": evidence.uploaded_at})
        return schemas.confirmation_view(self._view(evidence), replayed=False)

    def _inspect(self, key, max_bytes):
        """Read the object once: size, SHA-256, first and last bytes, and (for
        images and PDFs) a spooled copy to decode or parse. Memory stays bounded
        whatever the size; decoding is bounded by `images.Limits`."""
        digest = hashlib.sha256()
        head, start, tail, size = b"", b"", b"", 0
        with tempfile.SpooledTemporaryFile(max_size=1024 * 1024) as spool:
            keep, early = None, []  # only what is decoded or parsed is kept
            for chunk in self.store.read(key, max_bytes + 1):
                digest.update(chunk)
                if len(head) < domain.HEAD_BYTES:
                    head += chunk[:domain.HEAD_BYTES - len(head)]
                if len(start) < domain.MARKUP_BYTES:
                    start += chunk[:domain.MARKUP_BYTES - len(start)]
                tail = (tail + chunk)[-domain.TAIL_BYTES:]
                size += len(chunk)
                if keep is None:
                    early.append(chunk)
                    if len(head) >= domain.HEAD_BYTES:
                        keep = domain.sniff(head) in domain.DECODED_KINDS
                        spool.writelines(early if keep else ())
                        early = []
                elif keep:
                    spool.write(chunk)
            if keep is None and domain.sniff(head) in domain.DECODED_KINDS:
                spool.writelines(early)
            kind = domain.verify(size, head, tail, max_bytes, start)
            # Decoding and parsing are CPU work in C: off the eventlet hub, in a thread.
            try:
                if kind in domain.IMAGE_KINDS:
                    image = tpool.execute(images.inspect, spool, kind, self._limits())
                else:  # a PDF: parsed, its active content refused
                    image = images.ImageFacts(None, None, None, None, None,
                                              note=tpool.execute(documents.inspect_pdf, spool))
            except images.Busy as exc:
                raise ServiceUnavailable(str(exc)) from None
        return kind, size, digest.hexdigest(), image

    def _limits(self):
        settings = config["C2P_SETTINGS"]
        return images.Limits(image_bytes=settings.evidence_max_decoded_bytes,
                             process_bytes=settings.evidence_decode_budget_bytes)

    def _refuse(self, evidence, caller, rejected, status=422):
        """Remove the bytes, record why, commit that record, then tell the caller."""
        for key in (evidence.upload_key, evidence.object_key, evidence.thumbnail_key):
            self.store.remove(key)
        evidence.status = domain.REFUSED
        evidence.refusal_code = rejected.code
        evidence.refusal_reason, evidence.refusal_reason_fr = rejected.reason_en, rejected.reason_fr
        store.log(self.db.session, evidence, caller["id"], "refused", code=rejected.code,
                  reason=rejected.reason_en)
        # The error below makes the entrypoint roll back, and the refusal (and the
        # removal it reports) must be on record all the same.
        self.db.commit()
        if status == 409:
            raise Conflict(rejected.reason_en)
        raise Unacceptable("file", rejected.reason_en, rejected.reason_fr)

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
        target = store.target(session, action_id)
        if target is None or not in_scope(target.facility_path, caller["scope"]):
            raise NotFound(f"action {action_id} not found")
        rows = store.evidence_of_action(session, target.action_id)
        self._locate(target)
        return schemas.evidence_list_view(
            target, [self._view(e, with_urls=True, target=target) for e in rows])

    @rpc
    def list_evidence_queue(self, caller, status=domain.ACCEPTED, facility_id=None, page=1,
                            per_page=20, district_id=None, order="oldest"):
        """Evidence of the caller's scope in one status, oldest upload first: with
        `accepted` (alias `pending_review`: verified, waiting for review), the coach's
        review queue. `any` status and `newest` first: a facility's recent evidence."""
        wanted = load(schemas.EvidenceQueueQuery(), {
            "status": status, "facility_id": facility_id, "page": page, "per_page": per_page,
            "district_id": district_id, "order": order})
        session = self.db.session
        total, rows = store.evidence_queue(session, caller["scope"], wanted["status"],
                                           wanted["facility_id"], page, per_page,
                                           district_id=wanted["district_id"],
                                           order=wanted["order"])
        targets = {row.action_id: session.get(EvidenceTarget, row.action_id) for row in rows}
        for target in targets.values():
            self._locate(target)
        return schemas.queue_page(
            [self._view(row, with_urls=True, target=targets[row.action_id]) for row in rows],
            page, per_page, total)

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
        return schemas.download_view(url, DOWNLOAD_TTL, utcnow() + DOWNLOAD_TTL)

    # --- review and lifecycle -------------------------------------------------

    @rpc
    def review_evidence(self, evidence_id, payload, caller):
        request = load(ReviewRequest(), payload or {})
        session = self.db.session
        evidence = self._visible(evidence_id, caller, lock=True)
        domain.check_reviewer(caller["role"])
        if (evidence.decision == request["decision"] and evidence.reviewed_by == caller["id"]
                and (evidence.review_comment or "") == request["comment"]):
            return self._view(evidence)  # a retried review: already done
        domain.check_review(caller["role"], evidence.status)
        evidence.status = evidence.decision = request["decision"]
        evidence.review_comment = request["comment"]
        evidence.reviewed_by, evidence.reviewed_at = caller["id"], utcnow()
        store.log(session, evidence, caller["id"], "reviewed", decision=request["decision"])
        target = session.get(EvidenceTarget, evidence.action_id)
        self.db.emit("evidence.reviewed", {
            **schemas.evidence_ref(evidence, target), "decision": request["decision"],
            "comment": request["comment"], "reviewed_by": caller["id"],
            "reviewed_at": evidence.reviewed_at})
        return self._view(evidence)

    @rpc
    def withdraw_evidence(self, evidence_id, caller):
        """The uploader takes evidence back before review; its bytes go after retention."""
        evidence = self._visible(evidence_id, caller, lock=True)
        if evidence.status == domain.WITHDRAWN:
            return self._view(evidence)
        domain.check_withdraw(caller["id"], evidence.uploaded_by, evidence.status)
        announced = evidence.status == domain.ACCEPTED
        self.store.remove(evidence.upload_key)  # unverified bytes are worth nothing
        self._hide_withdrawn(evidence)
        evidence.status = domain.WITHDRAWN
        evidence.withdrawn_by, evidence.withdrawn_at = caller["id"], utcnow()
        evidence.purge_after = evidence.withdrawn_at + timedelta(days=domain.RETENTION_DAYS)
        store.log(self.db.session, evidence, caller["id"], "withdrawn",
                  purge_after=evidence.purge_after.isoformat())
        if announced:
            target = self.db.session.get(EvidenceTarget, evidence.action_id)
            self.db.emit("evidence.withdrawn", {**schemas.evidence_ref(evidence, target),
                                                "withdrawn_at": evidence.withdrawn_at})
        return self._view(evidence)

    def _hide_withdrawn(self, evidence):
        """Move the file and its thumbnail to keys never handed out, so that a
        download link given before the withdrawal (presigned, valid a few more
        minutes) finds nothing; the purge removes them after retention."""
        for attribute, variant in (("object_key", "original"), ("thumbnail_key", "thumbnail")):
            key = getattr(evidence, attribute)
            if not key or key.startswith("withdrawn/"):
                continue
            hidden = domain.withdrawn_key(evidence.id, variant)
            if self.store.size(key) is not None:
                self.store.copy(key, hidden)
                self.store.remove(key)
            setattr(evidence, attribute, hidden)

    @timer(3600)
    def purge_withdrawn(self):
        """Remove the bytes of evidence withdrawn longer ago than the retention period."""
        session = self.db.session
        due = store.due_for_purge(session, utcnow(), PURGE_BATCH)
        for evidence in due:
            for key in (evidence.object_key, evidence.thumbnail_key, evidence.upload_key):
                self.store.remove(key)
            evidence.purged_at = utcnow()
            store.log(session, evidence, "system", "purged",
                      retention_days=domain.RETENTION_DAYS)
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
        stale = store.stale_uploads(session, utcnow(), PURGE_BATCH)
        for evidence in stale:
            self.store.remove(evidence.upload_key)  # a missing key is no error
            evidence.upload_swept_at = utcnow()
            store.log(session, evidence, "system", "upload_swept", status=evidence.status)
        return len(stale)

    # --- inside ---------------------------------------------------------------

    def _locate(self, target):
        """Learn the facility's coordinates from the checklist service, which owns
        places (no event carries them). Best effort: a reviewer's page never
        fails or waits long because of it."""
        if target is None or target.facility_lat is not None:
            return
        if target.facility_located_at and utcnow() - target.facility_located_at \
                < LOCATE_AGAIN_AFTER:
            return
        target.facility_located_at = utcnow()
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
        evidence = store.evidence(self.db.session, evidence_id, lock=lock)
        if evidence is None or not in_scope(evidence.facility_path, caller["scope"]):
            raise NotFound(f"evidence {evidence_id} not found")
        return evidence

    def _view(self, evidence, with_urls=False, target=None):
        target = target or self.db.session.get(EvidenceTarget, evidence.action_id)
        thumbnail_url = None
        if with_urls and evidence.thumbnail_key and evidence.purged_at is None \
                and evidence.status in domain.VERIFIED:
            thumbnail_url = self.store.download_url(evidence.thumbnail_key, DOWNLOAD_TTL,
                                                    "image/jpeg")
        return schemas.evidence_view(evidence, target, thumbnail_url)
