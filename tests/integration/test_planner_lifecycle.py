"""The planner as a nameko container on the real bus and database: plans from
visits, the life cycle over RPC, the evidence loop, carry-over, progress, and
due-date alerts sent once even with two replicas sweeping at the same time.

"Today" is a FixedClock the tests move; the planner's timer runs every 0.2 s."""
import uuid
from datetime import date, datetime, timedelta, timezone

import eventlet
import pytest
from sqlalchemy import text

from c2p.contracts import Event
from c2p.errors import Conflict, Forbidden, InvalidInput, NotFound
from c2p.clock import Clock, FixedClock
from planner.service import PlannerService
from support import eventually, publish_raw, rpc_client, tap

FACILITY = ("ML-SEG-NIO-CEN", "CSCom central de Niono", "/ML/ML-SEG/ML-SEG-NIO/ML-SEG-NIO-CEN")
COACH = {"id": "u-coach-niono", "role": "coach", "scope": ["/ML/ML-SEG/ML-SEG-NIO"]}
DTC = {"id": "u-dtc-niono", "role": "coachee", "scope": [FACILITY[2]]}
MANAGER = {"id": "u-manager", "role": "manager", "scope": ["/ML"]}
KAYES = {"id": "u-coach-kayes", "role": "coach", "scope": ["/ML/ML-KAY/ML-KAY-KAY"]}
VISIT_DAY = date(2026, 3, 2)

# item, critical, points lost, responsible role, delay in days (as in pev-mini)
ITEMS = {
    "cc_temp_twice_daily": (False, 2, "vaccinator", 7),
    "cc_in_range": (True, 3, "dtc", 3),
    "stock_no_expired": (True, 3, "vaccinator", 1),
    "stock_cards_up_to_date": (False, 2, "vaccinator", 14),
    "dq_monitoring_chart": (False, 2, "dtc", 30),
}


def gap(code):
    critical, lost, role, delay = ITEMS[code]
    return {"item_code": code, "section_code": code.split("_")[0], "label_fr": code,
            "label_en": code, "answer": "no", "critical": critical, "points_lost": lost,
            "action": {"text_fr": f"Corriger {code}", "text_en": f"Fix {code}",
                       "responsible_role": role, "verification_fr": "vérifier",
                       "verification_en": "check", "delay_days": delay}}


def visit(codes, day=VISIT_DAY, facility=FACILITY):
    at = datetime(day.year, day.month, day.day, 9, 30, tzinfo=timezone.utc)
    return Event(type="checklist.submitted", source="test", data={
        "submission_id": uuid.uuid4(), "facility_id": facility[0], "facility_name": facility[1],
        "facility_path": facility[2], "coach_id": COACH["id"],
        "coachees": [{"id": "u-dtc-niono", "role": "dtc", "name": "Fatoumata Diarra"},
                     {"id": "u-vacc-1", "role": "vaccinator", "name": "Oumar Sidibé"}],
        "template_code": "pev-mini", "template_version": 1, "visited_at": at,
        "received_at": at,
        "score": {"percent": 0.0, "points": 0, "max_points": 12, "colour": "red",
                  "flagged": True, "sections": []},
        "gaps": [gap(code) for code in codes]})


def reviewed(plan, action_id, decision, comment="", on=VISIT_DAY):
    at = datetime(on.year, on.month, on.day, 15, tzinfo=timezone.utc)
    return Event(type="evidence.reviewed", source="test", data={
        "evidence_id": uuid.uuid4(), "action_id": uuid.UUID(action_id),
        "plan_id": uuid.UUID(plan["id"]), "facility_id": plan["facility_id"],
        "facility_path": plan["facility_path"], "coach_id": COACH["id"],
        "uploaded_by": "u-dtc-niono", "decision": decision, "comment": comment,
        "reviewed_by": COACH["id"], "reviewed_at": at})


def send(settings, event):
    publish_raw(settings.amqp_uri, event.to_wire(), event.type, str(event.id))


def count(engine, sql):
    with engine.connect() as conn:
        return conn.execute(text(sql)).scalar()


@pytest.fixture
def clock():
    return FixedClock(VISIT_DAY + timedelta(days=1))


