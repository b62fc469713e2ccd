"""A coach's and a coachee's working day, over HTTP, every service its own process.

- the coach: visit planning (never-visited first) -> a visit -> the review queue
  -> the facility's page -> the exports of the area (CSV of visits and of gaps, the
  visit's PDF report);
- the coachee: my actions -> upload evidence -> read the review (and the review
  queue, comments on an action, alerts each way);
- a follow-up visit that finds an item passing closes its open action, verified;
- the people named on a visit are checked against the accounts;
- scope holds on every new route (also covered route by route by the access matrix).
"""
import csv
import io
import uuid
from datetime import datetime, timedelta, timezone

import pytest
import requests
from pypdf import PdfReader

from support import MINI_ITEMS, eventually

API = "/api/v1"
PASSWORD = "demo-c2p-2025"
NIONO_FACILITIES = 13


class User:
    def __init__(self, base, username, password=PASSWORD):
        response = requests.post(f"{base}{API}/auth/token", timeout=10,
                                 json={"username": username, "password": password})
        assert response.status_code == 200, response.text
        self.base = base
        self.headers = {"Authorization": f"Bearer {response.json()['access_token']}"}

    def get(self, path, **kwargs):
        return requests.get(f"{self.base}{API}{path}", headers=self.headers, timeout=20,
                            **kwargs)

    def post(self, path, **kwargs):
        return requests.post(f"{self.base}{API}{path}", headers=self.headers, timeout=20,
                             **kwargs)

    def ok(self, method, path, status=200, **kwargs):
        response = getattr(self, method)(path, **kwargs)
        assert response.status_code == status, (path, response.status_code, response.text)
        return response


def visit(failing, days_ago=1, facility_id="ML-SEG-NIO-CEN", coachees=None):
    return {
        "id": str(uuid.uuid4()), "facility_id": facility_id, "template_code": "pev-mini",
        "visited_at": (datetime.now(timezone.utc) - timedelta(days=days_ago)).isoformat(),
        "coachees": coachees if coachees is not None else [
            {"id": "u-dtc-niono", "role": "dtc", "name": "Fatoumata Diarra"},
            {"id": "vacc-sans-compte", "role": "vaccinator", "name": "Oumar Sidibé"}],
        "answers": [{"item": code, "value": "no" if code in failing else "yes"}
                    for code in MINI_ITEMS],
        "comment": "Équipe motivée ; la chaîne du froid reste à consolider.",
    }


def read_csv(response):
    assert response.headers["Content-Type"].startswith("text/csv")
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")  # spreadsheets read the accents right
    return list(csv.DictReader(io.StringIO(text[1:])))


