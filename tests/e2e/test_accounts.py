"""Accounts and sign-in through the gateway, as a client sees them: refresh
tokens rotated and revoked, admins creating, re-scoping and disabling accounts
(with `account.*` events), bad tokens refused, password guessing slowed."""
import base64
import json
import uuid
from datetime import datetime, timedelta, timezone

import jwt
import pytest
import requests

from support import eventually, tap

API = "/api/v1"
PASSWORD = "demo-c2p-2025"


def sign_in(base, username, password=PASSWORD):
    response = requests.post(f"{base}{API}/auth/token",
                             json={"username": username, "password": password}, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def bearer(pair):
    return {"Authorization": f"Bearer {pair['access_token']}"}


def refresh(base, token):
    return requests.post(f"{base}{API}/auth/refresh", json={"refresh_token": token},
                         timeout=10)


def me(base, pair_or_headers):
    headers = pair_or_headers if "Authorization" in pair_or_headers else bearer(pair_or_headers)
    return requests.get(f"{base}{API}/me", headers=headers, timeout=10)


@pytest.mark.slow
def test_accounts_and_sign_in(platform, amqp_uri, settings):
    """One platform for every part (each start costs ~20 s); throttling goes last
    since it locks the test's own address."""
    refresh_tokens_rotate_and_a_replayed_one_revokes_its_family(platform)
    admin_creates_rescopes_and_disables_accounts_and_each_change_is_published(
        platform, amqp_uri)
    forged_expired_wrong_audience_and_alg_none_tokens_are_refused(platform, settings)
    repeated_failed_sign_ins_are_slowed_without_locking_out_the_user(platform)


def refresh_tokens_rotate_and_a_replayed_one_revokes_its_family(platform):
    first = sign_in(platform, "coach.niono")
    assert first["token_type"] == "Bearer" and first["refresh_token"]
    assert me(platform, first).json()["username"] == "coach.niono"

    second = refresh(platform, first["refresh_token"])
    assert second.status_code == 200, second.text
    second = second.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert me(platform, second).status_code == 200
    # The answer got lost and the phone retries with the same token within the
    # grace (or a thief replays a copy of it): answered the same successor, never
    # a second, independent refresh token (issue 12, finding 4).
    retried = refresh(platform, first["refresh_token"])
    assert retried.status_code == 200, retried.text
    assert retried.json()["refresh_token"] == second["refresh_token"]
    assert me(platform, retried.json()).status_code == 200
    third = refresh(platform, second["refresh_token"])  # one of the two uses it...
    assert third.status_code == 200, third.text
    third = third.json()
    fourth = refresh(platform, third["refresh_token"])  # ...and goes on
    assert fourth.status_code == 200, fourth.text

    # The other comes with the shared token once its successor was used: a copy, so
    # refused, and the whole family revoked, the first one's session included.
    replay = refresh(platform, second["refresh_token"])
    assert replay.status_code == 401
    assert replay.headers["Content-Type"].startswith("application/problem+json")
    assert refresh(platform, fourth.json()["refresh_token"]).status_code == 401
    assert refresh(platform, first["refresh_token"]).status_code == 401

    # Sign-out revokes the refresh token; another session is untouched.
    third, fourth = sign_in(platform, "coach.niono"), sign_in(platform, "coach.niono")
    out = requests.post(f"{platform}{API}/auth/sign-out",
                        json={"refresh_token": third["refresh_token"]}, timeout=10)
    assert out.status_code == 204
    assert refresh(platform, third["refresh_token"]).status_code == 401
    assert refresh(platform, fourth["refresh_token"]).status_code == 200
    assert refresh(platform, "made-up").status_code == 401


def admin_creates_rescopes_and_disables_accounts_and_each_change_is_published(
        platform, amqp_uri):
    events = tap(amqp_uri, "account.*")
    admin = bearer(sign_in(platform, "admin"))
    suffix = uuid.uuid4().hex[:8]
    account_id = f"acc-{suffix}"
    new_coach = {
        "id": account_id, "username": f"Coach.Molodo.{suffix}", "password": "molodo-2025-pass",
        "display_name": "Seydou Dembélé", "role": "coach", "scope": ["/ML/ML-SEG/ML-SEG-NIO"],
        "language": "fr", "phone": "+22376001234", "email": f"seydou.{suffix}@c2p.example",
        "cohort": "cohort-1",
        "coaching": [{"facility_id": "ML-SEG-NIO-MOL",
                      "facility_path": "/ML/ML-SEG/ML-SEG-NIO/ML-SEG-NIO-MOL"}],
    }
    created = requests.post(f"{platform}{API}/accounts", json=new_coach, headers=admin,
                            timeout=10)
    assert created.status_code == 201, created.text
    assert created.headers["Location"] == f"{API}/accounts/{account_id}"
    view = created.json()
    assert view["username"] == f"coach.molodo.{suffix}" and "password" not in view
    assert view["coaching"][0]["facility_id"] == "ML-SEG-NIO-MOL" and view["active"]

    # A retried create (offline phone, flaky network) answers the original.
    again = requests.post(f"{platform}{API}/accounts", json=new_coach, headers=admin,
                          timeout=10)
    assert again.status_code == 200 and again.json() == view
    taken = requests.post(f"{platform}{API}/accounts", headers=admin, timeout=10,
                          json={**new_coach, "id": f"other-{suffix}"})
    assert taken.status_code == 409
    refused = requests.post(f"{platform}{API}/accounts", headers=admin, timeout=10, json={
        **new_coach, "id": f"bad-{suffix}", "username": f"bad.{suffix}", "role": "coachee",
        "coaching": [], "phone": "76 00 12 34"})
    assert refused.status_code == 422
    assert {e["field"] for e in refused.json()["errors"]} >= {"phone"}
    refused = requests.post(f"{platform}{API}/accounts", headers=admin, timeout=10, json={
        **new_coach, "id": f"bad-{suffix}", "username": f"bad.{suffix}", "role": "coachee",
        "coaching": []})
    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == ["facility_id"]
    # Followed facilities are checked against the org units (and their paths filled in).
    refused = requests.post(f"{platform}{API}/accounts", headers=admin, timeout=10, json={
        **new_coach, "id": f"bad-{suffix}", "username": f"bad.{suffix}", "coaching": [
            {"facility_id": "ML-SEG-NIO-MOL"}, {"facility_id": "ML-KAY-KAY-LAF"},
            {"facility_id": "ML-SEG-NIO-CEN", "facility_path": "/ML/ML-SEG/ML-SEG-NIO/X"}]})
    assert refused.status_code == 422
    assert {e["field"] for e in refused.json()["errors"]} == {
        "coaching.1.facility_id", "coaching.2.facility_path"}
    follows = requests.post(f"{platform}{API}/accounts", headers=admin, timeout=10, json={
        **new_coach, "id": f"follows-{suffix}", "username": f"follows.{suffix}",
        "coaching": [{"facility_id": "ML-SEG-NIO-CEN"}]})
    assert follows.status_code == 201, follows.text
    assert follows.json()["coaching"] == [{
        "facility_id": "ML-SEG-NIO-CEN", "facility_path": "/ML/ML-SEG/ML-SEG-NIO/ML-SEG-NIO-CEN"}]

    # A coach's coachees follow from the facilities the coach follows.
    coach = bearer(sign_in(platform, "coach.niono"))
    coachees = requests.get(f"{platform}{API}/me/coachees", headers=coach, timeout=10).json()
    assert "u-dtc-niono" in {c["id"] for c in coachees["items"]}
    assert {(c["role"], c["facility_id"]) for c in coachees["items"]} <= {
        ("coachee", "ML-SEG-NIO-CEN"), ("coachee", "ML-SEG-NIO-MOL")}
    kayes = bearer(sign_in(platform, "coach.kayes"))
    assert "u-dtc-niono" not in {c["id"] for c in requests.get(
        f"{platform}{API}/me/coachees", headers=kayes, timeout=10).json()["items"]}

    # Only admins write accounts.
    assert requests.post(f"{platform}{API}/accounts", headers=coach, timeout=10, json={
        **new_coach, "id": f"x-{suffix}", "username": f"x.{suffix}"}).status_code == 403
    assert requests.post(f"{platform}{API}/accounts/{account_id}/disable", headers=coach,
                         timeout=10).status_code == 403

    session = sign_in(platform, f"coach.molodo.{suffix}", "molodo-2025-pass")
    assert me(platform, session).json()["scope"] == ["/ML/ML-SEG/ML-SEG-NIO"]

    # Re-scoped: the tokens issued for the old scope stop working at once.
    moved = requests.patch(f"{platform}{API}/accounts/{account_id}", headers=admin, timeout=10,
                           json={"scope": ["/ML/ML-KAY/ML-KAY-KAY"], "coaching": []})
    assert moved.status_code == 200, moved.text
    assert me(platform, session).status_code == 401
    assert refresh(platform, session["refresh_token"]).status_code == 401
    session = sign_in(platform, f"coach.molodo.{suffix}", "molodo-2025-pass")
    assert me(platform, session).json()["scope"] == ["/ML/ML-KAY/ML-KAY-KAY"]
    # A contact change is no re-scope: the session goes on.
    assert requests.patch(f"{platform}{API}/accounts/{account_id}", headers=admin, timeout=10,
                          json={"phone": "+22376009999"}).status_code == 200
    assert me(platform, session).json()["phone"] == "+22376009999"

    disabled = requests.post(f"{platform}{API}/accounts/{account_id}/disable", headers=admin,
                             timeout=10)
    assert disabled.status_code == 200 and disabled.json()["active"] is False
    assert me(platform, session).status_code == 401
    assert refresh(platform, session["refresh_token"]).status_code == 401
    assert requests.post(f"{platform}{API}/auth/token", timeout=10, json={
        "username": f"coach.molodo.{suffix}", "password": "molodo-2025-pass"}).status_code == 401

    def published():
        got.extend(e for e in events() if e["data"]["account_id"] == account_id)
        return [e["type"] for e in got] == ["account.created", "account.updated",
                                            "account.updated", "account.disabled"] and got
    got = []
    created_event, moved_event, phone_event, disabled_event = eventually(published)
    assert created_event["data"] == {
        "account_id": account_id, "username": f"coach.molodo.{suffix}",
        "display_name": "Seydou Dembélé", "role": "coach", "scope": ["/ML/ML-SEG/ML-SEG-NIO"],
        "language": "fr", "phone": "+22376001234", "email": f"seydou.{suffix}@c2p.example",
        "cohort": "cohort-1", "facility_id": None,
        "coaching": [{"facility_id": "ML-SEG-NIO-MOL",
                      "facility_path": "/ML/ML-SEG/ML-SEG-NIO/ML-SEG-NIO-MOL"}],
        "preferences": {"channels": ["inbox"], "quiet_hours": None, "digest": False,
                        "timezone": "Africa/Bamako"},
        "active": True}
    assert moved_event["data"]["scope"] == ["/ML/ML-KAY/ML-KAY-KAY"]
    assert phone_event["data"]["phone"] == "+22376009999"
    assert disabled_event["data"]["active"] is False
    assert created_event["source"] == "gateway"


def _b64(part):
    return base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()


def forged_expired_wrong_audience_and_alg_none_tokens_are_refused(platform, settings):
    now = datetime.now(timezone.utc)
    claims = {"iss": settings.token_issuer, "aud": settings.token_audience, "jti": "j-1",
              "sub": "u-admin", "iat": now, "nbf": now, "exp": now + timedelta(minutes=5),
              "role": "admin", "scope": ["/ML"], "lang": "fr", "fac": None, "ver": 0}

    def token(secret=settings.token_secret, **over):
        return jwt.encode({**claims, **over}, secret, algorithm="HS256",
                          headers={"typ": "at+jwt"})

    def status(value):
        return me(platform, {"Authorization": f"Bearer {value}"}).status_code

    assert status(token()) == 200  # the control: a well-made token is accepted
    unsigned = {**claims, "iat": int(now.timestamp()), "nbf": int(now.timestamp()),
                "exp": int((now + timedelta(minutes=5)).timestamp())}
    refused = {
        "forged": token(secret="not-the-platform-secret-but-long-enough"),
        "expired": token(iat=now - timedelta(hours=1), nbf=now - timedelta(hours=1),
                         exp=now - timedelta(minutes=1)),
        "wrong audience": token(aud="another-programme"),
        "wrong issuer": token(iss="somebody"),
        "alg none": _b64({"alg": "none", "typ": "at+jwt"}) + "." + _b64(unsigned) + ".",
        "stale version": token(ver=7),
        "unknown account": token(sub="u-nobody"),
        # Signed with the key, but claims of the wrong type (issue 12, finding 12).
        "exp as a string": token(exp=str(int((now + timedelta(minutes=5)).timestamp()))),
        "scope as a string": token(scope="/"),
        "no version": jwt.encode({k: v for k, v in claims.items() if k != "ver"},
                                 settings.token_secret, algorithm="HS256",
                                 headers={"typ": "at+jwt"}),
        "a year's lifetime": token(exp=now + timedelta(days=365)),
    }
    assert {name: status(value) for name, value in refused.items()} == {
        name: 401 for name in refused}
    response = me(platform, {"Authorization": f"Bearer {refused['alg none']}"})
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def repeated_failed_sign_ins_are_slowed_without_locking_out_the_user(platform):
    def attempt(username, password="wrong-password", **extra):
        headers = extra.pop("headers", {})
        return requests.post(f"{platform}{API}/auth/token", timeout=10, headers=headers,
                             json={"username": username, "password": password, **extra})

    # The real user signed in on their phone before: it keeps the device token.
    phone = attempt("coach.kayes", PASSWORD)
    assert phone.status_code == 200 and phone.json()["device_token"]
    device = phone.json()["device_token"]

    assert [attempt("coach.kayes").status_code for _ in range(5)] == [401] * 5
    locked = attempt("coach.kayes", PASSWORD)  # the guessing client is slowed down
    assert locked.status_code == 429
    assert int(locked.headers["Retry-After"]) > 0
    assert locked.headers["Content-Type"].startswith("application/problem+json")
    # ...but the real user's phone is not locked out (issue 12, finding 11),
    assert attempt("coach.kayes", PASSWORD, device_token=device).status_code == 200
    # nor are other people behind the same address (one office, one NAT),
    assert attempt("coach.niono", PASSWORD).status_code == 200
    # and a client cannot pick the address it is counted under: no trusted proxy here.
    assert attempt("coach.kayes", PASSWORD,
                   headers={"X-Forwarded-For": "198.51.100.7"}).status_code == 429
    # Another user's device token is no pass for this one.
    other = attempt("coach.niono", PASSWORD).json()["device_token"]
    assert attempt("coach.kayes", PASSWORD, device_token=other).status_code == 429
    # Guessing from the real user's own device is slowed too, for that device only.
    assert [attempt("coach.kayes", device_token=device).status_code
            for _ in range(5)] == [401] * 5
    assert attempt("coach.kayes", PASSWORD, device_token=device).status_code == 429