@pytest.fixture
def planner(start_service, clock):
    from dataclasses import replace
    from nameko import config
    config["C2P_SETTINGS"] = replace(config["C2P_SETTINGS"], due_alert_interval_s=0.2)

    class Planner(PlannerService):
        pass
    Planner.clock = Clock(clock)

    def start(replicas=1):
        return [start_service(Planner) for _ in range(replicas)]
    return start


def plan_of(client, event, caller=COACH):
    return eventually(lambda: _try(lambda: client.get_plan_for_submission(
        str(event.data["submission_id"]), caller)))


def _try(call):
    try:
        return call()
    except NotFound:
        return None


def status(client, plan, action, to, caller=COACH, **extra):
    return client.change_action_status(plan["id"], action["id"], {"status": to, **extra}, caller)


def test_five_gaps_make_a_plan_that_is_agreed_worked_and_completed(planner, settings):
    planner()
    completed = tap(settings.amqp_uri, "plan.completed")
    changes = tap(settings.amqp_uri, "action.status_changed")
    first = visit(list(ITEMS))
    send(settings, first)
    with rpc_client("planner") as client:
        plan = plan_of(client, first)
        actions = plan["actions"]
        assert [a["item_code"] for a in actions] == [
            "cc_in_range", "stock_no_expired", "cc_temp_twice_daily",
            "stock_cards_up_to_date", "dq_monitoring_chart"]
        assert [a["owner_id"] for a in actions] == [
            "u-dtc-niono", "u-vacc-1", "u-vacc-1", "u-vacc-1", "u-dtc-niono"]
        assert actions[1]["due_date"] == "2026-03-03" and plan["status"] == "draft"

        # Not agreed yet: nobody starts; a manager cannot agree; the coach alone is not enough.
        with pytest.raises(Conflict):
            status(client, plan, actions[0], "in_progress", DTC)
        with pytest.raises(Forbidden):
            client.agree_plan(plan["id"], MANAGER)
        assert client.agree_plan(plan["id"], COACH)["status"] == "draft"
        assert client.agree_plan(plan["id"], COACH)["status"] == "draft"  # a retried sync
        agreed = client.agree_plan(plan["id"], DTC)
        assert agreed["status"] == "agreed"
        assert agreed["agreement"]["coach"]["by"] == COACH["id"]
        assert agreed["agreement"]["coachee"]["by"] == DTC["id"]

        # The coachee works through the first action; the coach approves its evidence.
        assert status(client, plan, actions[0], "in_progress", DTC)["status"] == "in_progress"
        status(client, plan, actions[0], "awaiting_review", DTC)
        with pytest.raises(Forbidden):
            status(client, plan, actions[0], "done", DTC)
        send(settings, reviewed(plan, actions[0]["id"], "approved"))
        # Evidence asked for more: back to in progress with the coach's comment.
        status(client, plan, actions[1], "in_progress", DTC)
        status(client, plan, actions[1], "awaiting_review", DTC)
        send(settings, reviewed(plan, actions[1]["id"], "needs_more", "Photo floue"))
        back = eventually(lambda: (p := client.get_plan(plan["id"], COACH))["actions"][1][
            "comment"] == "Photo floue" and p)
        assert back["actions"][1]["status"] == "in_progress"
        assert back["actions"][0]["status"] == "done" and not back["actions"][0]["late"]
        # Approved after its due date (3 March): done, and shown as late.
        send(settings, reviewed(plan, actions[1]["id"], "approved", on=date(2026, 3, 9)))
        with pytest.raises(InvalidInput) as no_reason:
            status(client, plan, actions[2], "dropped")
        assert "reason" in no_reason.value.errors
        status(client, plan, actions[2], "dropped", reason="Déjà corrigé par le district")
        for action in actions[3:]:
            send(settings, reviewed(plan, action["id"], "approved"))
        done = eventually(lambda: (p := client.get_plan(plan["id"], COACH))["status"]
                          == "completed" and p)
        assert [a["status"] for a in done["actions"]] == [
            "done", "done", "dropped", "done", "done"]
        assert [a["late"] for a in done["actions"]] == [False, True, False, False, False]
        with pytest.raises(Conflict):
            status(client, plan, actions[0], "in_progress")
        history = client.plan_history(plan["id"], MANAGER)["items"]
        assert {"plan.created", "plan.confirmed", "plan.agreed", "action.status_changed",
                "evidence.reviewed", "plan.status_changed"} <= {h["change"] for h in history}
        assert all(h["actor_id"] and h["at"] for h in history)

    got = eventually(lambda: completed())
    eventlet.sleep(0.5)
    got += completed()
    assert len(got) == 1
    assert (got[0]["data"]["actions_done"], got[0]["data"]["actions_dropped"]) == (4, 1)
    late = [c for c in changes() if c["data"]["status"] == "done" and c["data"]["late"]]
    assert [c["data"]["action_id"] for c in late] == [actions[1]["id"]]