@pytest.mark.slow
def test_a_coachs_day(platform):
    coach, kayes = User(platform, "coach.niono"), User(platform, "coach.kayes")

    # --- visit planning: nothing visited yet, every facility of Niono is due ------
    planning = coach.ok("get", "/visit-planning", params={"per_page": 100}).json()
    assert planning["total"] == NIONO_FACILITIES
    assert {f["status"] for f in planning["items"]} == {"never_visited"}
    assert all(f["facility_path"].startswith("/ML/ML-SEG/ML-SEG-NIO/")
               for f in planning["items"])
    assert all(f["latitude"] and f["longitude"] for f in planning["items"])  # seeded

    # --- a visit; the people named are checked -----------------------------------
    stranger = visit(("cc_temp_twice_daily",), coachees=[
        {"id": "u-coach-kayes", "role": "dtc", "name": "Moussa Keïta"}])
    refused = coach.post("/submissions", json=stranger)
    assert refused.status_code == 422, refused.text
    assert [e["field"] for e in refused.json()["errors"]] == ["coachees.0.id"]
    done = visit(("cc_temp_twice_daily", "stock_no_expired"))
    created = coach.ok("post", "/submissions", 201, json=done).json()
    assert [c["account"] for c in created["coachees"]] == [True, False]

    # The facility visited yesterday is no longer due; the others still are,
    # never-visited first; with all=true it comes last, not due.
    planning = coach.ok("get", "/visit-planning", params={"per_page": 100}).json()
    assert planning["total"] == NIONO_FACILITIES - 1
    assert "ML-SEG-NIO-CEN" not in {f["facility_id"] for f in planning["items"]}
    everything = coach.ok("get", "/visit-planning", params={"all": "true",
                                                            "per_page": 100}).json()
    last = everything["items"][-1]
    assert last["facility_id"] == "ML-SEG-NIO-CEN" and last["status"] == "not_due"
    assert last["interval_days"] == 90 and last["interval_source"] == "setting"
    assert last["last_visit"]["submission_id"] == done["id"]
    assert kayes.ok("get", "/visit-planning").json()["total"] > 0
    assert "NIO" not in kayes.get("/visit-planning", params={"all": "true",
                                                             "per_page": 100}).text
    assert coach.get("/visit-planning", params={"surprise": "1"}).status_code in (400, 422)

    # --- the review queue: the DTC sent a photo for one of the visit's actions ------
    plan = plan_of(coach, done["id"])
    photo_id = upload(User(platform, "dtc.niono"), plan["actions"][0]["id"])
    queue = coach.ok("get", "/evidence", params={"status": "pending_review",
                                                 "district_id": "ML-SEG-NIO"}).json()
    assert [e["id"] for e in queue["items"]] == [photo_id] and queue["items"][0]["thumbnail_url"]
    assert kayes.ok("get", "/evidence").json()["total"] == 0

    # --- the facility's page --------------------------------------------------------
    page = eventually(lambda: (p := coach.ok("get", "/facilities/ML-SEG-NIO-CEN").json())
                      ["open_plans"] and p)
    assert [e["id"] for e in page["recent_evidence"]] == [photo_id]
    assert page["facility"]["name"] == "CSCom central de Niono"
    assert page["facility"]["district"] == {"id": "ML-SEG-NIO", "name": "Niono"}
    assert page["facility"]["latitude"] is not None
    assert page["visits"] == 1
    [latest] = page["latest_scores"]
    assert latest["submission_id"] == done["id"] and latest["template_code"] == "pev-mini"
    [trend] = page["trend"]
    assert trend["overall"][0]["percent"] == latest["percent"]
    assert [s["code"] for s in trend["sections"]] == ["cold_chain", "stock", "data_quality"]
    assert page["next_visit"]["status"] == "not_due"
    [plan] = page["open_plans"]
    assert {a["item_code"] for a in plan["actions"]} == {"cc_temp_twice_daily",
                                                         "stock_no_expired"}
    # The seeded DTC; other tests of the same session may add coachees to this CSCom.
    assert {"id": "u-dtc-niono", "display_name": "Fatoumata Diarra"} in page["coachees"]
    assert kayes.get("/facilities/ML-SEG-NIO-CEN").status_code == 404
    assert coach.get("/facilities/NOPE").status_code == 404

    # --- exports of the area ----------------------------------------------------------
    visits = read_csv(coach.ok("get", "/exports/visits.csv"))
    assert [row["submission_id"] for row in visits] == [done["id"]]
    assert visits[0]["facility_name"] == "CSCom central de Niono"
    assert visits[0]["district"] == "Niono" and visits[0]["region"] == "Ségou"
    section_columns = [c for c in visits[0] if c.startswith("section_")]
    assert section_columns and all(visits[0][c] != "" for c in section_columns)
    gaps = read_csv(coach.ok("get", "/exports/gaps.csv"))
    assert sorted(g["item_code"] for g in gaps) == ["cc_temp_twice_daily", "stock_no_expired"]
    assert all(g["submission_id"] == done["id"] for g in gaps)
    assert read_csv(kayes.ok("get", "/exports/visits.csv")) == []
    assert read_csv(kayes.ok("get", "/exports/gaps.csv")) == []
    old = coach.ok("get", "/exports/visits.csv", params={"until": "2020-01-31"})
    assert read_csv(old) == []
    assert coach.get("/exports/visits.csv", params={"since": "nope"}).status_code == 422

    # --- the visit's report, in French and in English ---------------------------------
    for lang, words in (("fr", ("Rapport de visite", "Chaîne du froid", "Écarts constatés",
                                "Fatoumata Diarra", "Équipe motivée")),
                        ("en", ("Supervision visit report", "Gaps found", "Awa Traoré"))):
        response = coach.ok("get", f"/submissions/{done['id']}/report.pdf",
                            params={"lang": lang})
        assert response.headers["Content-Type"] == "application/pdf"
        text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
        for word in words:
            assert word in text, (lang, word, text[:500])
    assert kayes.get(f"/submissions/{done['id']}/report.pdf").status_code == 404
    assert coach.get(f"/submissions/{done['id']}/report.pdf",
                     params={"lang": "de"}).status_code == 422
    # A coachee may read (and share) the report of their facility's visit.
    coachee = User(platform, "dtc.niono")
    coachee.ok("get", f"/submissions/{done['id']}/report.pdf")
    assert coachee.get("/exports/visits.csv").status_code == 403


