#!/usr/bin/env bash
# What exporting traces costs a run: TRIALS trials against the simulator's zero-latency echo model (concurrency 32,
# SQLite store), run ROUNDS times without and with OTEL_EXPORTER_OTLP_ENDPOINT set (interleaved), the exporter
# sending to the tests' OTLP receiver (Tests/scripts/otlp_receiver.py, `make pyclients` first). Prints each
# round's wall seconds, the medians, the ratio with/without, and the spans the receiver decoded (3 per trial: trial,
# attempt; plus one run span per run).
#   Benchmarks/otel.sh [TRIALS=5000] [ROUNDS=3]
set -euo pipefail
trials=${1:-5000}
rounds=${2:-3}
root=$(cd "$(dirname "$0")/.." && pwd)
roadtest=${ROADTEST:-$root/.build/release/roadtest}
python=$root/.build/pyclients/bin/python
[ -x "$roadtest" ] && [ -x "$python" ] || { echo "build first (swift build -c release; make pyclients)" >&2; exit 1; }
work=$(mktemp -d)
cleanup() { kill "${sim:-}" "${receiver:-}" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
port=$((20000 + RANDOM % 20000))
"$roadtest" simulate --port "$port" > "$work/sim.log" 2>&1 &
sim=$!
oport=$((20000 + RANDOM % 20000))
"$python" "$root/Tests/scripts/otlp_receiver.py" --port "$oport" --out "$work/spans.jsonl" > "$work/receiver.log" 2>&1 &
receiver=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done
python3 -c "
import json
with open('$work/cases.jsonl', 'w') as out:
    for i in range($trials): out.write(json.dumps({'id': f'c{i}', 'prompt': f'Say {i}', 'checks': [{'contains': str(i)}]}) + '\n')
"
cat > "$work/suite.yaml" <<YAML
name: otel-bench
candidates:
  - {id: sim, base_url: "http://127.0.0.1:$port/v1", model: echo, concurrency: 32}
cases:
  - file: cases.jsonl
YAML
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
: > "$work/without"; : > "$work/with"
for round in $(seq 1 "$rounds"); do
  for mode in without with; do
    rm -f "$work/runs.db"*
    start=$(date +%s.%N)
    if [ "$mode" = with ]; then
      (cd "$work" && OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$oport" "$roadtest" run suite.yaml --store runs.db --quiet >/dev/null)
    else
      (cd "$work" && "$roadtest" run suite.yaml --store runs.db --quiet >/dev/null)
    fi
    seconds=$(echo "$(date +%s.%N) - $start" | bc)
    echo "$seconds" >> "$work/$mode"
    printf 'round %d %-8s %6.2f s\n' "$round" "$mode" "$seconds"
  done
done
without=$(median < "$work/without"); with=$(median < "$work/with")
printf 'median without %.2f s, with %.2f s: %.2fx\n' "$without" "$with" "$(echo "$with / $without" | bc -l)"
spans=$(python3 -c "
import json
n = 0
for line in open('$work/spans.jsonl'):
    d = json.loads(line)
    for rs in d.get('traces', {}).get('resourceSpans', []):
        for ss in rs['scopeSpans']: n += len(ss['spans'])
print(n)")
echo "spans received: $spans (expected $(( (2 * trials + 1) * rounds )))"
