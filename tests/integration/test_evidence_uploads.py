"""Evidence over a real S3 server (moto here, MinIO with Docker) and the real HTTP API:
both upload paths, the confirm step, verification failures, review, withdrawal and
purge, download links that expire, and scope.

The gateway here is composed of the session and evidence routes only, so these
tests depend on nothing else the gateway grows."""
import hashlib
import hmac
import io
import time
import uuid
from datetime import date, datetime, timedelta, timezone
from types import SimpleNamespace
from urllib.parse import parse_qsl, quote, urlsplit

import pytest
import requests
from nameko.testing.services import entrypoint_hook
from PIL import Image
from sqlalchemy import text

from c2p.contracts import Event
from c2p.objectstore import format_size
from c2p.service import PlatformService
from checklist.service import ChecklistService
from evidence.dependencies import make_client
from evidence.domain import Point, distance_m
from evidence.service import EvidenceService
from gateway.auth import Auth
from gateway.routes.evidence import EvidenceRoutes
from gateway.routes.session import SessionRoutes
import upload_corpus
from support import eventually, publish_raw, tap

API = "/api/v1"
FACILITY_PATH = "/ML/ML-SEG/ML-SEG-NIO/ML-SEG-NIO-CEN"
MAX_BYTES = 300_000  # small, so that "too large" costs little to test


class EvidenceGateway(SessionRoutes, EvidenceRoutes, PlatformService):
    name = "gateway"
    auth = Auth()


@pytest.fixture
def process_env(process_env):
    # A bucket of this test's own: the S3 server lives for the whole run.
    # (The current names: the sandbox sets C2P_EVIDENCE_BUCKET, which wins over the
    # old EVIDENCE_BUCKET, so setting the old one here shared one bucket.)
    return {**process_env, "C2P_EVIDENCE_MAX_BYTES": str(MAX_BYTES),
            "C2P_EVIDENCE_BUCKET": f"c2p-ev-{uuid.uuid4().hex[:12]}"}


def photo(gps=True):
    image = Image.new("RGB", (1600, 1200), (180, 40, 40))
    exif = Image.Exif()
    exif.get_ifd(0x8769)[36867] = "2026:11:20 09:15:00"
    if gps:
        ifd = exif.get_ifd(0x8825)
        ifd[1], ifd[2], ifd[3], ifd[4] = "N", (14.0, 15.0, 9.36), "W", (5.0, 59.0, 34.8)
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, quality=85)
    return out.getvalue()


PDF = upload_corpus.pdf(padding=18_000)  # a real one-page PDF (it is parsed)
PHP = b"<?php system($_GET['cmd']); ?>\n" * 10


def plan_created(action_ids, status="todo"):
    return Event(type="plan.created", source="test", data={
        "plan_id": uuid.uuid4(), "submission_id": uuid.uuid4(),
        "facility_id": "ML-SEG-NIO-CEN", "facility_name": "CSCom central de Niono",
        "facility_path": FACILITY_PATH, "coach_id": "u-coach-niono",
        "coachee_ids": ["u-dtc-niono"],
        "actions": [{"action_id": action_id, "item_code": "cc_in_range",
                     "text_fr": "Relever la température deux fois par jour",
                     "text_en": "Record the temperature twice a day",
                     "owner_id": "u-dtc-niono", "owner_role": "dtc",
                     "due_date": date(2026, 12, 15), "critical": True, "status": status}
                    for action_id in action_ids]})


def status_changed(plan, action_id, status, changed_at):
    """`actions.status_changed` of one change, as the planner publishes with each."""
    change = single_status_change(plan, action_id, status, changed_at)
    return Event(type="actions.status_changed", source="test", data={"changes": [change.data]})


