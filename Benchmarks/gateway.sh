#!/usr/bin/env bash
# Gateway overhead: the same streamed requests to the simulator, directly and through `roadtest gateway` (one route,
# no fallback used), measured by `roadtest load` in the same run (closed loop, alternating levels).
#   Benchmarks/gateway.sh [REQUESTS=2000] [CONCURRENCY=1,8,64]
set -euo pipefail
requests=${1:-2000}
levels=${2:-1,8,64}
root=$(cd "$(dirname "$0")/.." && pwd)
roadtest=${ROADTEST:-$root/.build/release/roadtest}
[ -x "$roadtest" ] || { echo "build first: swift build -c release" >&2; exit 1; }
work=$(mktemp -d)
trap 'kill $sim $proxy 2>/dev/null || true; rm -rf "$work"' EXIT
sim_port=$((20000 + RANDOM % 20000))
proxy_port=$((sim_port + 1))
"$roadtest" simulate --port "$sim_port" > "$work/sim.log" 2>&1 &
sim=$!
# A 16-chunk streamed answer, 1 ms apart: what the gateway adds shows up in TTFT and E2E alike.
model='echo;ttft=5ms;itl=1ms;reply=one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen'
cat > "$work/policy.yaml" <<YAML
candidates:
  - {id: sim, base_url: "http://127.0.0.1:$sim_port/v1", model: "$model", retries: 0}
routes:
  - {name: default, candidate: sim}
limits: {requests_per_minute: 10000000, max_connections_per_client: 0}
YAML
"$roadtest" gateway --policy "$work/policy.yaml" --listen "127.0.0.1:$proxy_port" --store "$work/gateway.db" \
  2> "$work/proxy.log" &
proxy=$!
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$sim_port/health" >/dev/null && curl -sf "http://127.0.0.1:$proxy_port/health" >/dev/null && break
  sleep 0.1
done
cat > "$work/suite.yaml" <<YAML
name: gateway-overhead
candidates:
  - {id: direct, base_url: "http://127.0.0.1:$sim_port/v1", model: "$model", retries: 0}
  - {id: proxied, base_url: "http://127.0.0.1:$proxy_port/v1", model: default, retries: 0}
cases:
  - {id: a, prompt: hello}
YAML
for round in 1 2; do
  for candidate in direct proxied; do
    "$roadtest" load "$work/suite.yaml" --candidate "$candidate" --concurrency "$levels" --requests "$requests" \
      --warmup 1s --store "$work/store.db" --json "$work/$candidate-$round.json" > /dev/null
  done
done
python3 - "$work" "$levels" <<'PY'
import json, sys
work, levels = sys.argv[1], sys.argv[2].split(",")
def figures(candidate):
    out = {}
    for round in (1, 2):
        report = json.load(open(f"{work}/{candidate}-{round}.json"))
        for cand in report["candidates"]:
            for level in cand["levels"]:
                key = level["target"]
                out.setdefault(key, []).append((level["ttft_ms"]["p50"], level["e2e_ms"]["p50"], level["e2e_ms"]["p99"]))
    return out
direct, proxied = figures("direct"), figures("proxied")
print("gateway overhead on a streamed request (simulator upstream, mean of both rounds' p50 and p99)")
print(f"{'concurrency':>11}  {'TTFT p50 direct':>15}  {'via gw':>9}  {'added':>8}  {'E2E p50 direct':>14}  {'via gw':>9}  {'added':>8}  {'E2E p99 added':>13}  {'ratio':>5}")
for key in sorted(direct):
    d = sorted(direct[key]); p = sorted(proxied[key])
    dt = sum(x[0] for x in d) / len(d); pt = sum(x[0] for x in p) / len(p)
    de = sum(x[1] for x in d) / len(d); pe = sum(x[1] for x in p) / len(p)
    d99 = sum(x[2] for x in d) / len(d); p99 = sum(x[2] for x in p) / len(p)
    print(f"{key:>11}  {dt:>12.3f} ms  {pt:>6.3f} ms  {pt - dt:>5.3f} ms  {de:>11.3f} ms  {pe:>6.3f} ms  {pe - de:>5.3f} ms  {p99 - d99:>10.3f} ms  {pe / de:>5.3f}")
PY
