#!/usr/bin/env bash
# The thin path through curl, against a platform started with `./c2pctl up`:
# sign in, submit a visit, read its plan and the coach's inbox.
set -euo pipefail
BASE="${1:-http://127.0.0.1:${C2P_GATEWAY_PORT:-${GATEWAY_PORT:-8000}}}"
json() { python3 -c "import sys, json; print(json.load(sys.stdin)$1)"; }

TOKEN=$(curl -fsS -X POST "$BASE/api/v1/auth/token" -H 'Content-Type: application/json' \
  -d '{"username": "coach.niono", "password": "demo-c2p-2025"}' | json "['access_token']")
ID=$(python3 -c 'import uuid; print(uuid.uuid4())')
echo "== POST /api/v1/submissions  (id $ID)"
curl -fsS -X POST "$BASE/api/v1/submissions" -H "Authorization: Bearer $TOKEN" \
  -H 'Content-Type: application/json' -d @- <<JSON | python3 -c 'import sys, json; s = json.load(sys.stdin); print("score:", s["score"]["percent"], "%", s["score"]["colour"], "flagged" if s["score"]["flagged"] else "", "| gaps:", [g["item_code"] for g in s["gaps"]])'
{"id": "$ID", "facility_id": "ML-SEG-NIO-CEN", "template_code": "pev-mini",
 "visited_at": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
 "coachees": [{"id": "u-dtc-niono", "role": "dtc", "name": "Fatoumata Diarra"}],
 "answers": [{"item": "cc_temp_twice_daily", "value": "no"},
             {"item": "cc_in_range", "value": "yes"},
             {"item": "stock_no_expired", "value": "no"},
             {"item": "stock_cards_up_to_date", "value": "partial"},
             {"item": "dq_monitoring_chart", "value": "yes"}]}
JSON
sleep 1
echo "== GET /api/v1/submissions/$ID/plan"
curl -fsS "$BASE/api/v1/submissions/$ID/plan" -H "Authorization: Bearer $TOKEN" \
  | python3 -m json.tool --no-ensure-ascii
echo "== GET /api/v1/inbox"
curl -fsS "$BASE/api/v1/inbox" -H "Authorization: Bearer $TOKEN" | python3 -m json.tool --no-ensure-ascii