def single_status_change(plan, action_id, status, changed_at):
    data = plan.data
    return Event(type="action.status_changed", source="test", data={
        "plan_id": data["plan_id"], "facility_id": data["facility_id"],
        "facility_name": data["facility_name"], "facility_path": data["facility_path"],
        "coach_id": data["coach_id"], "coachee_ids": data["coachee_ids"],
        "action_id": action_id, "item_code": "cc_in_range", "text_fr": "x", "text_en": "x",
        "owner_id": "u-dtc-niono", "due_date": date(2026, 12, 15), "status": status,
        "from_status": "todo", "changed_by": "u-coach-niono", "changed_at": changed_at,
        "late": False})


def count(engine, sql, **params):
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar()


@pytest.fixture
def api(start_service, service_config, settings, engines):
    evidence_container = start_service(EvidenceService)
    start_service(ChecklistService)  # owns places: where the facility is
    start_service(EvidenceGateway)
    base = f"http://{service_config['WEB_SERVER_ADDRESS']}{API}"
    actions = [uuid.uuid4() for _ in range(3)]
    plan = plan_created(actions)
    publish_raw(settings.amqp_uri, plan.to_wire(), "plan.created", str(plan.id))
    eventually(lambda: count(engines["evidence"],
                             "select count(*) from evidence_targets") == len(actions))

    def sign_in(username):
        response = requests.post(f"{base}/auth/token", timeout=10, json={
            "username": username, "password": "demo-c2p-2025"})
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    return SimpleNamespace(
        base=base, plan=plan, actions=actions, container=evidence_container,
        s3=make_client(settings), bucket=settings.evidence_bucket, settings=settings,
        engine=engines["evidence"], checklist_engine=engines["checklist"],
        dtc=sign_in("dtc.niono"), coach=sign_in("coach.niono"),
        kayes=sign_in("coach.kayes"), manager=sign_in("manager.national"))


def objects(api, prefix=""):
    return sorted(o.object_name for o in api.s3.list_objects(api.bucket, prefix=prefix,
                                                             recursive=True))


def direct_upload(api, data, content_type="image/jpeg", filename="photo.jpg", action=None,
                  evidence_id=None, auth=None, declare_size=True):
    """Slot, POST to the object store with the presigned form, confirm."""
    evidence_id = evidence_id or str(uuid.uuid4())
    slot = requests.post(f"{api.base}/evidence/uploads", headers=auth or api.dtc, timeout=10,
                         json={"id": evidence_id, "action_id": str(action or api.actions[0]),
                               "filename": filename, "content_type": content_type,
                               "size_bytes": len(data) if declare_size else None})
    assert slot.status_code in (200, 201), slot.text
    upload = slot.json()["upload"]
    posted = requests.post(upload["url"], data=upload["fields"], timeout=30,
                           files={upload["file_field"]: (filename, data, content_type)})
    assert posted.status_code in (200, 201, 204), posted.text
    confirmed = requests.post(f"{api.base}/evidence/{evidence_id}/confirm", headers=api.dtc,
                              timeout=30)
    return evidence_id, slot, confirmed


def stream_upload(api, body, evidence_id=None, action=None, filename="scan.pdf",
                  content_type="application/pdf", auth=None):
    evidence_id = evidence_id or str(uuid.uuid4())
    response = requests.put(
        f"{api.base}/evidence/{evidence_id}/content", data=body, headers={
            **(auth or api.dtc), "Content-Type": content_type}, timeout=60,
        params={"action_id": str(action or api.actions[0]), "filename": filename})
    return evidence_id, response


