#!/usr/bin/env bash
# Peak memory of one `roadtest run` process by suite size: CASES cases (a JSONL file) against the simulator's echo
# model, concurrency 32, measured as the process's peak resident set (VmHWM from /proc, Linux). The reference is
# the smallest size in the same run: the figure to watch is KB per case.
#   Benchmarks/memory.sh [SIZES=2000,10000,100000]
set -euo pipefail
sizes=${1:-2000,10000,100000}
root=$(cd "$(dirname "$0")/.." && pwd)
roadtest=${ROADTEST:-$root/.build/release/roadtest}
[ -x "$roadtest" ] || { echo "build first: swift build -c release" >&2; exit 1; }
work=$(mktemp -d)
trap 'kill $sim 2>/dev/null || true; rm -rf "$work"' EXIT
port=$((20000 + RANDOM % 20000))
"$roadtest" simulate --port "$port" > "$work/sim.log" 2>&1 &
sim=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done
printf '%8s  %10s  %12s  %10s\n' cases seconds "peak RSS MB" "KB/case"
first_rss=""; first_cases=""
for n in ${sizes//,/ }; do
  python3 -c "
import json, sys
with open('$work/cases-$n.jsonl', 'w') as f:
    for i in range($n):
        f.write(json.dumps({'id': f'c{i}', 'prompt': f'case {i}: say hello', 'checks': [{'contains': 'hello'}]}) + '\n')
"
  cat > "$work/suite-$n.yaml" <<YAML
name: memory-$n
candidates:
  - {id: echo, base_url: "http://127.0.0.1:$port/v1", model: echo, concurrency: 32, retries: 0}
cases:
  - file: cases-$n.jsonl
YAML
  start=$(date +%s.%N)
  "$roadtest" run "$work/suite-$n.yaml" --store "$work/store-$n.db" --quiet --no-progress > /dev/null &
  pid=$!
  peak=0
  while kill -0 "$pid" 2>/dev/null; do
    hwm=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
    [ -n "$hwm" ] && [ "$hwm" -gt "$peak" ] && peak=$hwm
    sleep 0.2
  done
  wait "$pid" || true
  end=$(date +%s.%N)
  python3 -c "
n, peak, secs = $n, $peak, $end - $start
print(f'{n:>8}  {secs:>10.1f}  {peak / 1024:>12.1f}  {peak / n:>10.2f}')
"
done