def photo(gps=False):
    from PIL import Image
    image = Image.new("RGB", (800, 600), (20, 120, 90))
    exif = Image.Exif()
    if gps:  # 14°15'36" N, 5°59'34.8" W: about 780 m north of the CSCom's seeded point
        ifd = exif.get_ifd(0x8825)
        ifd[1], ifd[2], ifd[3], ifd[4] = "N", (14.0, 15.0, 36.0), "W", (5.0, 59.0, 34.8)
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def upload(user, action_id, name="frigo.jpg", gps=False):
    evidence_id = str(uuid.uuid4())
    data = photo(gps)
    response = eventually(lambda: (r := requests.put(
        f"{user.base}{API}/evidence/{evidence_id}/content", data=data, timeout=30,
        params={"action_id": action_id, "filename": name},
        headers={**user.headers, "Content-Type": "image/jpeg"})).status_code == 201 and r,
        timeout=20)
    assert response.json()["status"] == "accepted"
    return evidence_id


def plan_of(user, submission_id):
    return eventually(lambda: (r := user.get(f"/submissions/{submission_id}/plan")).ok
                      and r.json())


def inbox_kinds(user):
    return [m["kind"] for m in user.ok("get", "/inbox", params={"per_page": 100}).json()["items"]]


@pytest.mark.slow
def test_a_coachees_day_and_the_review_queue(platform):
    coach, dtc = User(platform, "coach.niono"), User(platform, "dtc.niono")
    kayes = User(platform, "coach.kayes")
    done = visit(("cc_temp_twice_daily", "stock_no_expired"))
    coach.ok("post", "/submissions", 201, json=done)
    plan = plan_of(coach, done["id"])
    # The vaccinator named has no account: their action falls to the DTC.
    assert {a["owner_id"] for a in plan["actions"]} == {"u-dtc-niono"}
    coach.ok("post", f"/plans/{plan['id']}/agree")
    dtc.ok("post", f"/plans/{plan['id']}/agree")

    # --- my actions: overdue first, then by due date -----------------------------------
    mine = dtc.ok("get", "/me/actions").json()
    assert mine["total"] == 2
    dues = [a["due_date"] for a in mine["items"]]
    assert [a["overdue"] for a in mine["items"]] == sorted(
        [a["overdue"] for a in mine["items"]], reverse=True)
    assert dues == sorted(dues) or mine["items"][0]["overdue"]
    assert all(a["relation"] == "owner" and a["facility_name"] == "CSCom central de Niono"
               for a in mine["items"])
    stock = next(a for a in mine["items"] if a["item_code"] == "stock_no_expired")
    assert stock["plan_id"] == plan["id"] and stock["comments"] == 0
    assert dtc.ok("get", "/me/actions", params={"status": "done"}).json()["total"] == 0
    coach_list = coach.ok("get", "/me/actions").json()
    assert coach_list["total"] == 2 and {a["relation"] for a in coach_list["items"]} == {"coach"}
    assert kayes.ok("get", "/me/actions").json()["total"] == 0
    assert dtc.get("/me/actions", params={"status": "soon"}).status_code == 422

    # --- the coachee starts and proves the action -----------------------------------
    dtc.ok("post", f"/plans/{plan['id']}/actions/{stock['id']}/status",
           json={"status": "in_progress"})
    evidence_id = upload(dtc, stock["id"], gps=True)
    dtc.ok("post", f"/plans/{plan['id']}/actions/{stock['id']}/status",
           json={"status": "awaiting_review", "comment": "Vaccins périmés retirés."})

    # --- the coach's review queue -------------------------------------------------------
    queue = coach.ok("get", "/evidence", params={"status": "pending_review"}).json()
    assert [e["id"] for e in queue["items"]] == [evidence_id] and queue["total"] == 1
    queued = queue["items"][0]
    assert queued["thumbnail_url"] and queued["facility"]["name"] == "CSCom central de Niono"
    # The seeded coordinates of the CSCom make the photo's distance from it known.
    assert queued["facility"]["location"] == {"lat": 14.253, "lon": -5.993}
    assert 700 < queued["distance_from_facility_m"] < 850
    assert coach.ok("get", "/evidence", params={"district_id": "ML-SEG-NIO"}).json()[
        "total"] == 1
    assert coach.ok("get", "/evidence", params={"facility_id": "ML-SEG-NIO-MOL"}).json()[
        "total"] == 0
    assert kayes.ok("get", "/evidence").json()["total"] == 0
    assert kayes.ok("get", "/evidence", params={"district_id": "ML-SEG-NIO"}).json()[
        "total"] == 0
    page = coach.ok("get", "/facilities/ML-SEG-NIO-CEN").json()
    assert [e["id"] for e in page["recent_evidence"]] == [evidence_id]

    # --- a conversation on the action: each side is alerted --------------------------
    comments = f"/plans/{plan['id']}/actions/{stock['id']}/comments"
    first = {"id": str(uuid.uuid4()), "text": "Merci ! Où sont rangés les vaccins retirés ?"}
    posted = coach.ok("post", comments, 201, json=first).json()
    assert posted["author_id"] == "u-coach-niono" and posted["text"] == first["text"]
    assert coach.ok("post", comments, 200, json=first).json() == posted  # a retried sync
    eventually(lambda: "action.comment" in inbox_kinds(dtc))
    dtc.ok("post", comments, 201, json={"id": str(uuid.uuid4()),
                                        "text": "Dans la boîte de retour, étiquetée."})
    eventually(lambda: "action.comment" in inbox_kinds(coach))
    thread = dtc.ok("get", comments).json()
    assert [c["author_id"] for c in thread["items"]] == ["u-coach-niono", "u-dtc-niono"]
    assert kayes.get(comments).status_code == 404
    assert next(a for a in dtc.ok("get", "/me/actions").json()["items"]
                if a["id"] == stock["id"])["comments"] == 2

    # --- the coach reviews; the coachee reads the review --------------------------------
    coach.ok("post", f"/evidence/{evidence_id}/review",
             json={"decision": "approved", "comment": "Parfait, bravo."})
    read = dtc.ok("get", f"/evidence/{evidence_id}").json()
    assert read["review"]["decision"] == "approved"
    assert read["review"]["comment"] == "Parfait, bravo."
    eventually(lambda: "evidence.approved" in inbox_kinds(dtc))
    closed = eventually(lambda: dtc.ok("get", "/me/actions", params={"status": "done"})
                        .json()["items"])
    assert [a["id"] for a in closed] == [stock["id"]]
    assert coach.ok("get", "/evidence").json()["total"] == 0  # the queue is empty again