def test_coach_edits_adds_actions_keeps_grow_notes_and_scope_holds(planner, settings):
    planner()
    event = visit(["cc_in_range", "stock_no_expired"])
    send(settings, event)
    with rpc_client("planner") as client:
        plan = plan_of(client, event)
        action = plan["actions"][0]
        changed = client.update_action(plan["id"], action["id"], {
            "text_fr": "Relever la température à 8 h et 16 h, week-end compris",
            "due_date": "2026-03-20", "owner_id": "u-vacc-1"}, COACH)["actions"][0]
        assert (changed["text_fr"][:7], changed["due_date"], changed["owner_id"]) == (
            "Relever", "2026-03-20", "u-vacc-1")
        with pytest.raises(InvalidInput) as early:
            client.update_action(plan["id"], action["id"], {"due_date": "2026-01-01"}, COACH)
        assert "due_date" in early.value.errors
        with pytest.raises(InvalidInput):
            client.update_action(plan["id"], action["id"], {"colour": "red"}, COACH)
        with pytest.raises(Forbidden):
            client.update_action(plan["id"], action["id"], {"text_fr": "x"}, DTC)

        new_id = str(uuid.uuid4())
        own = {"id": new_id, "text_fr": "Afficher le plan de coupure de courant",
               "due_date": "2026-03-15", "owner_id": "u-dtc-niono"}
        added = client.add_action(plan["id"], own, COACH)
        again = client.add_action(plan["id"], own, COACH)  # a retried sync
        assert (added["replayed"], again["replayed"]) == (False, True)
        assert len(again["plan"]["actions"]) == 3
        assert again["plan"]["actions"][2]["source"] == "coach"
        assert again["plan"]["actions"][2]["text_en"] == own["text_fr"]
        with pytest.raises(Forbidden):
            client.add_action(plan["id"], {**own, "id": str(uuid.uuid4())}, DTC)

        grow = client.update_grow_notes(plan["id"], {"goal": "Chaîne du froid sûre",
                                                     "will": "DTC vérifie chaque lundi"},
                                        COACH)["grow"]
        assert grow == {"goal": "Chaîne du froid sûre", "reality": "", "options": "",
                        "will": "DTC vérifie chaque lundi"}
        with pytest.raises(Forbidden):
            client.update_grow_notes(plan["id"], {"goal": "x"}, MANAGER)

        for call in (lambda: client.get_plan(plan["id"], KAYES),
                     lambda: client.agree_plan(plan["id"], KAYES),
                     lambda: client.plan_history(plan["id"], KAYES)):
            with pytest.raises(NotFound):
                call()
        assert client.list_plans(KAYES)["total"] == 0
        listed = client.list_plans(COACH, {"status": "draft", "facility_id": FACILITY[0]})
        assert [p["id"] for p in listed["items"]] == [plan["id"]]
        assert listed["items"][0]["actions"]["total"] == 3
        history = client.plan_history(plan["id"], COACH)["items"]
        updates = [h for h in history if h["change"] == "action.updated"]
        assert updates[0]["details"]["due_date"] == {"from": "2026-03-05", "to": "2026-03-20"}
        assert updates[0]["actor_id"] == COACH["id"]
        assert {"action.added", "grow.updated"} <= {h["change"] for h in history}


