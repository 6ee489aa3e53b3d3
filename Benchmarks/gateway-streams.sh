#!/usr/bin/env bash
# Many long streams held open through `roadtest gateway` at once: STREAMS concurrent 2-second streams (40 chunks,
# 50 ms apart) for DURATION against the simulator, measured by `roadtest load` (closed loop), then the same load
# straight to the simulator as the reference. Prints requests, errors and what was in flight at the end, from the
# load reports and from the gateway's own counters.
#   Benchmarks/gateway-streams.sh [STREAMS=1000] [DURATION=60s]
set -euo pipefail
streams=${1:-1000}
duration=${2:-60s}
root=$(cd "$(dirname "$0")/.." && pwd)
roadtest=${ROADTEST:-$root/.build/release/roadtest}
[ -x "$roadtest" ] || { echo "build first: swift build -c release" >&2; exit 1; }
work=$(mktemp -d)
trap 'kill $sim $gateway 2>/dev/null || true; rm -rf "$work"' EXIT
ulimit -n 65536 2>/dev/null || true
sim_port=$((20000 + RANDOM % 20000))
gateway_port=$((sim_port + 1))
"$roadtest" simulate --port "$sim_port" > "$work/sim.log" 2>&1 &
sim=$!
model='stream;ttft=100ms;itl=50ms;reply=a b c d e f g h i j k l m n o p q r s t u v w x y z aa bb cc dd ee ff gg hh ii jj kk ll mm nn'
cat > "$work/policy.yaml" <<YAML
candidates:
  - {id: sim, base_url: "http://127.0.0.1:$sim_port/v1", model: "$model", retries: 0, timeout: 120s}
routes:
  - {name: default, candidate: sim}
limits: {requests_per_minute: 100000000, max_connections_per_client: 0}
YAML
"$roadtest" gateway --policy "$work/policy.yaml" --listen "127.0.0.1:$gateway_port" --store "$work/gateway.db" \
  2> "$work/gateway.log" &
gateway=$!
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$sim_port/health" >/dev/null && curl -sf "http://127.0.0.1:$gateway_port/health" >/dev/null && break
  sleep 0.1
done
cat > "$work/suite.yaml" <<YAML
name: gateway-streams
candidates:
  - {id: via-gateway, base_url: "http://127.0.0.1:$gateway_port/v1", model: default, retries: 0, timeout: 120s}
  - {id: direct, base_url: "http://127.0.0.1:$sim_port/v1", model: "$model", retries: 0, timeout: 120s}
cases:
  - {id: a, prompt: hello}
YAML
"$roadtest" load "$work/suite.yaml" --candidate via-gateway --concurrency "$streams" --duration "$duration" \
  --warmup 2s --store "$work/store.db" --json "$work/gateway.json" > /dev/null
status=$(curl -s "http://127.0.0.1:$gateway_port/_roadtest/status")
"$roadtest" load "$work/suite.yaml" --candidate direct --concurrency "$streams" --duration "$duration" \
  --warmup 2s --store "$work/store.db" --json "$work/direct.json" > /dev/null
python3 - "$work/gateway.json" "$work/direct.json" "$status" <<'PY'
import json, sys
status = json.loads(sys.argv[3])
for path in sys.argv[1:3]:
  report = json.load(open(path))
  for cand in report["candidates"]:
    for level in cand["levels"]:
        print(f"{cand['id']}: {level['target']} concurrent streams: {level['requests']} requests, {level['completed']} completed, "
              f"{level['errored']} errored, {level.get('in_flight_at_end', 0)} in flight at the end; "
              f"TTFT p50 {level['ttft_ms']['p50']} ms p99 {level['ttft_ms']['p99']} ms; "
              f"E2E p50 {level['e2e_ms']['p50']} ms p99 {level['e2e_ms']['p99']} ms; errors {level['errors']}")
print("gateway counters:", status["requests"], "records dropped:", status["records_dropped"])
PY