def test_direct_upload_slot_post_then_confirm(api, settings):
    uploaded = tap(settings.amqp_uri, "evidence.uploaded")
    data = photo()
    evidence_id, slot, confirmed = direct_upload(
        api, data, filename="../../tmp/Réfrigérateur <été>.jpg")
    assert slot.status_code == 201
    form = slot.json()["upload"]
    assert form["fields"]["key"] == f"uploads/{evidence_id}"  # generated by the service
    assert form["fields"]["Content-Type"] == "image/jpeg"
    assert form["max_bytes"] == MAX_BYTES
    assert confirmed.status_code == 201, confirmed.text
    record = confirmed.json()
    assert record["status"] == "accepted"
    assert record["content_type"] == "image/jpeg"
    assert record["size_bytes"] == len(data)
    assert record["sha256"] == hashlib.sha256(data).hexdigest()
    assert record["filename"] == "Réfrigérateur _été_.jpg"
    assert record["captured_at"] == "2026-11-20T09:15:00+00:00"
    assert record["gps"] == {"lat": 14.2526, "lon": -5.993}
    assert record["uploaded_at"] and record["facility"]["name"] == "CSCom central de Niono"
    assert record["facility"]["path"] == FACILITY_PATH
    assert record["hours_between_capture_and_upload"] is not None
    assert record["facility"]["location"] is None  # not asked yet: confirming needs no map
    # The file moved to a key no upload slot can write to; a small thumbnail was made.
    assert objects(api) == [f"evidence/{api.actions[0]}/{evidence_id}",
                            f"thumbnails/{evidence_id}.jpg"]
    thumbnail = api.s3.get_object(api.bucket, f"thumbnails/{evidence_id}.jpg").read()
    assert len(thumbnail) < 20_000 and Image.open(io.BytesIO(thumbnail)).size == (320, 240)

    events = eventually(uploaded)
    assert len(events) == 1
    assert events[0]["data"]["evidence_id"] == evidence_id
    assert events[0]["data"]["sha256"] == record["sha256"]
    assert events[0]["data"]["coach_id"] == "u-coach-niono"
    assert events[0]["data"]["captured_at"] == "2026-11-20T09:15:00+00:00"

    # Retries of the slot request and of the confirm find the same record.
    again = requests.post(f"{api.base}/evidence/uploads", headers=api.dtc, timeout=10, json={
        "id": evidence_id, "action_id": str(api.actions[0]), "content_type": "image/jpeg"})
    assert again.status_code == 200 and again.json()["upload"] is None
    assert again.json()["evidence"]["sha256"] == record["sha256"]
    reconfirmed = requests.post(f"{api.base}/evidence/{evidence_id}/confirm", headers=api.dtc,
                                timeout=10)
    assert reconfirmed.status_code == 200 and reconfirmed.json() == record
    assert count(api.engine, "select count(*) from evidence") == 1
    time.sleep(0.3)
    assert uploaded() == []  # announced once

    # The reviewer sees where the photo was taken beside where the facility is.
    set_location = ("update org_units set latitude = :lat, longitude = :lon "
                    "where id = 'ML-SEG-NIO-CEN'")
    with api.checklist_engine.begin() as conn:  # reference data: restored below
        seeded = conn.execute(text("select latitude as lat, longitude as lon from org_units "
                                   "where id = 'ML-SEG-NIO-CEN'")).one()._asdict()
        conn.execute(text(set_location), {"lat": 14.26, "lon": -5.99})
    try:
        seen = requests.get(f"{api.base}/evidence/{evidence_id}", headers=api.coach,
                            timeout=10).json()
    finally:  # as seeded: later tests of the session (e2e ones too) read it
        with api.checklist_engine.begin() as conn:
            conn.execute(text(set_location), seeded)
    assert seen["facility"]["location"] == {"lat": 14.26, "lon": -5.99}
    assert seen["distance_from_facility_m"] == round(
        distance_m(Point(14.2526, -5.993), Point(14.26, -5.99)))
    assert 800 < seen["distance_from_facility_m"] < 900


def check_confirm_before_any_upload_is_refused_and_the_slot_stays_usable(api):
    evidence_id = str(uuid.uuid4())
    slot = requests.post(f"{api.base}/evidence/uploads", headers=api.dtc, timeout=10, json={
        "id": evidence_id, "action_id": str(api.actions[0]), "content_type": "application/pdf"})
    assert slot.status_code == 201
    early = requests.post(f"{api.base}/evidence/{evidence_id}/confirm", headers=api.dtc,
                          timeout=10)
    assert early.status_code == 422
    assert early.json()["errors"][0]["field"] == "file"
    _, _, confirmed = direct_upload(api, PDF, "application/pdf", "rapport.pdf",
                                    evidence_id=evidence_id)
    assert confirmed.status_code == 201 and confirmed.json()["content_type"] == "application/pdf"
    assert confirmed.json()["channel"] == "direct"


