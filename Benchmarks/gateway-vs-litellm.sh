#!/usr/bin/env bash
# The gateway side by side with the upstream alone and with LiteLLM's proxy, in one run on this machine:
# an nginx canned reply is the upstream (a JSON chat completion, or an SSE stream of 8 chunks); wrk (Debian) drives
# each path for DURATION seconds per point: JSON at c=1, c=10 and c=64, SSE at c=64. Prints p50/p99 latency,
# requests per second, the gateway's overhead over the direct path, ratios against nginx in the same run, and RSS.
#   Benchmarks/gateway-vs-litellm.sh              (needs: nginx, wrk; LiteLLM optional: LITELLM=/path/to/litellm)
#   DURATION=8 REPEAT=3 ROADTEST=.build/release/roadtest LITELLM=/tmp/litellm/venv/bin/litellm Benchmarks/gateway-vs-litellm.sh
# REPEAT=N measures every point N times (paths interleaved) and reports medians.
set -euo pipefail
duration=${DURATION:-8}
root=$(cd "$(dirname "$0")/.." && pwd)
roadtest=${ROADTEST:-$root/.build/release/roadtest}
litellm=${LITELLM:-$(command -v litellm || true)}
[ -x "$roadtest" ] || { echo "build first: swift build -c release" >&2; exit 1; }
command -v wrk >/dev/null || { echo "needs wrk (apt-get install wrk)" >&2; exit 1; }
nginx=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$nginx" ] || { echo "needs nginx (apt-get install nginx-light)" >&2; exit 1; }
work=$(mktemp -d)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; "$nginx" -p "$work" -c nginx.conf -s stop 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
base=$((20000 + RANDOM % 20000))
json_port=$base; sse_port=$((base + 1)); gateway_port=$((base + 2)); litellm_port=$((base + 3))

completion='{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"Paris is the capital of France."},"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":8,"total_tokens":20}}'
# The SSE body as nginx reads it from a single-quoted string: \n escapes, double quotes as they are.
sse=""
for word in Paris is the capital of France . ""; do
  sse+='data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"'"$word"' "},"finish_reason":null}]}\n\n'
done
sse+='data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":8,"total_tokens":20}}\n\ndata: [DONE]\n\n'
mkdir -p "$work/logs"
cat > "$work/nginx.conf" <<NGINX
worker_processes 1;
pid $work/nginx.pid;
error_log $work/logs/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  client_body_temp_path $work/tmp;
  server { listen 127.0.0.1:$json_port;
    location / { default_type application/json; return 200 '$completion'; } }
  server { listen 127.0.0.1:$sse_port;
    location / { default_type text/event-stream; return 200 '$sse'; } }
}
NGINX
mkdir -p "$work/tmp"
"$nginx" -p "$work" -c nginx.conf

cat > "$work/policy.yaml" <<YAML
candidates:
  - {id: json, base_url: "http://127.0.0.1:$json_port/v1", model: m, retries: 0}
  - {id: sse, base_url: "http://127.0.0.1:$sse_port/v1", model: m, retries: 0}
routes:
  - {name: json, candidate: json}
  - {name: sse, candidate: sse}
YAML
"$roadtest" gateway --policy "$work/policy.yaml" --listen "127.0.0.1:$gateway_port" --store "$work/gateway.db" \
  --log-level error 2> "$work/gateway.log" &
gateway_pid=$!; pids+=("$gateway_pid")

litellm_pid=""
if [ -n "$litellm" ] && [ -x "$litellm" ]; then
  cat > "$work/litellm.yaml" <<YAML
model_list:
  - model_name: json
    litellm_params: {model: openai/m, api_base: "http://127.0.0.1:$json_port/v1", api_key: none}
  - model_name: sse
    litellm_params: {model: openai/m, api_base: "http://127.0.0.1:$sse_port/v1", api_key: none}
general_settings: {master_key: sk-bench}
litellm_settings: {set_verbose: false, drop_params: true}
YAML
  LITELLM_LOG=ERROR "$litellm" --config "$work/litellm.yaml" --host 127.0.0.1 --port "$litellm_port" --num_workers 1 \
    > "$work/litellm.log" 2>&1 &
  litellm_pid=$!; pids+=("$litellm_pid")
fi

wait_for() { for _ in $(seq 1 600); do curl -sf -o /dev/null "$1" && return 0; sleep 0.1; done; echo "not up: $1" >&2; return 1; }
wait_for "http://127.0.0.1:$gateway_port/health"
[ -n "$litellm_pid" ] && { wait_for "http://127.0.0.1:$litellm_port/health/liveliness" || litellm_pid=""; }

for kind in json sse; do
  stream=false; [ "$kind" = sse ] && stream=true
  cat > "$work/$kind.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer sk-bench"
wrk.body = '{"model": "$kind", "stream": $stream, "messages": [{"role": "user", "content": "What is the capital of France?"}]}'
done = function(summary, latency, requests)
  io.write(string.format("RESULT %.1f %.3f %.3f %d %d\n", summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, summary.errors.status + summary.errors.connect
    + summary.errors.read + summary.errors.write + summary.errors.timeout, summary.requests))
end
LUA
done

