"""The evidence service's shapes: the requests it accepts, the views its RPCs answer
and the data its events carry.

The requests live in `c2p.api.evidence` (unknown fields refused), where the
gateway documents them too and dumps the views below through their documented
view schemas.
"""
from __future__ import annotations

from c2p.api import page_of
from c2p.api.evidence import (DirectUploadRequest, EvidenceQueueQuery,  # noqa: F401
                              ReviewRequest, UploadRequest)
from c2p.clock import iso
from evidence import domain


# --- views: what the RPCs answer -----------------------------------------------------


def evidence_view(evidence, target, thumbnail_url: str | None = None) -> dict:
    """An evidence record as callers see it; `target` is its action (for the
    facility's name and location), `thumbnail_url` a presigned link if wanted."""
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
        "uploaded_at": iso(evidence.uploaded_at),
        "captured_at": iso(evidence.captured_at), "gps": gps,
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
                    "reviewed_at": iso(evidence.reviewed_at)}
                   if evidence.decision else None),
        "withdrawn_at": iso(evidence.withdrawn_at),
        "purged_at": iso(evidence.purged_at),
    }
    if thumbnail_url is not None:
        view["thumbnail_url"] = thumbnail_url
    return view


def evidence_list_view(target, items: list[dict]) -> dict:
    return {"action_id": str(target.action_id), "action_status": target.status,
            "items": items}


def queue_page(items: list[dict], page: int, per_page: int, total: int) -> dict:
    return page_of(items, total, page, per_page)


def slot_view(evidence: dict, replayed: bool, upload: dict | None) -> dict:
    return {"evidence": evidence, "replayed": replayed, "upload": upload}


def stream_slot(upload_key: str, max_bytes: int) -> dict:
    return {"key": upload_key, "max_bytes": max_bytes}


def confirmation_view(evidence: dict, replayed: bool) -> dict:
    return {"evidence": evidence, "replayed": replayed}


def download_view(url: str, ttl, expires_at) -> dict:
    return {"url": url, "expires_in": int(ttl.total_seconds()),
            "expires_at": expires_at.isoformat()}


# --- event data ----------------------------------------------------------------------

def evidence_ref(evidence, target) -> dict:
    return {"evidence_id": evidence.id, "action_id": evidence.action_id,
            "plan_id": evidence.plan_id, "facility_id": evidence.facility_id,
            "facility_path": evidence.facility_path, "coach_id": target.coach_id,
            "uploaded_by": evidence.uploaded_by}