def test_a_gap_still_open_is_carried_over_and_progress_stays_right(planner, settings, clock):
    planner()
    first = visit(["cc_in_range", "stock_no_expired", "dq_monitoring_chart"])
    send(settings, first)
    with rpc_client("planner") as client:
        plan1 = plan_of(client, first)
        client.agree_plan(plan1["id"], COACH)
        client.agree_plan(plan1["id"], DTC)
        closed, still_open, dropped = plan1["actions"]
        send(settings, reviewed(plan1, closed["id"], "approved", on=date(2026, 3, 4)))
        status(client, plan1, still_open, "in_progress", DTC)
        status(client, plan1, dropped, "dropped", reason="Plus pertinent")
        eventually(lambda: client.get_plan(plan1["id"], COACH)["actions"][0]["status"] == "done")

        clock.advance(10)  # 13 March: the open action (due 3 March) is overdue
        second = visit(["stock_no_expired", "cc_temp_twice_daily"], day=date(2026, 3, 12))
        created = tap(settings.amqp_uri, "plan.created")
        send(settings, second)
        plan2 = plan_of(client, second)
        carried, new = plan2["actions"]
        assert carried["id"] == still_open["id"]
        assert (carried["recurring"], carried["carried_over"], carried["status"]) == (
            True, True, "in_progress")
        assert carried["origin_plan_id"] == plan1["id"] and not new["recurring"]
        announced = eventually(lambda: created())[0]["data"]["actions"]
        assert [(a["action_id"], a["recurring"]) for a in announced] == [
            (still_open["id"], True), (new["id"], False)]
        # The first plan still shows it, once.
        assert [a["id"] for a in client.get_plan(plan1["id"], COACH)["actions"]] == [
            closed["id"], still_open["id"], dropped["id"]]

        by_facility = client.progress(COACH, "facility")
        assert by_facility == [{
            "key": FACILITY[0], "label": FACILITY[1], "facility_path": FACILITY[2],
            "done": 1, "open": 2, "overdue": 1, "dropped": 1, "total": 4,
            "percent_done": 33.3, "median_days_to_close": 2.2}]  # visit 2 March 9:30 to 4th 15:00
        by_plan = {row["key"]: row for row in client.progress(COACH, "plan")}
        assert (by_plan[plan1["id"]]["total"], by_plan[plan2["id"]]["total"]) == (3, 2)
        assert by_plan[plan2["id"]]["overdue"] == 1
        by_coachee = {row["key"]: row for row in client.progress(COACH, by="coachee")}
        assert by_coachee["u-vacc-1"]["label"] == "Oumar Sidibé"
        assert by_coachee["u-vacc-1"]["total"] == 2 and by_coachee["u-dtc-niono"]["total"] == 2
        district = client.progress(COACH, by="district")
        assert [(d["key"], d["total"]) for d in district] == [("/ML/ML-SEG/ML-SEG-NIO", 4)]
        assert client.progress(KAYES, by="facility") == []
        in_window = client.progress(COACH, by="facility", since="2030-01-01", until=None)
        assert in_window == []
        with pytest.raises(InvalidInput) as bad:
            client.progress(COACH, by="region")
        assert "by" in bad.value.errors

        # Completing the carried action closes the first plan, and counts once.
        status(client, plan2, carried, "awaiting_review", DTC)
        send(settings, reviewed(plan2, carried["id"], "approved", on=date(2026, 3, 13)))
        eventually(lambda: client.get_plan(plan1["id"], COACH)["status"] == "completed")
        assert client.progress(COACH, "facility")[0]["done"] == 2