# One point: path (direct|roadtest|litellm), kind, connections -> "rps p50 p99 errors requests"
point() {
  local path=$1 kind=$2 connections=$3 url
  case "$path" in
    direct) [ "$kind" = json ] && url="http://127.0.0.1:$json_port/v1/chat/completions" || url="http://127.0.0.1:$sse_port/v1/chat/completions" ;;
    roadtest) url="http://127.0.0.1:$gateway_port/v1/chat/completions" ;;
    litellm) url="http://127.0.0.1:$litellm_port/v1/chat/completions" ;;
  esac
  local threads=1; [ "$connections" -ge 2 ] && threads=2
  wrk -t"$threads" -c"$connections" -d"${duration}s" --timeout 10s -s "$work/$kind.lua" "$url" 2>/dev/null \
    | awk '/^RESULT/ {print $2, $3, $4, $5, $6}'
}

paths="direct roadtest"; [ -n "$litellm_pid" ] && paths+=" litellm"
# Warm up every path (connection pools, JIT-free but caches and allocators), then measure.
for path in $paths; do DURATION_SAVE=$duration; duration=2; point "$path" json 8 >/dev/null; point "$path" sse 8 >/dev/null; duration=$DURATION_SAVE; done
# REPEAT rounds, the paths interleaved within each point; the table shows each figure's median over the rounds (a
# shared machine's noise moves single runs by 10-20%).
repeat=${REPEAT:-1}
declare -A result
for round in $(seq 1 "$repeat"); do
  for spec in "json 1" "json 10" "json 64" "sse 64"; do
    set -- $spec
    for path in $paths; do
      result["$path $1 $2"]+="$(point "$path" "$1" "$2");"
    done
  done
done
rss() { [ -n "$1" ] && awk '/VmRSS/ {printf "%d MB", $2/1024}' "/proc/$1/status" 2>/dev/null || echo "-"; }
# LiteLLM runs its workers as children: the largest RSS among the process and its children.
tree_rss() {
  local total=0 pid
  for pid in $1 $(pgrep -P "$1" 2>/dev/null); do
    local kb; kb=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0); total=$((total + kb))
  done
  echo "$((total / 1024)) MB"
}
gateway_rss=$(rss "$gateway_pid"); litellm_rss=$([ -n "$litellm_pid" ] && tree_rss "$litellm_pid" || echo "-")

python3 - "$paths" "$gateway_rss" "$litellm_rss" "$duration" "$repeat" <<PY
import sys
paths = sys.argv[1].split()
rss = {"direct": "-", "roadtest": sys.argv[2], "litellm": sys.argv[3]}
raw = {
$(for key in "${!result[@]}"; do echo "    \"$key\": \"${result[$key]}\","; done)
}
def get(path, kind, c):
    rounds = [r.split() for r in raw.get(f"{path} {kind} {c}", "").split(";")]
    rounds = [r for r in rounds if len(r) >= 5]
    if not rounds: return None
    median = lambda values: sorted(values)[len(values) // 2]
    return {"rps": median([float(r[0]) for r in rounds]), "p50": median([float(r[1]) for r in rounds]),
            "p99": median([float(r[2]) for r in rounds]), "errors": sum(int(r[3]) for r in rounds),
            "requests": sum(int(r[4]) for r in rounds)}
names = {"direct": "nginx direct", "roadtest": "Roadtest gateway", "litellm": "LiteLLM proxy"}
print(f"wrk, {sys.argv[4]} s per point, median of {sys.argv[5]} round(s); upstream: nginx canned reply; one run, same machine")
print()
print("| path | JSON c=1 p50 | JSON c=1 p99 | JSON c=10 p50 | JSON c=64 req/s | SSE c=64 req/s | RSS | errors |")
print("|---|---|---|---|---|---|---|---|")
for path in paths:
    j1, j10, j64, s64 = get(path, "json", 1), get(path, "json", 10), get(path, "json", 64), get(path, "sse", 64)
    fmt = lambda p, k, f: (f % p[k]) if p else "-"
    errors = sum(p["errors"] for p in (j1, j10, j64, s64) if p)
    print(f"| {names[path]} | {fmt(j1,'p50','%.3f ms')} | {fmt(j1,'p99','%.3f ms')} | {fmt(j10,'p50','%.3f ms')} | "
          f"{fmt(j64,'rps','%.0f')} | {fmt(s64,'rps','%.0f')} | {rss[path]} | {errors} |")
print()
d1, g1 = get("direct", "json", 1), get("roadtest", "json", 1)
d10, g10 = get("direct", "json", 10), get("roadtest", "json", 10)
d64, g64 = get("direct", "json", 64), get("roadtest", "json", 64)
ds, gs = get("direct", "sse", 64), get("roadtest", "sse", 64)
if all((d1, g1, d10, g10, d64, g64, ds, gs)):
    over1, over10 = g1["p50"] - d1["p50"], g10["p50"] - d10["p50"]
    print(f"Roadtest overhead over direct: p50 {over1:.3f} ms at c=1 (p99 {g1['p99']:.3f} ms vs {d1['p99']:.3f} ms), "
          f"p50 {over10:.3f} ms at c=10 ({over10 / over1 if over1 > 0 else float('nan'):.2f}x the c=1 overhead)")
    print(f"Roadtest throughput / nginx direct: JSON c=64 {g64['rps'] / d64['rps']:.3f}x, SSE c=64 {gs['rps'] / ds['rps']:.3f}x")
    l64, ls = get("litellm", "json", 64), get("litellm", "sse", 64)
    if l64 and ls:
        print(f"Roadtest / LiteLLM: JSON c=64 {g64['rps'] / l64['rps']:.1f}x, SSE c=64 {gs['rps'] / ls['rps']:.1f}x")
PY