@pytest.mark.slow
def test_a_second_visit_passing_an_item_verifies_its_open_action(platform):
    coach, dtc = User(platform, "coach.niono"), User(platform, "dtc.niono")
    first = visit(("cc_temp_twice_daily", "stock_no_expired"), days_ago=10)
    coach.ok("post", "/submissions", 201, json=first)
    plan = plan_of(coach, first["id"])
    coach.ok("post", f"/plans/{plan['id']}/agree")
    dtc.ok("post", f"/plans/{plan['id']}/agree")
    stock = next(a for a in plan["actions"] if a["item_code"] == "stock_no_expired")
    fridge = next(a for a in plan["actions"] if a["item_code"] == "cc_temp_twice_daily")
    dtc.ok("post", f"/plans/{plan['id']}/actions/{stock['id']}/status",
           json={"status": "in_progress"})
    pending = upload(dtc, stock["id"])  # never reviewed
    assert coach.ok("get", "/evidence").json()["total"] == 1

    # The follow-up visit finds the stock item passing, the fridge still failing.
    second = visit(("cc_temp_twice_daily",), days_ago=0)
    coach.ok("post", "/submissions", 201, json=second)
    later = plan_of(coach, second["id"])
    verified = eventually(lambda: (a := next(
        x for x in coach.ok("get", f"/plans/{plan['id']}").json()["actions"]
        if x["id"] == stock["id"])) and a["status"] == "done" and a)
    assert verified["verified_by_submission_id"] == second["id"]
    assert verified["closed_at"]
    # Still failing: carried over to the new plan, still open, not verified.
    assert [a["id"] for a in later["actions"]] == [fridge["id"]]
    assert later["actions"][0]["status"] == "todo"

    history = coach.ok("get", f"/plans/{plan['id']}/history").json()["items"]
    entry = next(h for h in history if h["change"] == "action.verified")
    assert entry["action_id"] == stock["id"]
    assert entry["details"]["submission_id"] == second["id"]
    assert entry["actor_id"] == "u-coach-niono"
    eventually(lambda: "action.verified" in inbox_kinds(dtc))
    message = next(m for m in dtc.ok("get", "/inbox").json()["items"]
                   if m["kind"] == "action.verified")
    assert "vérifiée" in message["title_fr"] and "verified" in message["title_en"]

    # Progress counts it; its unreviewed evidence is settled and leaves the queue.
    progress = coach.ok("get", "/dashboards/progress", params={"by": "facility"}).json()
    [row] = progress["items"]
    assert row["done"] == 1 and row["open"] == 1
    settled = eventually(lambda: (e := coach.ok("get", f"/evidence/{pending}").json())
                         ["status"] == "settled" and e)
    assert settled["review"] is None
    assert coach.ok("get", "/evidence").json()["total"] == 0
    assert coach.ok("get", "/evidence", params={"status": "settled"}).json()["total"] == 1
    mine = dtc.ok("get", "/me/actions", params={"status": "all"}).json()["items"]
    assert {a["id"]: a["status"] for a in mine} == {stock["id"]: "done",
                                                    fridge["id"]: "todo"}
