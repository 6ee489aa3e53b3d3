#!/usr/bin/env bash
# Distributed throughput: CASES trials (a JSONL file, one `contains` check each) against a zero-latency endpoint
# (nginx serving a canned OpenAI stream when installed, else `roadtest simulate`), run
#   single       in one `roadtest run` process with a PostgreSQL store (the reference, measured in the same run)
#   N workers    by `roadtest run --distributed` and N `roadtest worker` processes (concurrency 32 each) on the
#                same store, for N in WORKERS
# and prints each one's trials per second and its ratio to the single process. Every worker shares this
# machine's cores with the endpoint, PostgreSQL and the others: on 2 cores, more workers cannot add CPU.
# Needs Debian's postgresql (a temporary cluster on loopback, fsync on, removed at the end).
#   Benchmarks/distributed.sh [CASES=20000] [WORKERS=1,2,4]
set -euo pipefail
cases=${1:-20000}
workers=${2:-1,2,4}
root=$(cd "$(dirname "$0")/.." && pwd)
roadtest=${ROADTEST:-$root/.build/release/roadtest}
[ -x "$roadtest" ] || { echo "build first: swift build -c release" >&2; exit 1; }
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
[ -n "$pgbin" ] || { echo "needs PostgreSQL: apt-get install -y postgresql" >&2; exit 1; }
work=$(mktemp -d)
chmod 755 "$work"
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  as_pg "$pgbin/pg_ctl" -D "$work/pg" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

port=$((20000 + RANDOM % 20000))
if command -v nginx > /dev/null; then
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
    listen 127.0.0.1:$port;
    location /v1/chat/completions {
      default_type text/event-stream;
      return 200 'data: {"id":"x","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":"hello"},"finish_reason":null}]}\n\ndata: {"id":"x","object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}\n\ndata: [DONE]\n\n';
    }
  }
}
NGINX
  nginx -c "$work/nginx/nginx.conf" -p "$work/nginx" &
  pids+=($!)
  endpoint="nginx (canned stream)"
  model=m
else
  "$roadtest" simulate --port "$port" > "$work/sim.log" 2>&1 &
  pids+=($!)
  endpoint="roadtest simulate (echo)"
  model=echo
fi
for _ in $(seq 1 100); do curl -s -o /dev/null -X POST "http://127.0.0.1:$port/v1/chat/completions" -d '{}' && break; sleep 0.1; done

pgport=$((20000 + RANDOM % 20000))
mkdir -p "$work/pg" && [ "$(id -u)" = 0 ] && chown postgres "$work" "$work/pg"
as_pg "$pgbin/initdb" -D "$work/pg" -U roadtest --auth=trust -E UTF8 --no-locale >/dev/null
as_pg "$pgbin/pg_ctl" -D "$work/pg" -l "$work/pg/log" -w -o "-p $pgport -k $work -c listen_addresses=127.0.0.1" start >/dev/null

python3 -c "
import json
with open('$work/cases.jsonl', 'w') as f:
    for i in range($cases):
        f.write(json.dumps({'id': f'c{i}', 'prompt': f'case {i}: say hello', 'checks': [{'contains': 'hello'}]}) + '\n')
"
cat > "$work/suite.yaml" <<YAML
name: distributed
candidates:
  - {id: zero, base_url: "http://127.0.0.1:$port/v1", model: $model, concurrency: 32, retries: 0}
cases:
  - file: cases.jsonl
YAML

database=0
# A new database for each row: `database=$((database + 1)); url=$(store)`.
store() { as_pg "$pgbin/createdb" -h "$work" -p "$pgport" -U roadtest "d$database"; echo "postgres://roadtest@127.0.0.1:$pgport/d$database?sslmode=disable"; }
count() { as_pg "$pgbin/psql" -h "$work" -p "$pgport" -U roadtest -d "d$database" -tAc "select count(*) from outcome"; }

echo "$cases trials against $endpoint on $(nproc) cores; PostgreSQL store"
database=$((database + 1))
url=$(store)
start=$(date +%s.%N)
"$roadtest" run "$work/suite.yaml" --store "$url" --quiet --no-progress > /dev/null
single=$(python3 -c "print($(date +%s.%N) - $start)")
printf '%-12s %8.1f s  %8.0f trials/s  ratio 1.00  (%s outcomes stored)\n' "single" "$single" \
  "$(python3 -c "print($cases / $single)")" "$(count)"

for n in ${workers//,/ }; do
  database=$((database + 1))
  url=$(store)
  start=$(date +%s.%N)
  "$roadtest" run "$work/suite.yaml" --store "$url" --distributed --quiet --no-progress > /dev/null 2> "$work/coordinator-$n.log" &
  coordinator=$!
  until grep -q "trials queued" "$work/coordinator-$n.log" 2>/dev/null; do sleep 0.1; done
  started=()
  for _ in $(seq 1 "$n"); do
    "$roadtest" worker --store "$url" --concurrency 32 --idle 3 --no-progress > /dev/null 2>&1 &
    started+=($!)
    pids+=($!)
  done
  wait "$coordinator" || true
  secs=$(python3 -c "print($(date +%s.%N) - $start)")
  for pid in "${started[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait "${started[@]}" 2>/dev/null || true
  printf '%-12s %8.1f s  %8.0f trials/s  ratio %.2f  (%s outcomes stored)\n' "$n worker(s)" "$secs" \
    "$(python3 -c "print($cases / $secs)")" "$(python3 -c "print($single / $secs)")" "$(count)"
done
