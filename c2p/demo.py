"""Demo activity for a local platform: visits, scores, gaps and plans, over HTTP.

    python -m c2p.demo [BASE_URL]     # run by `./c2pctl up` once the gateway answers

`c2p.seed` loads accounts, places and templates only, so every screen starts
empty. This signs in as the demo coaches (password `demo-c2p-2025`) and submits
visits on the shipped `pev-integrated` template to CSComs of their districts,
spread over the last four months, with answers chosen so that the scores fall in
green, amber and red and a few visits have critical failures; then dtc.niono
agrees the plans waiting for the coachee, and each coach agrees its plans but the
latest of each CSCom (left to agree together, as after a real visit); last,
dtc.niono sends a photo for two of its actions, for the coach to review. It goes through the public API (not
the databases) so every service sees the visits as it would a phone's.

Re-running never duplicates: each visit's client id is a uuid5 of its slot, and
a retried id answers 200. It agrees and sends photos for the demo's own visits'
plans only, never for a visit someone made while trying the platform. The visit dates are relative to today, so a run on a
later day sends the same id with another date, which the API refuses with 409:
that visit is already there and is counted as such. A failure is logged and the
run goes on; the exit status is always 0 so that `up` is never stopped by it.
"""
from __future__ import annotations

import io
import json
import os
import random
import sys
import time as time_module
import uuid
from datetime import datetime, time, timedelta, timezone
from pathlib import Path

import requests

API = "/api/v1"
PASSWORD = "demo-c2p-2025"
TEMPLATE = "pev-integrated"
TEMPLATE_FILE = (Path(__file__).resolve().parent.parent / "services" / "checklist"
                 / "checklist" / "templates" / f"{TEMPLATE}.json")
NAMESPACE = uuid.UUID("6f2d6c1e-0b1a-4c52-9a57-3c2f6d0de111")  # fixed: ids stay the same
DAYS_BACK = 120

# username -> [(facility id, lat, lon)] from services/checklist/checklist/org_units.csv
FACILITIES = {
    "coach.niono": [("ML-SEG-NIO-CEN", 14.253, -5.993), ("ML-SEG-NIO-MOL", 14.250, -6.040),
                    ("ML-SEG-NIO-SIR", 14.050, -6.070), ("ML-SEG-NIO-POG", 14.380, -5.860)],
    "coach.kayes": [("ML-KAY-KAY-LAF", 14.452, -11.460), ("ML-KAY-KAY-NDI", 14.435, -11.425),
                    ("ML-KAY-KAY-KHA", 14.440, -11.452)],
}
# Staff met: only dtc.niono has an account (a coachee of ML-SEG-NIO-CEN); the
# others are staff without one, which the people check accepts on any facility
# (gateway/people.py).
DTC_NIONO = {"id": "u-dtc-niono", "role": "dtc", "name": "Fatoumata Diarra"}
STAFF = [("dtc", "Mamadou Sidibé"), ("vaccinator", "Kadiatou Touré"),
         ("vaccinator", "Oumar Dembélé"), ("dtc", "Aïssata Konaté")]
# Each visit's quality: the share of items answered well. Spread so the scores
# land in all three colours; the "critical" visits fail a critical item.
QUALITIES = [0.95, 0.9, 0.7, 0.55, 0.3, 0.85, 0.6, 0.2, 0.97, 0.45]
VISITS_PER_FACILITY = 3


def load_template() -> dict:
    return json.loads(TEMPLATE_FILE.read_text(encoding="utf-8"))


def _good(item, rng):
    if item["type"] == "yes_no":
        return "yes"
    if item["type"] == "choice":
        return max(item["choices"], key=lambda c: c["ratio"])["value"]
    low, high = item["pass_range"]
    return rng.randint(int(low), int(high)) if isinstance(low, int) else low


def _bad(item, rng):
    if item["type"] == "yes_no":
        return rng.choice(["no", "no", "partial"]) if item.get("allow_partial") else "no"
    if item["type"] == "choice":
        return rng.choice([c for c in item["choices"] if c["ratio"] < 1])["value"]
    low, high = item["valid_range"]
    pass_low, pass_high = item["pass_range"]
    # Below the pass range when there is room, else above it.
    return int(low) if low < pass_low else int(high) if high > pass_high else low


def answers_for(template: dict, quality: float, critical: bool, seed: str) -> list[dict]:
    """Answers to every item: each good with probability `quality` (seeded, so the
    same slot always gives the same answers); critical items pass unless
    `critical`, which fails one of them."""
    rng = random.Random(seed)
    criticals = [i["code"] for s in template["sections"] for i in s["items"] if i.get("critical")]
    failing = rng.choice(criticals) if critical else None
    answers = []
    for section in template["sections"]:
        for item in section["items"]:
            if item.get("critical"):
                good = item["code"] != failing
            else:
                good = rng.random() < quality
            value = _good(item, rng) if good else _bad(item, rng)
            answers.append({"item": item["code"], "value": value})
    return answers


