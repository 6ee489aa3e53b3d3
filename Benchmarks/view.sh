#!/usr/bin/env bash
# How fast `roadtest view` opens a large run: TRIALS trials (a JSONL of cases, every third one failing) run against
# the simulator's echo model into a SQLite store, then the viewer's pages timed with curl (median of 5 requests
# each): the runs list, the run's first page (its scorecards are folded from every stored outcome), the failed
# trials only, a text search, the last page, and one trial. The reference is the same store's `roadtest report`
# (the terminal scorecard, which folds the same outcomes) measured in the same run.
#   Benchmarks/view.sh [TRIALS=100000]
set -euo pipefail
trials=${1:-100000}
root=$(cd "$(dirname "$0")/.." && pwd)
roadtest=${ROADTEST:-$root/.build/release/roadtest}
[ -x "$roadtest" ] || { echo "build first: swift build -c release" >&2; exit 1; }
work=$(mktemp -d)
cleanup() { kill "${sim:-}" "${view:-}" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
port=$((20000 + RANDOM % 20000))
"$roadtest" simulate --port "$port" > "$work/sim.log" 2>&1 &
sim=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done
python3 - "$work/cases.jsonl" "$trials" <<'PY'
import json, sys
path, n = sys.argv[1], int(sys.argv[2])
with open(path, "w") as out:
    for i in range(n):
        word = "needle" if i % 3 else "haystack"
        out.write(json.dumps({"id": f"c{i}", "prompt": f"Say {word} {i}", "tags": [f"t{i % 7}"],
                              "checks": [{"contains": "needle"}]}) + "\n")
PY
cat > "$work/suite.yaml" <<YAML
name: view-bench
candidates:
  - {id: sim, base_url: "http://127.0.0.1:$port/v1", model: echo, concurrency: 64}
cases:
  - file: cases.jsonl
YAML
started=$(date +%s)
(cd "$work" && "$roadtest" run suite.yaml --store runs.db --quiet > /dev/null) || [ $? -eq 100 ]
echo "run of $trials trials: $(($(date +%s) - started)) s"
vport=$((20000 + RANDOM % 20000))
"$roadtest" view --store "$work/runs.db" --listen "127.0.0.1:$vport" > "$work/view.log" 2>&1 &
view=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$vport/" >/dev/null && break; sleep 0.1; done
run=$(curl -sf "http://127.0.0.1:$vport/" | grep -o 'href="/runs/[^"]*"' | head -1 | cut -d/ -f3 | tr -d '"')
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
time_of() {
  for _ in 1 2 3 4 5; do curl -s -o /dev/null -w '%{time_total}\n' "$1"; done | median
}
reference=$( { /usr/bin/time -f '%e' "$roadtest" report "$run" --store "$work/runs.db" > /dev/null; } 2>&1 | tail -1)
printf '%-34s %8s s\n' "roadtest report (reference)" "$reference"
base="http://127.0.0.1:$vport"
for page in "/" "/runs/$run" "/runs/$run?passed=no" "/runs/$run?q=haystack%2099" "/runs/$run?tag=t3&passed=no" \
  "/runs/$run?page=$(((trials + 49) / 50))" "/runs/$run/trial?candidate=sim&case=c99999&sample=0&variant=original"; do
  seconds=$(time_of "$base$page")
  ratio=$(awk -v a="$seconds" -v b="$reference" 'BEGIN { printf "%.2f", a / b }')
  printf '%-34s %8s s  %sx the report\n' "${page:0:34}" "$seconds" "$ratio"
done
