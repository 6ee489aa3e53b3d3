#!/usr/bin/env bash
# Peak memory by suite size: CASES cases (a JSONL file) against the simulator's echo model, measured as each
# process's peak resident set (VmHWM from /proc, Linux), for
#   run          one `roadtest run` process with a SQLite store (concurrency 32)
#   coordinator  `roadtest run --distributed` with a PostgreSQL store
#   worker       one `roadtest worker` (concurrency 32) doing every trial of that run
# The distributed rows need Debian's postgresql (a temporary cluster is started on loopback and removed).
# The reference is the smallest size in the same run: the figure to watch is KB per case.
#   Benchmarks/memory.sh [SIZES=10000,100000]
set -euo pipefail
sizes=${1:-10000,100000}
root=$(cd "$(dirname "$0")/.." && pwd)
roadtest=${ROADTEST:-$root/.build/release/roadtest}
[ -x "$roadtest" ] || { echo "build first: swift build -c release" >&2; exit 1; }
work=$(mktemp -d)
chmod 755 "$work"
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
cleanup() {
  kill "$sim" 2>/dev/null || true
  [ -n "${pgport:-}" ] && as_pg "$pgbin/pg_ctl" -D "$work/pg" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
port=$((20000 + RANDOM % 20000))
"$roadtest" simulate --port "$port" > "$work/sim.log" 2>&1 &
sim=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done

if [ -n "$pgbin" ]; then
  pgport=$((20000 + RANDOM % 20000))
  mkdir -p "$work/pg" && [ "$(id -u)" = 0 ] && chown postgres "$work" "$work/pg"
  as_pg "$pgbin/initdb" -D "$work/pg" -U roadtest --auth=trust -E UTF8 --no-locale >/dev/null
  as_pg "$pgbin/pg_ctl" -D "$work/pg" -l "$work/pg/log" -w -o "-p $pgport -k $work -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
fi

# Peak RSS (KB) of a process until it exits.
peak_of() {
  local pid=$1 peak=0 hwm
  while kill -0 "$pid" 2>/dev/null; do
    hwm=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
    [ -n "$hwm" ] && [ "$hwm" -gt "$peak" ] && peak=$hwm
    sleep 0.2
  done
  echo "$peak"
}

printf '%-12s %8s  %10s  %12s  %10s\n' process cases seconds "peak RSS MB" "KB/case"
row() { python3 -c "print(f'{\"$1\":<12} {$2:>8}  {$3:>10.1f}  {$4 / 1024:>12.1f}  {$4 / $2:>10.2f}')"; }
for n in ${sizes//,/ }; do
  python3 -c "
import json
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
  peak=$(peak_of $!)
  row run "$n" "$(python3 -c "print($(date +%s.%N) - $start)")" "$peak"

  [ -n "${pgport:-}" ] || continue
  as_pg "$pgbin/createdb" -h "$work" -p "$pgport" -U roadtest "m$n"
  url="postgres://roadtest@127.0.0.1:$pgport/m$n?sslmode=disable"
  start=$(date +%s.%N)
  "$roadtest" run "$work/suite-$n.yaml" --store "$url" --distributed --quiet --no-progress > /dev/null 2> "$work/coordinator-$n.log" &
  coordinator=$!
  # The worker starts once the trials are queued (it exits after --idle seconds without work).
  until grep -q "trials queued" "$work/coordinator-$n.log" 2>/dev/null; do sleep 0.2; done
  "$roadtest" worker --store "$url" --concurrency 32 --idle 5 --no-progress > /dev/null 2>&1 &
  worker=$!
  peak_of "$worker" > "$work/worker-peak" &
  watcher=$!
  cpeak=$(peak_of "$coordinator")
  wait "$coordinator" "$worker" "$watcher" || true
  secs=$(python3 -c "print($(date +%s.%N) - $start)")
  row coordinator "$n" "$secs" "$cpeak"
  row worker "$n" "$secs" "$(cat "$work/worker-peak")"
done
