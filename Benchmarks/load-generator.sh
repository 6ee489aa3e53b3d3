#!/usr/bin/env bash
# Load generator benchmark against `roadtest simulate` (a separate process) on this machine:
#  - TTFT and E2E bias at 32 and 256 concurrent streams: the generator's p50 next to the p50 the simulator
#    recorded for the same requests with its own clock (the reference, measured in the same run);
#  - maximum sustained requests/s at zero latency (closed loop, 64 streams), next to wrk on the same endpoint with
#    the same request and connections in the same run (the reference: ratio = roadtest / wrk);
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
if command -v wrk > /dev/null; then
  echo "== reference: wrk on the same zero-latency SSE endpoint (64 connections, 2 threads, 10 s)"
  cat > "$work/post.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"model":"zero;reply=ok","messages":[{"role":"user","content":"benchmark prompt one"}],"stream":true,"stream_options":{"include_usage":true}}'
LUA
  wrk_rps=$(wrk -t2 -c64 -d10s -s "$work/post.lua" "http://127.0.0.1:$port/v1/chat/completions" | awk '/Requests\/sec/ {print $2}')
  roadtest_rps=$(python3 -c "import json; print(json.load(open('$work/rps64.json'))['candidates'][0]['levels'][0]['achieved_rps'])")
  python3 -c "print(f'wrk: {float(\"$wrk_rps\"):.0f} req/s; roadtest load at 64 streams: {float(\"$roadtest_rps\"):.0f} req/s; ratio roadtest/wrk = {float(\"$roadtest_rps\") / float(\"$wrk_rps\"):.3f}')"
else
  echo "(wrk not installed: apt-get install -y wrk for the reference rate)"
fi

if command -v wrk > /dev/null && command -v nginx > /dev/null; then
  echo "== reference: wrk and roadtest load on a fixed SSE response served by nginx (32 and 64 connections, 10 s each)"
  # The simulator's own cost caps both clients above; nginx answers the same SSE chunks at wire speed, so this
  # ratio is the generator's own per-request cost.
  ngx_port=$((20000 + RANDOM % 20000))
  mkdir -p "$work/nginx"
  cat > "$work/nginx/nginx.conf" <<NGINX
worker_processes 1;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  server {
    listen 127.0.0.1:$ngx_port;
    location /v1/chat/completions {
      default_type text/event-stream;
      return 200 'data: {"id":"x","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":"ok"},"finish_reason":null}]}\n\ndata: {"id":"x","object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}\n\ndata: [DONE]\n\n';
    }
  }
}
NGINX
  nginx -c "$work/nginx/nginx.conf" -p "$work/nginx" &
  ngx=$!
  trap 'kill $sim $ngx 2>/dev/null || true; rm -rf "$work"' EXIT
  sleep 1
  cat > "$work/nginx.yaml" <<YAML
name: nginx
candidates: [{id: nginx, base_url: http://127.0.0.1:$ngx_port/v1, model: m}]
cases: [{id: a, prompt: benchmark prompt one}]
YAML
  for connections in 32 64; do
    wrk_rps=$(wrk -t2 -c$connections -d10s -s "$work/post.lua" "http://127.0.0.1:$ngx_port/v1/chat/completions" | awk '/Requests\/sec/ {print $2}')
    "$roadtest" load "$work/nginx.yaml" --concurrency $connections --duration 10s --warmup 2s --json "$work/nginx.json" --store "$work/store.db" > /dev/null
    python3 - "$work/nginx.json" "$wrk_rps" "$connections" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
level = report["candidates"][0]["levels"][0]
wrk = float(sys.argv[2])
generator = report.get("generator") or {}
print(f"{sys.argv[3]:>3} connections: wrk {wrk:.0f} req/s; roadtest load {level['achieved_rps']:.0f} req/s, "
      f"errors {sum(level['errors'].values())}; ratio roadtest/wrk = {level['achieved_rps'] / wrk:.3f} "
      f"(the report's own calibrated ceiling: {generator.get('ceiling_rps', 0):.0f} req/s)")
PY
  done
  kill $ngx 2>/dev/null || true
fi

echo "== open loop at zero latency: schedule lag"
for rate in 500 1000 2000 5000; do
  "$roadtest" load "$work/suite.yaml" --rate "$rate" --duration 5s --warmup 1s --json "$work/rate$rate.json" --store "$work/store.db" > /dev/null
  python3 -c "import json,sys; l=json.load(open(sys.argv[1]))['candidates'][0]['levels'][0]; print(f'{sys.argv[2]:>5} req/s offered: {l[\"achieved_rps\"]:.0f} achieved, schedule lag p50 {l[\"schedule_lag_ms\"][\"p50\"]:.2f} p99 {l[\"schedule_lag_ms\"][\"p99\"]:.2f} ms, corrected E2E p99 {l[\"corrected_e2e_ms\"][\"p99\"]:.2f} ms')" "$work/rate$rate.json" "$rate"
done

echo "== concurrent streams (each 5 s long: 100 chunks 50 ms apart)"
suite "long;itl=50ms;reply=$(python3 -c "print(' '.join(['w']*100))")"
for streams in 256 512 1024; do
  "$roadtest" load "$work/suite.yaml" --concurrency "$streams" --duration 8s --warmup 0s --json "$work/streams$streams.json" --store "$work/store.db" > /dev/null
  python3 -c "import json,sys; l=json.load(open(sys.argv[1]))['candidates'][0]['levels'][0]; print(f'{sys.argv[2]:>5} streams: {l[\"completed\"]} completed, {l[\"in_flight_at_end\"]} in flight at end, errors {sum(l[\"errors\"].values())}, E2E p50 {l[\"e2e_ms\"][\"p50\"] or 0:.0f} ms (scripted 4950), ITL p99 {l[\"itl_ms\"][\"p99\"] or 0:.1f} ms (scripted 50)')" "$work/streams$streams.json" "$streams"
done