def test_two_replicas_make_one_plan_and_send_each_alert_once(planner, settings, clock, engines):
    due_soon = tap(settings.amqp_uri, "action.due_soon")
    overdue = tap(settings.amqp_uri, "action.overdue")
    planner(replicas=2)
    event = visit(list(ITEMS))
    for _ in range(4):  # redeliveries, consumed by both replicas at once
        send(settings, event)
    same_visit = Event(type=event.type, source="test", data=event.data)  # a new event id
    send(settings, same_visit)
    with rpc_client("planner") as client:
        plan = plan_of(client, event)
        assert count(engines["planner"], "select count(*) from plans") == 1
        assert count(engines["planner"], "select count(*) from actions") == 5
        # Nobody may start the actions of a plan not yet agreed: none is alerted on.
        eventlet.sleep(1.0)  # several sweeps by both replicas
        assert due_soon() == [] and overdue() == []
        client.agree_plan(plan["id"], COACH)
        assert client.agree_plan(plan["id"], DTC)["status"] == "agreed"

    # 3 March: stock_no_expired (due 3 March) and cc_in_range (due 5 March) are due soon.
    got_soon = collect(due_soon, 2)
    eventlet.sleep(1.0)  # several more sweeps by both replicas
    got_soon += due_soon()
    assert codes(got_soon) == ["cc_in_range", "stock_no_expired"]
    assert overdue() == []

    clock.advance(5)  # 8 March: two overdue, cc_temp (due 9 March) due soon
    got_late = collect(overdue, 2)
    got_soon = collect(due_soon, 1)
    eventlet.sleep(1.0)
    got_late += overdue()
    got_soon += due_soon()
    assert codes(got_late) == ["cc_in_range", "stock_no_expired"]
    assert {e["data"]["days_late"] for e in got_late} == {3, 5}
    assert codes(got_soon) == ["cc_temp_twice_daily"]
    assert count(engines["planner"],
                 "select count(*) from outbox where type like 'action.%'") == 5


def codes(events):
    return sorted(e["data"]["item_code"] for e in events)


def collect(read, at_least):
    """Read a tap until at least `at_least` events arrived; return all of them."""
    got = []

    def enough():
        got.extend(read())
        return len(got) >= at_least
    eventually(enough)
    return got



def follow_up(passed, gaps, day):
    """A version-2 visit: items found passing verify their open actions."""
    event = visit(gaps, day=day)
    return Event(type=event.type, source="test", version=2,
                 data={**event.data, "passed_items": passed, "dtc_id": None})


def test_a_follow_up_visit_verifies_open_actions_in_every_plan_and_completes_one(
        planner, settings, clock, engines):
    planner()
    events = tap(settings.amqp_uri, "#")
    first = visit(["cc_in_range", "stock_no_expired", "dq_monitoring_chart"])
    send(settings, first)
    with rpc_client("planner") as client:
        plan1 = plan_of(client, first)
        client.agree_plan(plan1["id"], COACH)
        client.agree_plan(plan1["id"], DTC)
        fridge, stock, chart = plan1["actions"]
        send(settings, reviewed(plan1, fridge["id"], "approved", on=date(2026, 3, 3)))
        status(client, plan1, stock, "in_progress", DTC)
        eventually(lambda: client.get_plan(plan1["id"], COACH)["actions"][0]["status"] == "done")
        # Still failing a week later: carried into the second plan (not agreed).
        second = visit(["stock_no_expired", "dq_monitoring_chart"], day=date(2026, 3, 9))
        send(settings, second)
        plan2 = plan_of(client, second)
        assert [a["id"] for a in plan2["actions"]] == [stock["id"], chart["id"]]
        events()  # what came so far
        # The third visit finds both passing: each closes, verified, in both plans.
        third = follow_up(["stock_no_expired", "dq_monitoring_chart", "cc_in_range"], [],
                          day=date(2026, 3, 12))
        send(settings, third)
        plan_of(client, third)
        done = client.get_plan(plan1["id"], COACH)
        assert done["status"] == "completed" and done["completed_at"]
        assert [(a["status"], a["late"], a["verified_by_submission_id"])
                for a in done["actions"]] == [
            ("done", False, None),  # approved before: not verified again
            ("done", True, str(third.data["submission_id"])),  # due 3 March
            ("done", False, str(third.data["submission_id"]))]  # due 1 April
        again = client.get_plan(plan2["id"], COACH)
        assert again["status"] == "draft"  # not agreed: stays a draft
        assert [a["status"] for a in again["actions"]] == ["done", "done"]
        history = client.plan_history(plan1["id"], MANAGER)["items"]
        verified = [h for h in history if h["change"] == "action.verified"]
        assert sorted(h["action_id"] for h in verified) == sorted([stock["id"], chart["id"]])
        assert {h["details"]["from"] for h in verified} == {"in_progress", "todo"}
        assert [(h["details"]["from"], h["details"]["to"]) for h in history
                if h["change"] == "plan.status_changed"][-1] == ("in_progress", "completed")

    # What the third visit caused (the second's plan.created may come late; the due-date
    # sweep's alerts come on its own timer, whenever a busy machine lets it run).
    later = lambda e: e["source"] == "planner" and (  # noqa: E731
        e["type"] not in ("plan.created", "action.due_soon", "action.overdue")
        or (e["type"] == "plan.created"
            and e["data"]["submission_id"] == str(third.data["submission_id"])))
    got = eventually(lambda: (e := [x for x in events() if later(x)]) and len(e) >= 7 and e)
    eventlet.sleep(0.5)
    got += [x for x in events() if later(x)]
    kinds = sorted(e["type"] for e in got)
    assert kinds == ["action.status_changed", "action.status_changed", "action.verified",
                     "action.verified", "actions.status_changed", "plan.completed",
                     "plan.created"]
    # The whole visit in one message too: each change exactly as its own event.
    batch = next(e["data"] for e in got if e["type"] == "actions.status_changed")
    assert batch["submission_id"] == str(third.data["submission_id"])
    assert sorted(batch["changes"], key=lambda c: c["action_id"]) == sorted(
        (e["data"] for e in got if e["type"] == "action.status_changed"),
        key=lambda c: c["action_id"])
    completed = next(e["data"] for e in got if e["type"] == "plan.completed")
    assert (completed["plan_id"], completed["actions_done"]) == (plan1["id"], 3)
    changed = {e["data"]["action_id"]: e["data"] for e in got
               if e["type"] == "action.status_changed"}
    assert changed[stock["id"]]["from_status"] == "in_progress"
    assert changed[stock["id"]]["plan_id"] == plan2["id"]  # the latest plan it is in
    assert changed[chart["id"]]["comment"] == "verified on a follow-up visit"


