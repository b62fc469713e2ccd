"""Live updates fan-out (gateway.live): who sees which event, and a slow client is
dropped with its backlog freed rather than allowed to grow."""
import json
import uuid

from gateway.live import CLOSE, LiveHub, frame, visible

NIONO_CEN = "/ML/ML-SEG/ML-SEG-NIO/ML-SEG-NIO-CEN"


def test_scope_decides_for_facility_events():
    data = {"facility_path": NIONO_CEN}
    assert visible("plan.created", data, "u1", "coach", ["/ML/ML-SEG/ML-SEG-NIO"])
    assert visible("plan.created", data, "u1", "manager", ["/ML"])
    assert not visible("plan.created", data, "u1", "coach", ["/ML/ML-KAY/ML-KAY-KAY"])
    assert not visible("plan.created", data, "u1", "coach", ["/ML/ML-SEG/ML-SEG-NI"])


def test_account_events_only_for_admins_and_notifications_only_for_their_recipient():
    account = {"account_id": "u9", "scope": ["/ML/ML-SEG"]}
    assert visible("account.created", account, "a", "admin", ["/ML"])
    assert not visible("account.created", account, "m", "manager", ["/ML"])
    delivered = {"recipient_id": "u1", "event_type": "plan.created"}
    assert visible("notification.delivered", delivered, "u1", "coach", [])
    assert not visible("notification.delivered", delivered, "u2", "admin", ["/ML"])
    assert not visible("something.else", {}, "u1", "admin", ["/ML"])


def envelope(path=NIONO_CEN, event_type="plan.created"):
    return {"id": str(uuid.uuid4()), "type": event_type, "version": 1,
            "occurred_at": "2026-11-20T09:30:00+00:00", "source": "t", "correlation_id": "c",
            "data": {"facility_path": path, "facility_name": "CSCom central de Niono"}}


def hub(size=3):
    h = LiveHub()
    h.queue_size, h.heartbeat_s = size, 15
    return h


def push(h, env):
    h.publish(env["id"], env["type"], env["data"], frame(env))


def test_frames_are_one_sse_message_each():
    env = envelope()
    text = frame(env).decode("utf-8")
    assert text.endswith("\n\n") and text.count("\n\n") == 1
    lines = text.strip().split("\n")
    assert lines[0] == f"id: {env['id']}" and lines[1] == "event: plan.created"
    assert json.loads(lines[2][len("data: "):]) == env


def test_each_stream_gets_what_it_may_see():
    h = hub()
    niono = h.open("u-coach-niono", "coach", ["/ML/ML-SEG/ML-SEG-NIO"])
    kayes = h.open("u-coach-kayes", "coach", ["/ML/ML-KAY/ML-KAY-KAY"])
    push(h, envelope())
    assert niono.queue.qsize() == 1 and kayes.queue.qsize() == 0


def test_a_slow_client_is_dropped_and_its_backlog_freed():
    h = hub(size=3)
    slow = h.open("u", "coach", ["/ML"])
    fast = h.open("v", "coach", ["/ML"])
    for _ in range(3):
        push(h, envelope())
    while fast.queue.qsize():
        fast.queue.get_nowait()
    push(h, envelope())  # the fourth does not fit in the slow stream
    assert slow.closed_because and "slow" in slow.closed_because
    assert slow not in h.streams and fast in h.streams
    assert slow.queue.qsize() == 1 and slow.queue.get_nowait() is CLOSE
    assert fast.queue.qsize() == 1 and h.dropped == 1


def test_last_event_id_replays_what_this_replica_still_holds():
    h = hub(size=10)
    sent = [envelope() for _ in range(3)] + [envelope(path="/ML/ML-KAY/ML-KAY-KAY/X")]
    for env in sent:
        push(h, env)
    stream = h.open("u", "coach", ["/ML/ML-SEG"], last_event_id=sent[0]["id"])
    replayed = [stream.queue.get_nowait() for _ in range(stream.queue.qsize())]
    assert replayed == [frame(sent[1]), frame(sent[2])]
    unknown = h.open("u", "coach", ["/ML/ML-SEG"], last_event_id="not-held")
    assert unknown.queue.qsize() == 0


class Caller:
    id, role, scope = "u-coach-niono", "coach", ("/ML/ML-SEG/ML-SEG-NIO",)


def test_stream_sends_events_and_ends_when_access_is_revoked_or_token_expires():
    import time
    from gateway.routes.live import _events
    h = hub(size=10)
    h.heartbeat_s = 0.01  # rechecks every 4 heartbeats
    allowed = {"now": True}
    stream = _events(h, Caller(), time.time() + 60, None, lambda: allowed["now"])
    assert b"connected" in next(stream)
    env = envelope()
    push(h, env)
    assert next(stream) == frame(env)
    assert next(stream) == b": keep-alive\n\n"
    allowed["now"] = False
    rest = list(stream)  # ends by itself
    assert rest[-1].startswith(b": closed: access revoked")
    assert h.streams == set()  # unsubscribed

    expiring = _events(h, Caller(), time.time() + 0.05, None)
    assert b"connected" in next(expiring)
    assert list(expiring)[-1].startswith(b": closed: token expired")
    assert h.streams == set()


def test_a_dropped_stream_says_why_and_ends():
    from gateway.routes.live import _events
    h = hub(size=1)
    stream = _events(h, Caller(), None, None)
    next(stream)
    push(h, envelope())
    push(h, envelope())  # does not fit: dropped
    assert list(stream)[-1].startswith(b": closed: client too slow")


def test_the_live_queue_is_bound_only_to_what_a_stream_of_the_role_may_see():
    from c2p.contracts import REGISTRY
    from gateway.live import stream_keys
    from support import sample_data
    coach, admin = stream_keys("coach"), stream_keys("admin")
    assert {"checklist.submitted", "plan.created", "notification.delivered"} <= coach
    assert not any(key.startswith("account.") for key in coach)
    assert {"account.created", "account.updated", "account.disabled"} <= admin
    # Whatever `visible` may pass (data of the contract itself, in scope, for its
    # recipient) is bound for that role.
    for (event_type, _), schema in REGISTRY.items():
        data = sample_data(schema())
        data = {**data, **{k: v for k, v in (("facility_path", NIONO_CEN), ("recipient_id", "u1"))
                           if k in data}}
        for role, keys in (("coach", coach), ("admin", admin)):
            if visible(event_type, data, "u1", role, ["/ML"]):
                assert event_type in keys, (role, event_type)


def test_the_live_queue_stays_bound_a_while_after_the_last_stream_closed():
    from gateway.live import Interest
    interest = Interest(linger_s=60)
    assert interest.wanted == set()  # no stream yet: no event reaches this replica
    interest.opened("coach")
    interest.expire(now=1000)
    assert "plan.created" in interest.wanted
    interest.all_closed(now=1000)
    interest.expire(now=1059)
    assert "plan.created" in interest.wanted  # a reconnection may still replay
    interest.expire(now=1060)
    assert interest.wanted == set()
    interest.opened("admin")
    interest.all_closed(now=2000)
    interest.opened("coach")  # open again before the end: stays bound
    interest.expire(now=5000)
    assert "account.created" in interest.wanted