def visits(template: dict, today: datetime | None = None) -> list[tuple[str, dict]]:
    """(coach username, submission) for every demo visit; the same slots and
    answers every run (the dates move with `today`)."""
    today = today or datetime.now(timezone.utc)
    out, slot = [], 0
    for username, facilities in FACILITIES.items():
        for f_index, (facility_id, lat, lon) in enumerate(facilities):
            for v_index in range(VISITS_PER_FACILITY):
                key = f"{facility_id}/{v_index}"
                quality = QUALITIES[slot % len(QUALITIES)]
                critical = slot % 5 == 3  # a few visits with a critical failure
                # Oldest first, about five weeks apart, a mid-morning visit.
                days_ago = DAYS_BACK - v_index * 40 - f_index * 4 - 1
                day = (today - timedelta(days=days_ago)).date()
                visited_at = datetime.combine(day, time(9 + slot % 4, 15), timezone.utc)
                role, name = STAFF[slot % len(STAFF)]
                people = [DTC_NIONO] if facility_id == "ML-SEG-NIO-CEN" else []
                people = people + [{"id": f"staff-{facility_id.lower()}-{role}",
                                    "role": role, "name": name}]
                out.append((username, {
                    "id": str(uuid.uuid5(NAMESPACE, key)), "facility_id": facility_id,
                    "template_code": TEMPLATE, "visited_at": visited_at.isoformat(),
                    "coachees": people,
                    "answers": answers_for(template, quality, critical, key),
                    "gps": {"lat": lat + 0.0004, "lon": lon - 0.0003, "accuracy_m": 12.0},
                    "comment": "Visite de démonstration (données de démo)",
                }))
                slot += 1
    return out


def _log(message):
    print(f"c2p demo: {message}", flush=True)


def _sign_in(base, username, timeout):
    reply = requests.post(f"{base}{API}/auth/token", timeout=timeout,
                          json={"username": username, "password": PASSWORD})
    reply.raise_for_status()
    return {"Authorization": f"Bearer {reply.json()['access_token']}"}


def run(base: str, timeout: float = 30) -> dict:
    """Submit the demo visits and agree the plans; returns counts
    {"created", "present", "failed", "agreed"}. Never raises."""
    counts = {"created": 0, "present": 0, "failed": 0, "agreed": 0}
    tokens = {}
    demo_visits = visits(load_template())
    # Only what the demo made is touched again: not a visit, plan or action someone
    # made while trying the platform (their plans wait for them as they left them).
    own = {visit["id"] for _, visit in demo_visits}
    for username, visit in demo_visits:
        try:
            if username not in tokens:
                tokens[username] = _sign_in(base, username, timeout)
                _log(f"signed in as {username}")
            reply = requests.post(f"{base}{API}/submissions", json=visit,
                                  headers=tokens[username], timeout=timeout)
        except (requests.RequestException, ValueError, KeyError) as exc:
            counts["failed"] += 1
            _log(f"visit {visit['facility_id']} {visit['visited_at'][:10]}: failed ({exc})")
            continue
        where = f"visit {visit['facility_id']} {visit['visited_at'][:10]} by {username}"
        if reply.status_code == 201:
            counts["created"] += 1
            score = reply.json()["score"]
            _log(f"{where}: {score['percent']}% {score['colour']}"
                 + (" (critical failure)" if score["flagged"] else ""))
        elif reply.status_code in (200, 409):  # a retry, or sent on an earlier day
            counts["present"] += 1
            _log(f"{where}: already there")
        else:
            counts["failed"] += 1
            _log(f"{where}: failed ({reply.status_code} {reply.text[:300]})")
    try:
        who = _sign_in(base, "dtc.niono", timeout)
        plans = requests.get(f"{base}{API}/plans", headers=who, timeout=timeout,
                             params={"per_page": 100, "status": "draft"})
        plans.raise_for_status()
        for plan in plans.json()["items"]:
            if plan["submission_id"] not in own:
                continue
            # A draft the coachee already confirmed waits for the coach: leave it.
            detail = requests.get(f"{base}{API}/plans/{plan['id']}", headers=who,
                                  timeout=timeout)
            if detail.ok and (detail.json().get("agreement") or {}).get("coachee"):
                continue
            agreed = requests.post(f"{base}{API}/plans/{plan['id']}/agree", headers=who,
                                   timeout=timeout)
            if agreed.ok:
                counts["agreed"] += 1
                _log(f"plan {plan['id']} agreed by dtc.niono")
            elif agreed.status_code != 409:
                _log(f"plan {plan['id']}: agreeing failed ({agreed.status_code})")
    except (requests.RequestException, ValueError, KeyError) as exc:
        _log(f"agreeing plans as dtc.niono failed ({exc})")
    made = {}
    for username, _ in demo_visits:
        made[username] = made.get(username, 0) + 1
    for username, token in tokens.items():
        counts["agreed"] += _agree_earlier_plans(base, username, token, timeout,
                                                 made[username], own)
    counts["evidence"] = _send_evidence(base, timeout, own)
    _log("{created} visits created, {present} already there, {failed} failed, "
         "{agreed} plans agreed, {evidence} photos sent for review".format(**counts))
    return counts