def test_slot_requests_are_checked_before_any_byte_moves(api):
    def slot(body, auth=None):
        return requests.post(f"{api.base}/evidence/uploads", headers=auth or api.dtc,
                             json=body, timeout=10)
    good = {"id": str(uuid.uuid4()), "action_id": str(api.actions[0]),
            "content_type": "image/jpeg"}
    cases = [({**good, "id": "nope"}, 422, "id"),
             ({**good, "content_type": "application/x-php"}, 422, "content_type"),
             ({**good, "size_bytes": MAX_BYTES + 1}, 422, "size_bytes"),
             ({**good, "surprise": 1}, 422, "surprise")]
    for body, status, field in cases:
        response = slot(body)
        assert response.status_code == status, (body, response.text)
        assert field in [e["field"] for e in response.json()["errors"]]
    assert slot({**good, "action_id": str(uuid.uuid4())}).status_code == 404
    assert slot(good, api.kayes).status_code == 404  # out of scope: existence not revealed
    assert slot(good, api.manager).status_code == 403  # read-only role
    assert count(api.engine, "select count(*) from evidence") == 0
    assert objects(api) == []
    check_confirm_before_any_upload_is_refused_and_the_slot_stays_usable(api)


def test_streamed_upload_through_the_gateway(api):
    evidence_id, response = stream_upload(api, PDF)
    assert response.status_code == 201, response.text
    record = response.json()
    assert record["status"] == "accepted" and record["channel"] == "stream"
    assert record["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert record["content_type"] == "application/pdf" and record["filename"] == "scan.pdf"
    assert "store;dur=" in response.headers["Server-Timing"]
    stored = api.s3.get_object(api.bucket, f"evidence/{api.actions[0]}/{evidence_id}").read()
    assert stored == PDF

    # Retried after success (the answer was lost on the way back): same record.
    _, again = stream_upload(api, PDF, evidence_id=evidence_id)
    assert again.status_code == 200 and again.json()["sha256"] == record["sha256"]
    assert count(api.engine, "select count(*) from evidence") == 1

    # A chunked body (no Content-Length) of a photo, spread over several parts.
    data = photo()

    def chunks():
        for i in range(0, len(data), 4096):
            yield data[i:i + 4096]
    chunked_id, chunked = stream_upload(api, chunks(), filename="IMG_0001.JPG",
                                        content_type="application/octet-stream")
    assert chunked.status_code == 201, chunked.text
    assert chunked.json()["content_type"] == "image/jpeg"  # from the bytes, not the header
    assert chunked.json()["gps"] == {"lat": 14.2526, "lon": -5.993}
    assert count(api.engine, "select count(*) from evidence") == 2

    # An iPhone's HEIC photo: recognised by its bytes, thumbnail and EXIF too.
    out = io.BytesIO()
    exif = Image.Exif()
    exif.get_ifd(0x8769)[36867] = "2026:11:20 09:15:00"
    Image.new("RGB", (800, 600), (10, 200, 30)).save(out, "HEIF", exif=exif, quality=50)
    heic_id, heic = stream_upload(api, out.getvalue(), filename="IMG_0002.HEIC",
                                  content_type="image/heic")
    assert heic.status_code == 201, heic.text
    assert heic.json()["content_type"] == "image/heic"
    assert heic.json()["captured_at"] == "2026-11-20T09:15:00+00:00"
    assert f"thumbnails/{heic_id}.jpg" in objects(api, "thumbnails/")


def jpeg_truncated():
    data = photo()
    return data[:len(data) * 2 // 3]


FAILURES = [
    ("oversize", b"%PDF-1.4\n" + b"x" * MAX_BYTES + b"\n%%EOF\n", "too_large"),
    ("php_named_jpg", PHP, "type_not_allowed"),
    ("empty", b"", "empty"),
    ("truncated_jpeg", jpeg_truncated(), "truncated"),
]


def assert_refused(api, evidence_id, code):
    record = requests.get(f"{api.base}/evidence/{evidence_id}", headers=api.dtc,
                          timeout=10).json()
    assert record["status"] == "refused" and record["refusal"]["code"] == code, record
    assert record["refusal"]["reason_fr"] and record["sha256"] is None
    assert objects(api) == []  # removed from storage, every key
    assert requests.get(f"{api.base}/evidence/{evidence_id}/download", headers=api.coach,
                        timeout=10).status_code == 404


def test_direct_uploads_that_fail_verification_are_refused_and_removed(api):
    for case, data, code in FAILURES:
        # moto accepts what a real MinIO would refuse on the POST policy (size), and a
        # client may not say its size: the service's own check at confirm refuses it.
        evidence_id, _, confirmed = direct_upload(api, data, "image/jpeg", "photo.jpg",
                                                  declare_size=False)
        assert confirmed.status_code == 422, (case, confirmed.text)
        assert confirmed.json()["errors"][0]["field"] == "file"
        # said in English and French as evidence wrote it, not translated again
        refusal = confirmed.json()["errors"][0]
        assert refusal["reason"] == f"{refusal['reason_en']}; {refusal['reason_fr']}"
        assert refusal["reason_fr"] != refusal["reason_en"]
        assert_refused(api, evidence_id, code)
    assert count(api.engine, "select count(*) from evidence_log where what = 'refused'") == 4
    assert count(api.engine, "select count(*) from outbox") == 0  # nothing announced


def test_streamed_uploads_that_fail_verification_are_refused_and_removed(api):
    for case, body, code in FAILURES[1:]:  # oversize streams: see the next test
        evidence_id, response = stream_upload(api, body, filename="photo.jpg",
                                              content_type="image/jpeg")
        assert response.status_code == 422, (case, response.text)
        assert_refused(api, evidence_id, code)

    # A refused upload may be retried under the same id with a good file.
    _, retried = stream_upload(api, photo(), evidence_id=evidence_id, filename="photo.jpg")
    assert retried.status_code == 201 and retried.json()["refusal"] is None
    assert count(api.engine, "select count(*) from evidence") == 3
    api.s3.remove_object(api.bucket, f"evidence/{api.actions[0]}/{evidence_id}")
    api.s3.remove_object(api.bucket, f"thumbnails/{evidence_id}.jpg")
    check_an_oversize_stream_is_cut_off_and_nothing_stays_in_storage(api)


def check_an_oversize_stream_is_cut_off_and_nothing_stays_in_storage(api):
    accepted = count(api.engine, "select count(*) from evidence where status = 'accepted'")
    big = b"%PDF-1.4\n" + b"x" * (3 * MAX_BYTES)
    # Declared up front: refused before the gateway reads the body (413, in both
    # languages, naming the limit).
    _, declared = stream_upload(api, big)
    assert declared.status_code == 413, declared.text
    limit = format_size(MAX_BYTES)
    assert declared.json()["errors"] == [{
        "field": "file", "reason": f"larger than the {limit} limit; dépasse la limite de {limit}",
        "reason_en": f"larger than the {limit} limit",
        "reason_fr": f"dépasse la limite de {limit}"}]

    # Chunked, so nobody knows the size before it is read: cut off past the limit.
    def chunks():
        for i in range(0, len(big), 65536):
            yield big[i:i + 65536]
    _, chunked = stream_upload(api, chunks())
    assert chunked.status_code == 413, chunked.text
    assert "limit" in chunked.json()["errors"][0]["reason"]
    assert objects(api) == []
    assert count(api.engine,
                 "select count(*) from evidence where status = 'accepted'") == accepted


def sigv4_check(url, access_key, secret_key, region="us-east-1"):
    """Recompute a presigned GET's SigV4 signature independently of the minio SDK:
    proves that the expiry it carries is signed (cannot be extended by a client)."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    signature = query.pop("X-Amz-Signature")
    canonical_query = "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}"
                               for k, v in sorted(query.items()))
    canonical = "\n".join(["GET", quote(parts.path, safe="/-_.~"), canonical_query,
                           f"host:{parts.netloc}\n", "host", "UNSIGNED-PAYLOAD"])
    stamp = query["X-Amz-Date"]
    scope = f"{stamp[:8]}/{region}/s3/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", stamp, scope,
                         hashlib.sha256(canonical.encode()).hexdigest()])
    key = ("AWS4" + secret_key).encode()
    for part in (stamp[:8], region, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    assert query["X-Amz-Credential"].startswith(access_key + "/")
    return signature == expected, query


def test_download_links_are_short_lived_and_only_for_users_in_scope(api, settings):
    data = photo()
    evidence_id, _, confirmed = direct_upload(api, data)
    assert confirmed.status_code == 201

    link = requests.get(f"{api.base}/evidence/{evidence_id}/download", headers=api.coach,
                        timeout=10)
    assert link.status_code == 200
    body = link.json()
    assert body["expires_in"] == 300
    fetched = requests.get(body["url"], timeout=10)
    assert fetched.status_code == 200 and fetched.content == data
    assert "attachment" in fetched.headers.get("Content-Disposition", "")

    valid, query = sigv4_check(body["url"], settings.s3_access_key, settings.s3_secret_key,
                               settings.s3_region)
    assert valid and query["X-Amz-Expires"] == "300"
    signed_at = datetime.strptime(query["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(
        tzinfo=timezone.utc)
    assert abs((signed_at - datetime.now(timezone.utc)).total_seconds()) < 60
    # A client stretching the expiry breaks the signature.
    stretched = body["url"].replace("X-Amz-Expires=300", "X-Amz-Expires=604800")
    assert not sigv4_check(stretched, settings.s3_access_key, settings.s3_secret_key,
                           settings.s3_region)[0]

    thumb = requests.get(f"{api.base}/evidence/{evidence_id}/download",
                         params={"variant": "thumbnail"}, headers=api.coach, timeout=10)
    assert requests.get(thumb.json()["url"], timeout=10).headers["Content-Type"] == "image/jpeg"
    listing = requests.get(f"{api.base}/actions/{api.actions[0]}/evidence", headers=api.coach,
                           timeout=10).json()
    assert [item["id"] for item in listing["items"]] == [evidence_id]
    assert listing["items"][0]["thumbnail_url"]

    # Out of scope: a coach of Kayes learns nothing, not even that it exists.
    for path in (f"/evidence/{evidence_id}", f"/evidence/{evidence_id}/download",
                 f"/actions/{api.actions[0]}/evidence"):
        refused = requests.get(f"{api.base}{path}", headers=api.kayes, timeout=10)
        assert refused.status_code == 404, path
        assert "url" not in refused.text
    _, streamed = stream_upload(api, PDF, auth=api.kayes)
    assert streamed.status_code == 404  # refused before a byte is piped
    # Nothing in the bucket is public.
    key = f"evidence/{api.actions[0]}/{evidence_id}"
    assert requests.get(f"http://{settings.s3_endpoint}/{api.bucket}/{key}",
                        timeout=10).status_code == 403
    assert requests.get(f"{api.base}/evidence/{evidence_id}/download",
                        timeout=10).status_code == 401


def test_an_expired_download_link_is_refused_by_the_server(infra):
    from minio import Minio

    from evidence.dependencies import Store
    endpoint, access_key, secret_key = infra["s3"]
    client = Minio(endpoint, access_key=access_key, secret_key=secret_key, secure=False,
                   region="us-east-1")
    bucket = f"c2p-probe-{uuid.uuid4().hex[:8]}"
    client.make_bucket(bucket)
    client.put_object(bucket, "probe", io.BytesIO(b"x"), 1)
    url = Store(client, bucket, False, endpoint).download_url("probe", timedelta(seconds=1))
    assert requests.get(url, timeout=10).status_code == 200
    time.sleep(2.5)
    if requests.get(url, timeout=10).status_code == 200:
        pytest.skip("this S3 stand-in (moto) does not enforce presigned URL expiry; "
                    "MinIO and S3 do (that the expiry is signed is tested above)")
    assert requests.get(url, timeout=10).status_code == 403


def test_coach_reviews_with_a_comment_and_the_planner_is_told(api, settings):
    reviewed = tap(settings.amqp_uri, "evidence.reviewed")
    evidence_id, _, confirmed = direct_upload(api, photo())
    assert confirmed.status_code == 201

    def review(auth, decision, comment=""):
        return requests.post(f"{api.base}/evidence/{evidence_id}/review", headers=auth,
                             json={"decision": decision, "comment": comment}, timeout=10)
    assert review(api.dtc, "approved").status_code == 403  # a coachee does not review
    assert review(api.kayes, "approved").status_code == 404  # out of scope
    missing = review(api.coach, "needs_more")
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "comment"
    assert review(api.coach, "maybe").status_code == 422

    done = review(api.coach, "needs_more", "Photo floue : reprenez la fiche de température")
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "needs_more"
    assert done.json()["review"]["comment"].startswith("Photo floue")
    assert review(api.coach, "needs_more",
                  "Photo floue : reprenez la fiche de température").status_code == 200  # retry
    assert review(api.coach, "approved").status_code == 409  # reviewed already

    events = eventually(reviewed)
    assert [e["data"]["decision"] for e in events] == ["needs_more"]
    assert events[0]["data"]["action_id"] == str(api.actions[0])
    assert events[0]["data"]["reviewed_by"] == "u-coach-niono"
    # Reviewed evidence can no longer be withdrawn.
    assert requests.delete(f"{api.base}/evidence/{evidence_id}", headers=api.dtc,
                           timeout=10).status_code == 409
    api.s3.remove_object(api.bucket, f"evidence/{api.actions[0]}/{evidence_id}")
    api.s3.remove_object(api.bucket, f"thumbnails/{evidence_id}.jpg")
    check_withdrawal_before_review_and_purge_after_retention(api, settings)


def check_withdrawal_before_review_and_purge_after_retention(api, settings):
    withdrawn = tap(settings.amqp_uri, "evidence.withdrawn")
    evidence_id, _, confirmed = direct_upload(api, photo())
    assert confirmed.status_code == 201
    # Links handed out before the withdrawal (presigned, valid five minutes)...
    links = [requests.get(f"{api.base}/evidence/{evidence_id}/download", headers=api.coach,
                          params={"variant": variant}, timeout=10).json()["url"]
             for variant in ("original", "thumbnail")]
    assert all(requests.get(url, timeout=10).status_code == 200 for url in links)
    assert requests.delete(f"{api.base}/evidence/{evidence_id}", headers=api.coach,
                           timeout=10).status_code == 403  # not the uploader
    gone = requests.delete(f"{api.base}/evidence/{evidence_id}", headers=api.dtc, timeout=10)
    assert gone.status_code == 200 and gone.json()["status"] == "withdrawn"
    # ...stop working at once, thumbnail too (issue 12, finding 8).
    # (S3 answers 403 rather than 404 for a missing key to those who may not list.)
    assert all(requests.get(url, timeout=10).status_code in (403, 404) for url in links)
    assert requests.delete(f"{api.base}/evidence/{evidence_id}", headers=api.dtc,
                           timeout=10).status_code == 200  # a retry changes nothing
    assert requests.post(f"{api.base}/evidence/{evidence_id}/review", headers=api.coach,
                         json={"decision": "approved"}, timeout=10).status_code == 409
    assert stream_upload(api, PDF, evidence_id=evidence_id)[1].status_code == 409
    assert eventually(withdrawn)[0]["data"]["evidence_id"] == evidence_id
    assert requests.get(f"{api.base}/evidence/{evidence_id}/download", headers=api.coach,
                        timeout=10).status_code == 404

    # Within the retention period the timer leaves the bytes alone...
    with entrypoint_hook(api.container, "purge_withdrawn") as purge:
        assert purge() == 0
    assert objects(api, "evidence/") == [] and len(objects(api, "thumbnails/")) == 0
    assert len(objects(api, "withdrawn/")) == 2  # the file and its thumbnail, kept aside
    # ...after it, they go, and that is recorded.
    with api.engine.begin() as conn:
        conn.execute(text("update evidence set purge_after = now() - interval '1 minute' "
                          "where status = 'withdrawn'"))
    with entrypoint_hook(api.container, "purge_withdrawn") as purge:
        assert purge() == 1
    assert objects(api) == []
    record = requests.get(f"{api.base}/evidence/{evidence_id}", headers=api.dtc,
                          timeout=10).json()
    assert record["purged_at"]
    assert record["withdrawn_at"] and record["status"] == "withdrawn"
    assert count(api.engine, "select count(*) from evidence_log where what = 'purged' "
                             "and actor = 'system'") == 1

    # Bytes sent with a slot but never confirmed are swept once the slot expires.
    abandoned = str(uuid.uuid4())
    slot = requests.post(f"{api.base}/evidence/uploads", headers=api.dtc, timeout=10, json={
        "id": abandoned, "action_id": str(api.actions[0]), "content_type": "image/jpeg"})
    upload = slot.json()["upload"]
    requests.post(upload["url"], data=upload["fields"], files={"file": ("p.jpg", photo())},
                  timeout=10).raise_for_status()
    with entrypoint_hook(api.container, "sweep_uploads") as sweep:
        assert sweep() == 0  # the slot is still valid: the client may confirm
    assert objects(api) == [f"uploads/{abandoned}"]
    with api.engine.begin() as conn:
        conn.execute(text("update evidence set slot_expires_at = now() - interval '1 minute' "
                          "where id = :id"), {"id": abandoned})
    with entrypoint_hook(api.container, "sweep_uploads") as sweep:
        assert sweep() == 1
    assert objects(api) == []
    assert requests.get(f"{api.base}/evidence/{abandoned}", headers=api.dtc,
                        timeout=10).json()["status"] == "pending_upload"  # may start again


def test_a_done_or_dropped_action_takes_no_more_evidence(api, settings):
    now = datetime.now(timezone.utc)
    done = status_changed(api.plan, api.actions[1], "done", now)
    publish_raw(settings.amqp_uri, done.to_wire(), done.type, str(done.id))
    eventually(lambda: count(api.engine, "select status from evidence_targets "
                                         "where action_id = :a", a=api.actions[1]) == "done")
    # A late, older change does not reopen it.
    older = status_changed(api.plan, api.actions[1], "in_progress", now - timedelta(hours=1))
    publish_raw(settings.amqp_uri, older.to_wire(), older.type, str(older.id))
    eventually(lambda: count(api.engine, "select count(*) from processed_events") == 3)
    assert count(api.engine, "select status from evidence_targets where action_id = :a",
                 a=api.actions[1]) == "done"
    refused = requests.post(f"{api.base}/evidence/uploads", headers=api.dtc, timeout=10, json={
        "id": str(uuid.uuid4()), "action_id": str(api.actions[1]),
        "content_type": "image/jpeg"})
    assert refused.status_code == 409

    # A slot issued before the action was dropped cannot be confirmed after it.
    evidence_id = str(uuid.uuid4())
    slot = requests.post(f"{api.base}/evidence/uploads", headers=api.dtc, timeout=10, json={
        "id": evidence_id, "action_id": str(api.actions[2]), "content_type": "image/jpeg"})
    upload = slot.json()["upload"]
    requests.post(upload["url"], data=upload["fields"], files={"file": ("p.jpg", photo())},
                  timeout=10).raise_for_status()
    dropped = status_changed(api.plan, api.actions[2], "dropped", now)
    publish_raw(settings.amqp_uri, dropped.to_wire(), dropped.type, str(dropped.id))
    eventually(lambda: count(api.engine, "select status from evidence_targets "
                                         "where action_id = :a", a=api.actions[2]) == "dropped")
    late = requests.post(f"{api.base}/evidence/{evidence_id}/confirm", headers=api.dtc,
                         timeout=10)
    assert late.status_code == 409
    assert objects(api) == []
