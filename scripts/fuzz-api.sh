#!/usr/bin/env bash
# Fuzzes the running API from its own OpenAPI document with schemathesis: no request may
# get a 500, and every status, content type and body must be the documented one.
# Usage: scripts/fuzz-api.sh   (builds, seeds a scratch SQLite world, serves on :8099)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v st >/dev/null || pip install -q schemathesis
cargo build -q
work=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT
bin=$PWD/target/debug/zhijian
(cd "$work" && "$bin" seed-demo >/dev/null)
(cd "$work" && BIND=127.0.0.1:8099 RUST_LOG=warn LOGIN_MAX_ATTEMPTS=100000 CODE_GUESS_MAX=100000 exec "$bin" serve) &
server=$!
for _ in $(seq 1 50); do curl -fs 127.0.0.1:8099/healthz >/dev/null && break; sleep 0.2; done
token() {
  curl -fs -X POST 127.0.0.1:8099/api/v1/auth/login -H 'content-type: application/json' \
    -d "{\"phone\":\"$1\",\"password\":\"zhijian-demo\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'
}
for phone in 13900000001 13800000001 13900000002; do   # union admin, worker, counter
  st run http://127.0.0.1:8099/api-docs/openapi.json --url http://127.0.0.1:8099 \
    -H "Authorization: Bearer $(token $phone)" -n 25 --workers 2 \
    -c not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance
done
