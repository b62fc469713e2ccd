"""Evidence end to end, every service its own process, HTTP only: a coachee proves an
action done (one photo sent straight to the object store, one scan streamed through
the gateway), the coach reviews it from afar, and approval completes the action in
the planner, after which the action takes no more evidence."""
import io
import uuid

import pytest
import requests
from PIL import Image

import upload_corpus
from support import eventually, sample_submission

API = "/api/v1"
PDF = upload_corpus.pdf()  # a real one-page PDF (it is parsed)


def sign_in(base, username):
    response = requests.post(f"{base}{API}/auth/token", timeout=10,
                             json={"username": username, "password": "demo-c2p-2025"})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def photo():
    image = Image.new("RGB", (1024, 768), (20, 90, 160))
    exif = Image.Exif()
    exif.get_ifd(0x8769)[36867] = "2026:11:21 08:05:00"
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


@pytest.mark.slow
def test_approved_evidence_completes_the_action(platform):
    base = f"{platform}{API}"
    coach, dtc = sign_in(platform, "coach.niono"), sign_in(platform, "dtc.niono")
    visit = sample_submission(failing=("cc_temp_twice_daily",))
    assert requests.post(f"{base}/submissions", json=visit, headers=coach,
                         timeout=10).status_code == 201
    plan = eventually(lambda: (r := requests.get(
        f"{base}/submissions/{visit['id']}/plan", headers=coach, timeout=10)).ok and r.json())
    action_id = plan["actions"][0]["id"]

    # 1. A photo, straight to the object store with the presigned form, then confirmed.
    data, photo_id = photo(), str(uuid.uuid4())
    slot = eventually(lambda: (r := requests.post(
        f"{base}/evidence/uploads", headers=dtc, timeout=10, json={
            "id": photo_id, "action_id": action_id, "filename": "frigo.jpg",
            "content_type": "image/jpeg", "size_bytes": len(data)})).status_code == 201 and r)
    upload = slot.json()["upload"]
    requests.post(upload["url"], data=upload["fields"], timeout=30, files={
        upload["file_field"]: ("frigo.jpg", data, "image/jpeg")}).raise_for_status()
    confirmed = requests.post(f"{base}/evidence/{photo_id}/confirm", headers=dtc, timeout=30)
    assert confirmed.status_code == 201, confirmed.text
    assert confirmed.json()["captured_at"] == "2026-11-21T08:05:00+00:00"

    # 2. A scan streamed through the gateway.
    scan_id = str(uuid.uuid4())
    streamed = requests.put(f"{base}/evidence/{scan_id}/content", data=PDF, timeout=30,
                            params={"action_id": action_id, "filename": "fiche.pdf"},
                            headers={**dtc, "Content-Type": "application/pdf"})
    assert streamed.status_code == 201, streamed.text

    # The coach reviews from afar: thumbnails first, the full file on demand.
    listing = requests.get(f"{base}/actions/{action_id}/evidence", headers=coach,
                           timeout=10).json()
    assert {item["id"] for item in listing["items"]} == {photo_id, scan_id}
    thumb = next(i for i in listing["items"] if i["id"] == photo_id)["thumbnail_url"]
    assert requests.get(thumb, timeout=10).headers["Content-Type"] == "image/jpeg"
    link = requests.get(f"{base}/evidence/{photo_id}/download", headers=coach, timeout=10)
    assert requests.get(link.json()["url"], timeout=10).content == data

    # The review queue: both waiting, oldest upload first; nothing seen from Kayes.
    queue = requests.get(f"{base}/evidence", headers=coach, timeout=10).json()
    assert [item["id"] for item in queue["items"]] == [photo_id, scan_id]
    assert queue["total"] == 2 and queue["items"][0]["thumbnail_url"]
    kayes = sign_in(platform, "coach.kayes")
    assert requests.get(f"{base}/evidence", headers=kayes, timeout=10).json() == {
        "items": [], "page": 1, "per_page": 20, "total": 0}
    wrong = requests.get(f"{base}/evidence", headers=coach, timeout=10,
                         params={"status": "waiting"})
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "status"

    approved = requests.post(f"{base}/evidence/{photo_id}/review", headers=coach, timeout=10,
                             json={"decision": "approved", "comment": "Bien, merci"})
    assert approved.status_code == 200, approved.text
    assert [item["id"] for item in requests.get(f"{base}/evidence", headers=coach,
                                                timeout=10).json()["items"]] == [scan_id]
    # The coachee sees the decision and the coach's comment in their own area's list.
    mine = requests.get(f"{base}/evidence", headers=dtc, timeout=10,
                        params={"status": "approved"}).json()["items"]
    assert [(i["id"], i["review"]["comment"]) for i in mine] == [(photo_id, "Bien, merci")]

    # The planner completes the action...
    def action_status():
        current = requests.get(f"{base}/plans/{plan['id']}", headers=coach, timeout=10).json()
        return next(a["status"] for a in current["actions"] if a["id"] == action_id)
    eventually(lambda: action_status() == "done", timeout=30)
    # ...and the evidence service, told by action.status_changed, takes no more for it.
    eventually(lambda: requests.post(f"{base}/evidence/uploads", headers=dtc, timeout=10, json={
        "id": str(uuid.uuid4()), "action_id": action_id,
        "content_type": "image/jpeg"}).status_code == 409, timeout=30)
    # The phone's sync reads the evidence of every action in one paged list
    # (status=any) instead of one request per action: it must hold exactly what the
    # per-action lists hold, for the coach and the coachee, and nothing out of scope.
    # Read once the action is closed and its other evidence settled (both happen after
    # the approval, asynchronously: compared earlier, the two reads could straddle it).
    eventually(lambda: {i["status"] for i in requests.get(
        f"{base}/actions/{action_id}/evidence", headers=coach, timeout=10).json()["items"]}
        == {"approved", "settled"}, timeout=30)
    per_action = requests.get(f"{base}/actions/{action_id}/evidence", headers=coach,
                              timeout=10).json()["items"]
    for who in (coach, dtc):
        everything = requests.get(f"{base}/evidence", headers=who, timeout=10,
                                  params={"status": "any", "per_page": 100}).json()
        ours = [i for i in everything["items"] if i["action_id"] == action_id]
        assert sorted((i["id"], i["status"]) for i in ours) == sorted(
            (i["id"], i["status"]) for i in per_action)
    assert requests.get(f"{base}/evidence", headers=kayes, timeout=10,
                        params={"status": "any", "per_page": 100}).json()["total"] == 0
