#!/usr/bin/env bash
# Load generator benchmark against `roadtest simulate` (a separate process) on this machine:
#  - TTFT and E2E bias at 32 and 256 concurrent streams: the generator's p50 next to the p50 the simulator
#    recorded for the same requests with its own clock (the reference, measured in the same run);
#  - maximum sustained requests/s at zero latency (closed loop, 64 streams);
#  - maximum concurrent streams: long streams at rising concurrency until errors or in-flight losses appear.
#   Benchmarks/load-generator.sh   (needs: swift build -c release)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
roadtest=${ROADTEST:-$root/.build/release/roadtest}
[ -x "$roadtest" ] || { echo "build first: swift build -c release" >&2; exit 1; }
work=$(mktemp -d)
trap 'kill $sim 2>/dev/null || true; rm -rf "$work"' EXIT
port=$((20000 + RANDOM % 20000))
"$roadtest" simulate --port "$port" > "$work/sim.log" 2>&1 &
sim=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done

suite() { # model
  cat > "$work/suite.yaml" <<YAML
name: bench
candidates: [{id: sim, base_url: http://127.0.0.1:$port/v1, model: "$1"}]
defaults: {timeout: 120s}
cases:
  - {id: a, prompt: benchmark prompt one}
  - {id: b, prompt: benchmark prompt two}
YAML
}

bias() { # streams
  suite "bias$1;ttft=50ms;itl=10ms;reply=one two three four five six seven eight nine ten"
  curl -s -X DELETE "http://127.0.0.1:$port/_sim/requests" > /dev/null
  "$roadtest" load "$work/suite.yaml" --concurrency "$1" --duration 10s --warmup 2s --json "$work/bias$1.json" --store "$work/store.db" > /dev/null
  curl -s "http://127.0.0.1:$port/_sim/requests" > "$work/served$1.json"
  python3 - "$work/bias$1.json" "$work/served$1.json" "$1" <<'PY'
import json, sys
level = json.load(open(sys.argv[1]))["candidates"][0]["levels"][0]
served = json.load(open(sys.argv[2]))
def median(values):
    values = sorted(values); return values[len(values) // 2]
server_ttft = median([(r["firstContentAt"] - r["receivedAt"]) / 1e6 for r in served if r.get("firstContentAt")])
server_e2e = median([(r["lastContentAt"] - r["receivedAt"]) / 1e6 for r in served if r.get("lastContentAt")])
print(f"{sys.argv[3]:>4} streams: TTFT p50 {level['ttft_ms']['p50']:.2f} ms vs simulator {server_ttft:.2f} ms (bias {level['ttft_ms']['p50'] - server_ttft:+.2f} ms, scripted 50); "
      f"E2E p50 {level['e2e_ms']['p50']:.2f} vs {server_e2e:.2f} ms (bias {level['e2e_ms']['p50'] - server_e2e:+.2f} ms, scripted 140); "
      f"p99 TTFT {level['ttft_ms']['p99']:.1f} ms; {level['completed']} requests, {level['achieved_rps']:.1f} req/s, errors {sum(level['errors'].values())}")
PY
}

echo "== TTFT / E2E bias against the simulator's own timestamps"
bias 32
bias 256

echo "== maximum sustained requests/s at zero latency (closed loop)"
suite "zero;reply=ok"
for streams in 16 64; do
  "$roadtest" load "$work/suite.yaml" --concurrency "$streams" --duration 10s --warmup 2s --json "$work/rps$streams.json" --store "$work/store.db" > /dev/null
  python3 -c "import json,sys; l=json.load(open(sys.argv[1]))['candidates'][0]['levels'][0]; print(f'{sys.argv[2]:>4} streams: {l[\"achieved_rps\"]:.0f} req/s, E2E p50 {l[\"e2e_ms\"][\"p50\"]:.2f} ms p99 {l[\"e2e_ms\"][\"p99\"]:.2f} ms, errors {sum(l[\"errors\"].values())}')" "$work/rps$streams.json" "$streams"
done
echo "== open loop at zero latency: schedule lag"
for rate in 500 1000 2000; do
  "$roadtest" load "$work/suite.yaml" --rate "$rate" --duration 5s --warmup 1s --json "$work/rate$rate.json" --store "$work/store.db" > /dev/null
  python3 -c "import json,sys; l=json.load(open(sys.argv[1]))['candidates'][0]['levels'][0]; print(f'{sys.argv[2]:>5} req/s offered: {l[\"achieved_rps\"]:.0f} achieved, schedule lag p50 {l[\"schedule_lag_ms\"][\"p50\"]:.2f} p99 {l[\"schedule_lag_ms\"][\"p99\"]:.2f} ms, corrected E2E p99 {l[\"corrected_e2e_ms\"][\"p99\"]:.2f} ms')" "$work/rate$rate.json" "$rate"
done

echo "== concurrent streams (each 5 s long: 100 chunks 50 ms apart)"
suite "long;itl=50ms;reply=$(python3 -c "print(' '.join(['w']*100))")"
for streams in 256 512 1024; do
  "$roadtest" load "$work/suite.yaml" --concurrency "$streams" --duration 8s --warmup 0s --json "$work/streams$streams.json" --store "$work/store.db" > /dev/null
  python3 -c "import json,sys; l=json.load(open(sys.argv[1]))['candidates'][0]['levels'][0]; print(f'{sys.argv[2]:>5} streams: {l[\"completed\"]} completed, {l[\"in_flight_at_end\"]} in flight at end, errors {sum(l[\"errors\"].values())}, E2E p50 {l[\"e2e_ms\"][\"p50\"] or 0:.0f} ms (scripted 4950), ITL p99 {l[\"itl_ms\"][\"p99\"] or 0:.1f} ms (scripted 50)')" "$work/streams$streams.json" "$streams"
done
