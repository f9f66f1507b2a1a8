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
# The 900 care packs (seed-demo also publishes an allocation and a campaign for wishes).
CAMPAIGN=$(curl -fs "$API/campaigns" -H "authorization: Bearer $WORKER" |
  python3 -c "import json,sys; print(next(c['id'] for c in json.load(sys.stdin)['items'] if c['total_stock']==900))")
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

# The other way (精准发放): the hardship register was allocated 米面油 and two delivery rounds
# went out (seed-demo). The counter lists what is left to deliver, hands one over, the worker
# rates it, and the office reads the stats and the micro-wishes.
ADMIN=$(login 13900000001)      # 路桥区 union admin
RICE=$(curl -fs "$API/admin/campaigns?limit=100" -H "authorization: Bearer $ADMIN" |
  python3 -c "import json,sys; print(next(c['id'] for c in json.load(sys.stdin)['items'] if c['mode']=='allocate'))")
DELIVERIES=$(curl -fs "$API/counter/deliveries?campaign_id=$RICE" -H "authorization: Bearer $COUNTER")
echo "to deliver: $DELIVERIES"
VOUCHER=$(echo "$DELIVERIES" | json '["items"][0]["voucher_id"]')
echo "hand-over: $(curl -s -X POST "$API/counter/deliveries" -H "authorization: Bearer $COUNTER" \
  -H 'content-type: application/json' -d "{\"voucher_id\":\"$VOUCHER\",\"station_id\":\"$STATION\"}")"
echo "again: $(curl -s -X POST "$API/counter/deliveries" -H "authorization: Bearer $COUNTER" \
  -H 'content-type: application/json' -d "{\"voucher_id\":\"$VOUCHER\",\"station_id\":\"$STATION\"}")"
# Whoever holds it rates it (the other hardship workers are told it is not theirs: 404).
for phone in 13800000003 13800000004 13800000005 13800000008; do
  HOLDER=$(login $phone)
  echo "rating by $phone: $(curl -s -X POST "$API/me/vouchers/$VOUCHER/rating" -H "authorization: Bearer $HOLDER" \
    -H 'content-type: application/json' -d '{"score":5,"comment":"送到家门口，谢谢"}')"
done
echo "stats: $(curl -fs "$API/admin/campaigns/$RICE/stats" -H "authorization: Bearer $ADMIN")"
echo "wishes: $(curl -fs "$API/admin/wishes/summary" -H "authorization: Bearer $ADMIN")"

# 湖北's micro-wishes: 王小明 wished for gloves; the 保暖包 campaign admits wishers of warmth.
# He claims it, the counter redeems it, and his wish is fulfilled (with a notification).
WISHER=$(login 13800000001)
WARMTH=$(curl -fs "$API/campaigns" -H "authorization: Bearer $WISHER" |
  python3 -c "import json,sys; print(next(c['id'] for c in json.load(sys.stdin)['items'] if c['total_stock']==20))")
GLOVES=$(curl -s -X POST "$API/campaigns/$WARMTH/claims" -H "authorization: Bearer $WISHER" -H "Idempotency-Key: try-it-$RANDOM" | json '["code"]')
echo "warmth redemption: $(curl -s -X POST "$API/counter/redemptions" -H "authorization: Bearer $COUNTER" \
  -H 'content-type: application/json' -d "{\"code\":\"$GLOVES\",\"station_id\":\"$STATION\"}" | json '["id"]')"
echo "his wishes: $(curl -fs "$API/me/wishes" -H "authorization: Bearer $WISHER")"