EVIDENCE_PER_RUN = 2


def _photo(seed: str) -> bytes:
    """A small JPEG, as a phone would send of a fridge's temperature chart."""
    from PIL import Image, ImageDraw
    image = Image.new("RGB", (320, 240), (236, 240, 244))
    draw = ImageDraw.Draw(image)
    draw.rectangle((40, 30, 280, 210), outline=(40, 60, 90), width=4)
    draw.text((60, 100), f"Relevé temp. {seed[:8]}", fill=(20, 20, 20))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


def _send_evidence(base: str, timeout: float, own: set[str]) -> int:
    """As dtc.niono: send a photo for each of its first open actions of the demo's
    visits (`own`; started first where its plan is agreed), so that the coaches'
    review queue has something in it. The evidence id is a uuid5 of the action: a
    second run sends the same id, which answers the same record (nothing is added)."""
    sent = 0
    try:
        who = _sign_in(base, "dtc.niono", timeout)
        mine = requests.get(f"{base}{API}/me/actions", headers=who, timeout=timeout,
                            params={"status": "open", "per_page": 100})
        mine.raise_for_status()
        for action in mine.json()["items"]:
            if sent >= EVIDENCE_PER_RUN:
                break
            if action["relation"] != "owner" or action["submission_id"] not in own:
                continue
            # Started where the plan allows it (agreed); a photo is taken either way
            # (the open actions of a CSCom are carried into its latest plan, which the
            # demo leaves to agree).
            if action["status"] == "todo" and action["plan_status"] != "draft":
                started = requests.post(
                    f"{base}{API}/plans/{action['plan_id']}/actions/{action['id']}/status",
                    headers=who, timeout=timeout, json={"status": "in_progress"})
                if not started.ok:
                    continue
            evidence_id = uuid.uuid5(uuid.NAMESPACE_URL, f"c2p-demo-evidence/{action['id']}")
            reply = requests.put(
                f"{base}{API}/evidence/{evidence_id}/content", timeout=timeout,
                params={"action_id": action["id"], "filename": "releve-temperature.jpg"},
                data=_photo(str(evidence_id)), headers={**who, "Content-Type": "image/jpeg"})
            if reply.status_code in (200, 201):
                sent += 1
                _log(f"photo sent by dtc.niono for action {action['id']} "
                     f"({action['facility_name']})")
            else:
                _log(f"photo for action {action['id']}: failed ({reply.status_code} "
                     f"{reply.text[:200]})")
    except (requests.RequestException, ValueError, KeyError) as exc:
        _log(f"sending photos as dtc.niono failed ({exc})")
    return sent


def _agree_earlier_plans(base: str, username: str, token: dict, timeout: float,
                         visits_made: int, own: set[str]) -> int:
    """As a coach: agree the draft plans of its CSComs but the latest of each, so that
    the demo has plans under way (and their actions due) and one per CSCom to agree.
    The planner makes plans as the visits' events arrive: wait (a little) for all."""
    agreed = 0
    try:
        deadline = time_module.monotonic() + 20
        while time_module.monotonic() < deadline and requests.get(
                f"{base}{API}/plans", headers=token, timeout=timeout,
                params={"per_page": 1}).json()["total"] < visits_made:
            time_module.sleep(0.5)
        plans = requests.get(f"{base}{API}/plans", headers=token, timeout=timeout,
                             params={"per_page": 100, "status": "draft"})
        plans.raise_for_status()
        drafts = [plan for plan in plans.json()["items"] if plan["submission_id"] in own]
        latest = {}
        for plan in drafts:
            key = plan["facility_id"]
            if key not in latest or (plan["visited_at"] or "") > (latest[key]["visited_at"] or ""):
                latest[key] = plan
        for plan in drafts:
            if latest[plan["facility_id"]] is plan:
                continue
            reply = requests.post(f"{base}{API}/plans/{plan['id']}/agree", headers=token,
                                  timeout=timeout)
            if reply.ok:
                agreed += 1
            elif reply.status_code != 409:
                _log(f"plan {plan['id']}: agreeing as {username} failed ({reply.status_code})")
    except (requests.RequestException, ValueError, KeyError) as exc:
        _log(f"agreeing plans as {username} failed ({exc})")
    return agreed


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    port = os.environ.get("C2P_GATEWAY_PORT") or os.environ.get("GATEWAY_PORT") or "8000"
    base = (argv[0] if argv else f"http://127.0.0.1:{port}").rstrip("/")
    try:
        run(base)
    except Exception as exc:  # noqa: BLE001 - demo data must never stop `up`
        _log(f"stopped early ({exc!r})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
