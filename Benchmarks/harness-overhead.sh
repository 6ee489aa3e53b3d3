#!/usr/bin/env bash
# Harness overhead: wall time of an N-case `roadtest run` against the simulator at zero latency, next to the
# same requests sent by a plain concurrent client (xargs -P with curl), measured in the same run.
#   Benchmarks/harness-overhead.sh [CASES=500] [CONCURRENCY=8]
set -euo pipefail
cases=${1:-500}
concurrency=${2:-8}
root=$(cd "$(dirname "$0")/.." && pwd)
roadtest=${ROADTEST:-$root/.build/release/roadtest}
[ -x "$roadtest" ] || { echo "build first: swift build -c release" >&2; exit 1; }
work=$(mktemp -d)
trap 'kill $sim 2>/dev/null || true; rm -rf "$work"' EXIT
port=$((20000 + RANDOM % 20000))
"$roadtest" simulate --port "$port" > "$work/sim.log" 2>&1 &
sim=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done

{
  echo "name: overhead"
  echo "candidates: [{id: sim, base_url: http://127.0.0.1:$port/v1, model: echo, concurrency: $concurrency}]"
  echo "defaults: {max_tokens: 16, retries: 0}"
  echo "cases:"
  for i in $(seq 1 "$cases"); do echo "  - {id: c$i, prompt: hello number $i of the benchmark, checks: [{contains: hello}]}"; done
} > "$work/suite.yaml"
for i in $(seq 1 "$cases"); do
  printf '{"model":"echo","messages":[{"role":"user","content":"hello number %s of the benchmark"}],"max_tokens":16,"stream":true,"stream_options":{"include_usage":true}}\n' "$i"
done > "$work/bodies.jsonl"

now() { date +%s.%N; }
# Warm both paths once.
curl -s -o /dev/null "http://127.0.0.1:$port/v1/chat/completions" -H 'Content-Type: application/json' -d "$(head -1 "$work/bodies.jsonl")"

start=$(now)
(cd "$work" && "$roadtest" run suite.yaml --quiet --no-progress --store "$work/store.db") || true
roadtest_s=$(echo "$(now) - $start" | bc -l)

start=$(now)
tr '\n' '\0' < "$work/bodies.jsonl" | xargs -0 -P "$concurrency" -I{} curl -s -o /dev/null -N \
  "http://127.0.0.1:$port/v1/chat/completions" -H 'Content-Type: application/json' -d {}
curl_s=$(echo "$(now) - $start" | bc -l)

stored=$(sqlite3 "$work/store.db" "select count(*) from outcome" 2>/dev/null || echo "?")
printf 'cases=%s concurrency=%s\n' "$cases" "$concurrency"
printf 'roadtest run (parse, grade, store every trial): %.3fs (%s outcomes stored)\n' "$roadtest_s" "$stored"
printf 'xargs -P %s curl (send and discard):          %.3fs\n' "$concurrency" "$curl_s"
printf 'ratio roadtest/curl: %.2f  (per request: roadtest %.2f ms, curl %.2f ms)\n' \
  "$(echo "$roadtest_s / $curl_s" | bc -l)" "$(echo "$roadtest_s * 1000 / $cases" | bc -l)" "$(echo "$curl_s * 1000 / $cases" | bc -l)"
