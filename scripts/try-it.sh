#!/usr/bin/env bash
# A rider claims a care pack and a counter redeems it, twice (the second is refused).
# Run against a server with the demo world:  cargo run --release -- seed-demo && cargo run --release
set -euo pipefail
API=${ZHIJIAN_URL:-http://127.0.0.1:8080}/api/v1
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
login() {
  curl -fs -X POST "$API/auth/login" -H 'content-type: application/json' \
    -d "{\"phone\":\"$1\",\"password\":\"zhijian-demo\"}" | json '["access_token"]'
}
WORKER=$(login 13800000002)     # 李建国, courier, member of 路桥区
CAMPAIGN=$(curl -fs "$API/campaigns" -H "authorization: Bearer $WORKER" | json '["items"][0]["id"]')
echo "eligibility: $(curl -fs "$API/campaigns/$CAMPAIGN/eligibility" -H "authorization: Bearer $WORKER")"
CLAIM=$(curl -s -X POST "$API/campaigns/$CAMPAIGN/claims" -H "authorization: Bearer $WORKER" -H "Idempotency-Key: try-it-$RANDOM")
echo "claim: $CLAIM"
CODE=$(echo "$CLAIM" | json '["code"]')
COUNTER=$(login 13900000002)    # counter at 路桥区职工服务驿站
echo "lookup: $(curl -s -X POST "$API/counter/lookups" -H "authorization: Bearer $COUNTER" -H 'content-type: application/json' -d "{\"code\":\"$CODE\"}")"
STATION=$(curl -fs "$API/campaigns/$CAMPAIGN" -H "authorization: Bearer $COUNTER" | json '["station_ids"][0]')
for attempt in first second; do
  echo "$attempt redemption: $(curl -s -X POST "$API/counter/redemptions" -H "authorization: Bearer $COUNTER" \
    -H 'content-type: application/json' -d "{\"code\":\"$CODE\",\"station_id\":\"$STATION\"}")"
done
