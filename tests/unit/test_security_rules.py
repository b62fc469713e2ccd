"""Issue 12 (outside probe), the rules that need no broker nor database: event
places and scope (1, 3), org-unit imports within scope (2), refresh successors (4),
JSON depth and text (6), webhook targets (7), security headers (10), sign-in
slowing keys and client addresses (11), strict access-token claims (12)."""
import ipaddress
import socket
import threading
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import jwt
import pytest

from c2p import safejson
from c2p.scope import event_in_scope, event_places, is_national
from checklist import places
from gateway import webhooks
from gateway.auth import ACCESS_TOKEN_TTL, Access, Tokens, Unauthorized, check_claims
from gateway.live import visible
from gateway.security import client_address, content_security_policy, security_headers

SECRET = "unit-test-secret-of-enough-length-1234"
NIONO = "/ML/ML-SEG/ML-SEG-NIO"
NIONO_CEN = f"{NIONO}/ML-SEG-NIO-CEN"
KAYES = "/ML/ML-KAY"
COACH_NIONO = {"account_id": "u-coach-niono", "scope": [NIONO], "phone": "+22376000001",
               "coaching": [{"facility_id": "ML-SEG-NIO-CEN", "facility_path": NIONO_CEN}]}


# --- 1, 3: where an event happens, who may learn of it ---------------------------

def test_events_are_placed_and_shown_only_within_scope():
    assert event_places("plan.created", {"facility_path": NIONO_CEN}) == [NIONO_CEN]
    assert set(event_places("account.updated", COACH_NIONO)) == {NIONO, NIONO_CEN}
    assert event_places("notification.delivered", {"recipient_id": "u1"}) is None
    assert is_national(["/ML"]) and not is_national([KAYES]) and not is_national([])
    assert event_in_scope("account.updated", COACH_NIONO, ["/ML"])
    assert event_in_scope("account.updated", COACH_NIONO, ["/ML/ML-SEG"])
    assert not event_in_scope("account.updated", COACH_NIONO, [KAYES])
    assert not event_in_scope("checklist.submitted", {"facility_path": NIONO_CEN}, [KAYES])
    # No place: national scopes only. A scope that is a string is not a list of paths.
    assert event_in_scope("notification.failed", {"recipient_id": "u1"}, ["/ML"])
    assert not event_in_scope("notification.failed", {"recipient_id": "u1"}, [KAYES])
    assert not event_in_scope("account.updated", {**COACH_NIONO, "scope": [], "coaching": []},
                              [KAYES])


def test_a_batch_of_changes_is_where_every_one_of_its_changes_is():
    kayes_cscom = f"{KAYES}/ML-KAY-KAY/ML-KAY-KAY-CEN"
    batch = {"changes": [{"facility_path": NIONO_CEN}, {"facility_path": NIONO_CEN}]}
    assert event_places("actions.status_changed", batch) == [NIONO_CEN, NIONO_CEN]
    assert event_in_scope("actions.status_changed", batch, [NIONO])
    assert not event_in_scope("actions.status_changed", batch, [KAYES])
    # One change elsewhere: only a scope holding both places sees the batch.
    mixed = {"changes": [{"facility_path": NIONO_CEN}, {"facility_path": kayes_cscom}]}
    assert not event_in_scope("actions.status_changed", mixed, [NIONO])
    assert event_in_scope("actions.status_changed", mixed, [NIONO, KAYES])
    # A change with no place (or not an object): national scopes only.
    for odd in ({"changes": []}, {"changes": [{"facility_path": NIONO_CEN}, {}]},
                {"changes": [NIONO_CEN]}, {"changes": [{"facility_path": 7}]}):
        assert event_places("actions.status_changed", odd) is None
        assert not event_in_scope("actions.status_changed", odd, [NIONO])
        assert event_in_scope("actions.status_changed", odd, ["/ML"])


