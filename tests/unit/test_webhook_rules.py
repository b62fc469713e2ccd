"""Webhook rules: signatures a partner can check, which endpoint wants which
event, and the back-off schedule up to `failed`."""
import hashlib
import hmac
import json
from datetime import datetime, timedelta, timezone

from c2p.contracts import event_types
from gateway import webhooks
from gateway.webhooks import Policy, Result

ENVELOPE = {"id": "5b0c7d1e-7a4a-4a59-9d67-3d1c2a1e9f00", "type": "plan.created",
            "version": 1, "occurred_at": "2026-11-20T09:30:00+00:00", "source": "planner",
            "correlation_id": "c-1", "data": {"facility_name": "CSCom de Ségou"}}


def test_signature_is_hmac_sha256_of_timestamp_dot_body():
    body = webhooks.encode(ENVELOPE)
    headers = webhooks.signed_headers(ENVELOPE, "s3cret-s3cret-s3cret-s3cret", body, now=1700000000)
    expected = hmac.new(b"s3cret-s3cret-s3cret-s3cret", b"1700000000." + body,
                        hashlib.sha256).hexdigest()
    assert headers["C2P-Signature"] == f"v1={expected}"
    assert headers["C2P-Timestamp"] == "1700000000"
    assert headers["C2P-Event-Id"] == ENVELOPE["id"]
    assert headers["C2P-Event-Type"] == "plan.created"
    assert json.loads(body.decode("utf-8")) == ENVELOPE  # UTF-8, not escaped
    assert "Ségou".encode("utf-8") in body


def test_receiver_check_refuses_other_key_other_bytes_and_old_timestamps():
    secret = "s3cret-s3cret-s3cret-s3cret"
    body = webhooks.encode(ENVELOPE)
    headers = webhooks.signed_headers(ENVELOPE, secret, body, now=1700000000)
    assert webhooks.verify_signature(secret, headers, body, now=1700000010)
    assert not webhooks.verify_signature("another-secret-another-secret", headers, body,
                                         now=1700000010)
    assert not webhooks.verify_signature(secret, headers, body + b" ", now=1700000010)
    assert not webhooks.verify_signature(secret, headers, body, now=1700000000 + 3600)
    assert not webhooks.verify_signature(secret, {**headers, "C2P-Timestamp": "1700000001"},
                                         body, now=1700000010)


def test_patterns_select_lifecycle_events():
    assert webhooks.wants(["plan.*"], "plan.completed")
    assert not webhooks.wants(["plan.*"], "action.overdue")
    assert webhooks.wants(["#"], "evidence.reviewed")
    assert webhooks.wants(["checklist.submitted", "action.*"], "action.status_changed")
    known = event_types()
    assert webhooks.pattern_errors(["plan.*", "action.status_changed", "#"], known) == []
    assert webhooks.pattern_errors([], known)
    assert webhooks.pattern_errors("plan.*", known)
    assert webhooks.pattern_errors(["plan.created; drop"], known)
    assert webhooks.pattern_errors(["plan." + "x" * 100], known)
    assert webhooks.pattern_errors(["#"] * 51, known)
    assert "matches no event type" in webhooks.pattern_errors(["plan.eaten"], known)[0]


def test_urls_must_be_absolute_http():
    public = lambda host, port: ["93.184.215.14"]
    assert webhooks.url_errors("https://tb.example.org/hooks/c2p", resolve=public) == []
    assert webhooks.url_errors("http://127.0.0.1:9000/x", allow_private=True) == []
    for bad in ("ftp://x/y", "/relative", "https://", 42, "http://" + "a" * 2000,
                "http://[::1/x", "http://host:port/x"):
        assert webhooks.url_errors(bad), bad


def test_backoff_doubles_up_to_a_cap_then_fails():
    policy = Policy(backoff_ms=1000, backoff_max_ms=5000, max_attempts=5)
    assert [webhooks.backoff_ms(n, 1000, 5000) for n in range(1, 6)] == [
        1000, 2000, 4000, 5000, 5000]
    now = datetime(2026, 11, 20, tzinfo=timezone.utc)
    down = Result(status_code=None, error="ConnectionError", duration_ms=3)
    assert webhooks.next_state(down, 0, policy, now) == (
        "pending", 1, now + timedelta(seconds=1))
    assert webhooks.next_state(down, 2, policy, now) == (
        "pending", 3, now + timedelta(seconds=4))
    assert webhooks.next_state(down, 4, policy, now) == ("failed", 5, now)
    server_error = Result(status_code=503, error="HTTP 503", duration_ms=3)
    assert webhooks.next_state(server_error, 0, policy, now)[0] == "pending"
    assert webhooks.next_state(Result(204, None, 3), 3, policy, now) == ("delivered", 4, now)
    assert not Result(302, "HTTP 302", 1).ok  # redirects are not followed


def test_post_never_raises_and_times_out_quickly():
    import socket
    import time
    with socket.socket() as listener:  # accepts, never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/hook"
        started = time.monotonic()
        result = webhooks.post(url, b"{}", {}, timeout_s=1, allow_private=True)
        assert time.monotonic() - started < 5
    assert result.status_code is None and "Timeout" in result.error
    refused = webhooks.post("http://127.0.0.1:9/nothing", b"{}", {}, timeout_s=1,
                           allow_private=True)
    assert refused.status_code is None and refused.error
