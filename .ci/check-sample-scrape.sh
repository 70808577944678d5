#!/usr/bin/env bash
# Starts the built sample app, sends traffic of every kind, and checks /metrics with promtool.
set -euo pipefail
cd "$(dirname "$0")/.."

port="${SAMPLE_PORT:-3917}"
microservice_port="${SAMPLE_MICROSERVICE_PORT:-3918}"
base="http://127.0.0.1:${port}"
log_file="$(mktemp)"
PORT="$port" MICROSERVICE_PORT="$microservice_port" node dist-sample/sample-app/main.js >"$log_file" 2>&1 &
app_pid=$!
trap 'kill "$app_pid" 2>/dev/null || true; wait "$app_pid" 2>/dev/null || true' EXIT

for _ in $(seq 1 100); do
  curl -fsS -o /dev/null "$base/metrics" 2>/dev/null && break
  if ! kill -0 "$app_pid" 2>/dev/null; then cat "$log_file"; echo "sample app exited"; exit 1; fi
  sleep 0.1
done

status() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
expect() {
  local want="$1"; shift
  local got; got="$(status "$@")"
  if [ "$got" != "$want" ]; then echo "expected $want, got $got for: $*"; exit 1; fi
}

expect 200 "$base/orders"
expect 200 "$base/orders/1"
expect 404 "$base/orders/999"
expect 400 "$base/orders/abc"
expect 201 -X POST -H 'Content-Type: application/json' -d '{"product":"pen","quantity":2}' "$base/orders"
expect 400 -X POST -H 'Content-Type: application/json' -d '{"product":"pen","quantity":0}' "$base/orders"
expect 400 -X POST -H 'Content-Type: application/json' -d '{"product":' "$base/orders"
expect 401 "$base/admin/stats"
expect 403 -H 'Authorization: Bearer wrong' "$base/admin/stats"
expect 200 -H 'Authorization: Bearer sample-admin-token' "$base/admin/stats"
expect 200 "$base/reports/export"
expect 200 "$base/slow?ms=50"
expect 500 "$base/boom"
expect 404 "$base/no/such/route"
expect 200 "$base/health"
node .ci/send-sample-messages.mjs "$port" "$microservice_port"

scrape="$(mktemp)"
curl -fsS "$base/metrics" >"$scrape"
promtool check metrics <"$scrape"
for family in requests_total request_bytes_total response_bytes_total request_duration_seconds_bucket \
  concurrent_requests errors_total uptime_seconds method_duration_seconds_count; do
  grep -q "^${family}" "$scrape" || { echo "missing ${family} in the sample app's /metrics"; exit 1; }
done
grep -q 'route="UNMATCHED"' "$scrape" || { echo "unmatched request not counted"; exit 1; }
for series in 'transport="rpc",method="message",route="orders.get",status="ok"' \
  'transport="rpc",method="event",route="orders.viewed",status="ok"' \
  'transport="rpc",method="message",route="orders.get",error_type="client_error"' \
  'transport="ws",method="message",route="orders.get",status="ok"'; do
  grep -q "$series" "$scrape" || { echo "missing ${series} in the sample app's /metrics"; exit 1; }
done
if grep -q 'route="/health"' "$scrape"; then echo "/health should be excluded"; exit 1; fi
echo "promtool check metrics: OK ($(grep -vc '^#' "$scrape") samples)"