def test_account_events_over_sse_reach_only_admins_whose_scope_holds_the_account():
    assert visible("account.updated", COACH_NIONO, "a", "admin", ["/ML"])
    assert visible("account.updated", COACH_NIONO, "a", "admin", ["/ML/ML-SEG"])
    assert not visible("account.updated", COACH_NIONO, "a", "admin", [KAYES])
    assert not visible("account.created", COACH_NIONO, "a", "admin", [NIONO_CEN])
    assert not visible("account.updated", COACH_NIONO, "m", "manager", ["/ML"])


# --- 2: org-unit imports within the importer's scope ------------------------------

UNITS = [
    {"id": "ML", "name": "Mali", "level": "country", "parent_id": None, "path": "/ML"},
    {"id": "ML-SEG", "name": "Ségou", "level": "region", "parent_id": "ML",
     "path": "/ML/ML-SEG"},
    {"id": "ML-SEG-NIO", "name": "Niono", "level": "district", "parent_id": "ML-SEG",
     "path": NIONO},
    {"id": "ML-SEG-NIO-CEN", "name": "CSCom central de Niono", "level": "facility",
     "parent_id": "ML-SEG-NIO", "path": NIONO_CEN},
    {"id": "ML-KAY", "name": "Kayes", "level": "region", "parent_id": "ML", "path": KAYES},
    {"id": "ML-KAY-KAY", "name": "Kayes", "level": "district", "parent_id": "ML-KAY",
     "path": f"{KAYES}/ML-KAY-KAY"},
    {"id": "ML-KAY-KAY-LAF", "name": "CSCom Lafiabougou", "level": "facility",
     "parent_id": "ML-KAY-KAY", "path": f"{KAYES}/ML-KAY-KAY/ML-KAY-KAY-LAF"},
]
for _unit in UNITS:
    for _name in places.FIELDS:
        _unit.setdefault(_name, None)


def _plan(csv_lines, scope):
    text = "id,parent_id,level,name\n" + "\n".join(csv_lines) + "\n"
    plan = places.plan_import([dict(u) for u in UNITS], places.read_csv(text), scope)
    return plan, {entry["id"]: entry for entry in plan.report}


def test_a_regional_admin_cannot_pull_a_unit_of_another_region_into_theirs():
    plan, report = _plan(["ML-SEG-NIO-CEN,ML-KAY-KAY,facility,CSCom central de Niono"],
                         [KAYES])
    assert report["ML-SEG-NIO-CEN"]["status"] == "rejected" and not plan.writes
    assert "outside your scope" in report["ML-SEG-NIO-CEN"]["errors"][0]["reason"]


def test_a_regional_admin_cannot_push_their_unit_out_nor_touch_others():
    plan, report = _plan(["ML-KAY-KAY-LAF,ML-SEG-NIO,facility,CSCom Lafiabougou",
                          "ML-SEG-NIO-CEN,ML-SEG-NIO,facility,Renamed",
                          "ML-SEG-NIO-NEW,ML-SEG-NIO,facility,CSCom nouveau",
                          "ML,,country,Mali renamed",
                          "ML-KAY-KAY-NEW,ML-KAY-KAY,facility,CSCom nouveau de Kayes"],
                         [KAYES])
    assert {k: v["status"] for k, v in report.items()} == {
        "ML-KAY-KAY-LAF": "rejected", "ML-SEG-NIO-CEN": "rejected",
        "ML-SEG-NIO-NEW": "rejected", "ML": "rejected", "ML-KAY-KAY-NEW": "created"}
    assert set(plan.writes) == {"ML-KAY-KAY-NEW"} and not plan.moves


def test_moving_across_regions_takes_national_scope():
    line = ["ML-SEG-NIO-CEN,ML-KAY-KAY,facility,CSCom central de Niono"]
    for scope in ([KAYES], ["/ML/ML-SEG"], [KAYES, "/ML/ML-SEG/ML-SEG-SEG"]):
        assert _plan(line, scope)[1]["ML-SEG-NIO-CEN"]["status"] == "rejected", scope
    plan, report = _plan(line, ["/ML"])
    assert report["ML-SEG-NIO-CEN"]["status"] == "updated"
    assert plan.moves == [(NIONO_CEN, f"{KAYES}/ML-KAY-KAY/ML-SEG-NIO-CEN")]