def test_days_to_close_run_from_the_visit_even_when_it_is_handled_weeks_later(
        planner, settings, clock):
    """Visits handled long after they took place (a phone synced late, the demo's
    visits of past months all sent today): an action closed by a follow-up visit
    took the days between the two visits, not 0 (it was stored today, yet closed
    at the follow-up's date)."""
    clock.advance(30)  # 2 April: both visits, of 2 and 12 March, arrive today
    planner()
    first = visit(["cc_in_range", "stock_no_expired"])
    send(settings, first)
    with rpc_client("planner") as client:
        plan1 = plan_of(client, first)
        again = follow_up(["cc_in_range", "stock_no_expired"], [], day=date(2026, 3, 12))
        send(settings, again)
        plan_of(client, again)
        eventually(lambda: [a["status"] for a in client.get_plan(plan1["id"], COACH)["actions"]]
                   == ["done", "done"])
        [row] = client.progress(COACH, "facility")
        assert (row["done"], row["median_days_to_close"]) == (2, 10.0)  # 2 to 12 March
        by_plan = {r["key"]: r for r in client.progress(COACH, "plan")}
        assert by_plan[plan1["id"]]["median_days_to_close"] == 10.0


def test_a_plan_nobody_at_the_cscom_can_confirm_is_agreed_by_its_coach(planner, settings):
    # Nobody met on the visit has an account, and the CSCom has no DTC account to
    # answer for them: the coach's confirmation agrees the plan (it used to stay
    # "to agree" for ever, its actions impossible to start).
    planner()
    agreed = tap(settings.amqp_uri, "plan.agreed")
    lonely = visit(["cc_in_range", "dq_monitoring_chart"])
    lonely.data["coachees"] = [{"id": "staff-1", "role": "dtc", "name": "Awa Traoré",
                                "account": False}]
    send(settings, lonely)
    with rpc_client("planner") as client:
        plan = plan_of(client, lonely)
        assert [a["owner_id"] for a in plan["actions"]] == [None, None]
        done = client.agree_plan(plan["id"], COACH)
        assert done["status"] == "agreed"
        assert done["agreement"]["coach"]["by"] == COACH["id"]
        assert done["agreement"]["coachee"] is None
        assert status(client, plan, plan["actions"][0], "in_progress")["status"] == \
            "in_progress"
    [event] = eventually(agreed)
    assert event["data"]["agreed_by"] == [COACH["id"]]