# --- 4: a refresh retry is answered the same successor ------------------------------

def test_the_successor_of_a_refresh_token_is_always_the_same_and_keyed():
    tokens = Tokens(SECRET, "c2p", "c2p-clients")
    first = tokens.successor("presented-token")
    assert first == tokens.successor("presented-token") and len(first) >= 43
    assert first != tokens.successor("another-token")
    assert first != Tokens(SECRET + "x", "c2p", "c2p-clients").successor("presented-token")


# --- 6: JSON too deep, text that cannot be stored ------------------------------------

@pytest.mark.parametrize("raw", ["[" * 900 + "]" * 900, '{"a":' * 5000 + "1" + "}" * 5000,
                                 "[" * 100_000 + "]" * 100_000])
def test_deep_json_is_refused_by_name(raw):
    with pytest.raises(safejson.TooDeep, match="nested more than"):
        safejson.loads(raw)


@pytest.mark.parametrize("raw", ['{"v": NaN}', '{"v": Infinity}', '{"v": -Infinity}',
                                 '{"v": 1e999}', '{"v": 9007199254740993}'])
def test_numbers_json_does_not_have_or_no_column_holds_are_refused(raw):
    with pytest.raises(ValueError):
        safejson.loads(raw)
    assert safejson.loads('{"v": 9007199254740992, "w": -1.5e10}')["v"] == 2 ** 53


def test_lone_surrogates_and_nul_are_named_by_field():
    body = safejson.loads('{"name": "a\\ud800b", "grow": {"goal": "ok", "reality": "x\\udfff"},'
                          ' "list": ["fine", "z\\u0000"], "k\\ud800": 1, "pair": "\\ud83d\\ude00"}')
    problems = safejson.text_problems(body)
    assert set(problems) == {"name", "grow.reality", "list.1", "k\\ud800"}
    assert "lone surrogate" in problems["name"][0] and "NUL" in problems["list.1"][0]
    assert "😀" == body["pair"] and safejson.text_problems({"name": "Ségou 😀"}) == {}


def test_a_dhis2_file_with_bad_text_or_depth_is_refused_line_by_line():
    lines = places.read_dhis2('{"organisationUnits": [{"id": "X1", "name": "a\\ud800",'
                              ' "level": 4, "parent": {"id": "NioDist0001"}}]}')
    assert "lone surrogate" in lines[0].errors["name"][0]
    with pytest.raises(places.UnreadableFile, match="nested"):
        places.read_dhis2('{"organisationUnits": ' + "[" * 2000 + "]" * 2000 + "}")


# --- 7: webhook targets ---------------------------------------------------------------

@pytest.mark.parametrize("address", ["127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1",
                                     "169.254.169.254", "0.0.0.0", "100.64.0.1", "::1",
                                     "fe80::1", "fd00::1", "::ffff:127.0.0.1", "224.0.0.1"])
def test_webhooks_to_inside_addresses_are_refused_unless_allowed(address):
    url = f"http://partner.example.org:8080/hook"
    assert webhooks.url_errors(url, resolve=lambda h, p: [address])
    assert webhooks.url_errors(url, resolve=lambda h, p: ["93.184.215.14", address])
    assert webhooks.url_errors(url, allow_private=True, resolve=lambda h, p: [address]) == []
    host = f"[{address}]" if ":" in address else address
    assert webhooks.url_errors(f"http://{host}:8080/hook")
    assert not webhooks.public_address(address)


def test_webhook_urls_with_credentials_are_refused():
    assert webhooks.url_errors("https://user:pw@partner.example.org/h",
                               resolve=lambda h, p: ["93.184.215.14"])


class _Secretive:
    """A local server whose error answer carries a secret in its body."""

    def __init__(self):
        self.hits = []
        hits = self.hits

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                hits.append(self.path)
                body = b'{"detail": "internal-secret-token-42"}'
                self.send_response(401)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def test_deliveries_keep_the_status_code_only_and_check_the_address_connected_to(
        monkeypatch):
    server = _Secretive()
    try:
        allowed = webhooks.post(f"http://127.0.0.1:{server.port}/h", b"{}", {}, 2,
                                allow_private=True)
        assert allowed.status_code == 401 and allowed.error == "HTTP 401"
        assert "secret" not in (allowed.error or "")
        assert server.hits == ["/h"]

        refused = webhooks.post(f"http://127.0.0.1:{server.port}/h", b"{}", {}, 2)
        assert refused.status_code is None and "refused" in refused.error

        # DNS rebinding: public when registered, loopback when delivered.
        url = f"http://rebind.example.org:{server.port}/again"
        assert webhooks.url_errors(url, resolve=lambda h, p: ["93.184.215.14"]) == []
        real = socket.getaddrinfo

        def rebound(host, *args, **kwargs):
            if host == "rebind.example.org":
                return real("127.0.0.1", *args, **kwargs)
            return real(host, *args, **kwargs)
        monkeypatch.setattr(socket, "getaddrinfo", rebound)
        rebind = webhooks.post(url, b"{}", {}, 2)
        assert rebind.status_code is None and "refused" in rebind.error
        assert server.hits == ["/h"]  # the refused deliveries never reached it
    finally:
        server.close()


# --- 10: security headers -------------------------------------------------------------

def test_every_answer_gets_nosniff_and_api_answers_are_not_stored():
    api = security_headers("/api/v1/auth/token", "application/json", {})
    assert api["X-Content-Type-Options"] == "nosniff" and api["Cache-Control"] == "no-store"
    assert api["Referrer-Policy"] == "no-referrer" and "Content-Security-Policy" not in api
    asset = security_headers("/api/docs/swagger-ui.css", "text/css",
                             {"Cache-Control": "public, max-age=86400"})
    assert "Cache-Control" not in asset and asset["X-Content-Type-Options"] == "nosniff"


def test_html_pages_get_a_csp_that_a_built_app_and_its_service_worker_can_live_with():
    settings = SimpleNamespace(s3_endpoint="files.c2p.ml:9000", s3_secure=True)
    for path in ("/", "/api/docs", "/plans/42"):
        headers = security_headers(path, "text/html; charset=utf-8", {}, settings)
        csp = dict(d.split(" ", 1) for d in headers["Content-Security-Policy"].split("; "))
        assert csp["frame-ancestors"] == "'none'" and headers["X-Frame-Options"] == "DENY"
        assert csp["script-src"] == "'self'"  # no inline script, no eval
        assert csp["worker-src"] == "'self'" and csp["object-src"] == "'none'"
        assert "https://files.c2p.ml:9000" in csp["img-src"]
        assert "https://files.c2p.ml:9000" in csp["connect-src"]
    assert "unsafe-eval" not in content_security_policy()


# --- 11: sign-in slowing ----------------------------------------------------------------

def test_sign_in_failures_are_counted_per_device_or_per_pair_user_and_address():
    keys = dict(Access._keys("Coach.Niono ", "41.73.1.2"))
    assert keys == {"pair:coach.niono|41.73.1.2": 5, "user:coach.niono": 20,
                    "ip:41.73.1.2": 100}
    # From a device the user signed in from before, nothing else counts.
    assert Access._keys("coach.niono", "41.73.1.2", "dev-1") == [("device:dev-1", 5)]


def test_device_tokens_name_a_device_of_that_user_only():
    tokens = Tokens(SECRET, "c2p", "c2p-clients")
    account = SimpleNamespace(id="u-1", username="coach.niono")
    device = tokens.issue_device(account)
    assert tokens.device_of(device, "Coach.Niono")
    assert tokens.device_of(device, "coach.kayes") is None
    assert tokens.device_of(device[:-2] + "xx", "coach.niono") is None
    assert tokens.device_of(None, "coach.niono") is None
    access = tokens.issue(SimpleNamespace(id="u-1", role="coach", scope=[NIONO],
                                          language="fr", facility_id=None, token_version=0))
    assert tokens.device_of(access["access_token"], "coach.niono") is None
    with pytest.raises(Unauthorized):
        tokens.verify(device)  # a device token is no access token


def test_the_client_address_comes_through_trusted_proxies_only():
    proxies = (ipaddress.ip_network("10.0.0.0/8"),)
    assert client_address("41.73.1.2", "1.2.3.4", ()) == "41.73.1.2"
    assert client_address("41.73.1.2", "1.2.3.4", proxies) == "41.73.1.2"
    assert client_address("10.0.0.5", "1.2.3.4, 41.73.1.2", proxies) == "41.73.1.2"
    assert client_address("10.0.0.5", "1.2.3.4, 41.73.1.2, 10.0.0.9", proxies) == "41.73.1.2"
    assert client_address("10.0.0.5", "garbage", proxies) == "10.0.0.5"
    assert client_address("10.0.0.5", None, proxies) == "10.0.0.5"


# --- 12: strict claims --------------------------------------------------------------------

def _claims(**over):
    now = int(datetime.now(timezone.utc).timestamp())
    base = {"iss": "c2p", "aud": "c2p-clients", "sub": "u-1", "iat": now, "nbf": now,
            "exp": now + 600, "jti": "j-1", "role": "admin", "scope": ["/ML"], "ver": 0,
            "lang": "fr", "fac": None}
    base.update(over)
    return {k: v for k, v in base.items() if v != "DROP"}


def _sign(claims):
    return jwt.encode(claims, SECRET, algorithm="HS256", headers={"typ": "at+jwt"})


def test_well_formed_claims_pass():
    caller, version = Tokens(SECRET, "c2p", "c2p-clients").verify(_sign(_claims()))
    assert caller.scope == ("/ML",) and version == 0


@pytest.mark.parametrize("name, over", [
    ("exp as a string", {"exp": str(int(datetime.now(timezone.utc).timestamp()) + 600)}),
    ("iat as a string", {"iat": "0"}),
    ("exp as a boolean", {"exp": True}),
    ("a lifetime of a year", {"exp": int(datetime.now(timezone.utc).timestamp()) + 31536000}),
    ("no ver", {"ver": "DROP"}),
    ("ver as a string", {"ver": "0"}),
    ("ver as a float", {"ver": 0.0}),
    ("scope as a string", {"scope": "/"}),
    ("scope of a non-path", {"scope": ["/"]}),
    ("scope empty", {"scope": []}),
    ("scope with a number", {"scope": [1]}),
    ("sub as a number", {"sub": 1}),
    ("no nbf", {"nbf": "DROP"}),
    ("no jti", {"jti": "DROP"}),
    ("role as a list", {"role": ["admin"]}),
    ("fac as a list", {"fac": ["x"]}),
    ("lang unknown", {"lang": "de"}),
])
def test_claims_of_the_wrong_type_are_refused_even_when_signed(name, over):
    with pytest.raises(Unauthorized):
        Tokens(SECRET, "c2p", "c2p-clients").verify(_sign(_claims(**over)))


def test_our_own_tokens_pass_the_claim_checks():
    issued = Tokens(SECRET, "c2p", "c2p-clients").issue(SimpleNamespace(
        id="u-1", role="coachee", scope=[NIONO_CEN], language="en",
        facility_id="ML-SEG-NIO-CEN", token_version=7))["access_token"]
    claims = jwt.decode(issued, SECRET, algorithms=["HS256"], audience="c2p-clients")
    assert check_claims(claims) is None
    assert claims["exp"] - claims["iat"] == ACCESS_TOKEN_TTL.total_seconds()
