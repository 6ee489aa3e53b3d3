#!/usr/bin/env bash
# libFuzzer at volume over the decoders: builds the fuzz package (Fuzz/, release, with -sanitize=fuzzer,address on
# every module it builds, the root's included, so coverage and ASan reach RoadtestWire, RoadtestCore, RoadtestSuite
# and RoadtestProviders), then runs each target for RUNS inputs, one target at a time, starting from a scratch copy of
# its seed corpus (Fuzz/Corpus/TARGET/ is never written). Targets (Fuzz/Sources/Fuzz*/):
#   sse          ServerSentEventParser, fed in chunks; the events must not depend on the chunking
#   eventstream  EventStreamDecoder, fed in chunks; the same outcome at once, errors final, messages re-encode
#   json         JSONValue.parse(Data); no infinity parsed; jsonText and jsonBytes parse back to the same value
#   csv          the CSV case-file reader, through SuiteLoader().load(yaml:path:) on a suite naming the input
#   suite        SuiteLoader().load(yaml:path:) on the input
#   openai anthropic responses bedrock gemini
#                each provider's WireStreamDecoder over the input as its stream (and, bedrock, as a message
#                script it frames itself) and decodeBody over it as a body; openai also holds the one-pass
#                parser to the Codable decoder (chunks, completions, requests)
# Per target it prints the inputs executed, wall seconds, executions per second, crashes (0/1) and the crashing
# input's path; it exits non-zero if any target crashed, timed out (10 s on one input), went over 4 GiB, or a
# sanitizer or property check (an oracle) fired. Logs and crash inputs stay in Fuzz/.build/fuzz/.
# How long: the first build ~6 minutes on 2 cores (swift-crypto's BoringSSL, NIO and the root's modules under ASan;
# then seconds); 1,000,000 inputs take 1 to 4 minutes per target, but about 15 for suite and 30 for csv (each input
# is a suite load), about 75 minutes for all of them (on 2 cores shared with another build).
#   Benchmarks/fuzz.sh [RUNS=1000000] [TARGET...]
# Reproduce a crash (runs the one input, prints the stack): Fuzz/.build/release/FuzzJSON Fuzz/.build/fuzz/json/crash-…
# Shrink it: Fuzz/.build/release/FuzzJSON -minimize_crash=1 -runs=100000 CRASH; FUZZ_SKIP_ORACLES=NAME (or all) fuzzes
# past a known property failure; FUZZ_VERBOSE=1 makes csv and suite say what an input came to.
set -euo pipefail
runs=${1:-1000000}
shift $(($# > 0 ? 1 : 0))
root=$(cd "$(dirname "$0")/.." && pwd)
swift=${SWIFT:-swift}
all=(sse eventstream json csv suite openai anthropic responses bedrock gemini)
targets=("${@:-${all[@]}}")
executable() {
  case "$1" in
    sse) echo FuzzSSE ;; eventstream) echo FuzzEventStream ;; json) echo FuzzJSON ;; csv) echo FuzzCSV ;;
    suite) echo FuzzSuite ;; openai) echo FuzzOpenAI ;; anthropic) echo FuzzAnthropic ;;
    responses) echo FuzzResponses ;; bedrock) echo FuzzBedrock ;; gemini) echo FuzzGemini ;;
    *) echo "unknown target $1 (one of: ${all[*]})" >&2; exit 2 ;;
  esac
}
for target in "${targets[@]}"; do executable "$target" > /dev/null; done

# Not `--sanitize fuzzer --sanitize address`: SwiftPM passes them to swiftc as two -sanitize= options, of which swiftc
# keeps the last, in an order that changes from run to run (a Set): Swift code would get coverage or ASan, not both,
# and each run would rebuild everything. --sanitize fuzzer keeps SwiftPM's libFuzzer linking (libFuzzer's main); the
# one -sanitize=fuzzer,address after it gives Swift code both, and -fsanitize=address joins clang's -fsanitize=fuzzer.
build=("$swift" build --package-path "$root/Fuzz" -c release --sanitize fuzzer -Xswiftc -sanitize=fuzzer,address
  -Xcc -fsanitize=address)
started=$(date +%s)
"${build[@]}"
echo "built in $(($(date +%s) - started)) s"
bin=$("${build[@]}" --show-bin-path)
# Symbolised stacks: the toolchain's llvm-symbolizer, next to swift.
toolchain=$(dirname "$(readlink -f "$(command -v "$swift")")")
[ -x "$toolchain/llvm-symbolizer" ] && export ASAN_SYMBOLIZER_PATH="$toolchain/llvm-symbolizer"
# libFuzzer reports a crash itself (and writes the input): not Swift's backtracer, which holds the process for seconds.
export SWIFT_BACKTRACE=enable=no
# Leaks in the toolchain's own libraries, not Roadtest's (see the file).
export LSAN_OPTIONS=${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$root/Fuzz/lsan.supp

out=$root/Fuzz/.build/fuzz
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
failed=0
results=()
for target in "${targets[@]}"; do
  rm -rf "${out:?}/$target"
  mkdir -p "$out/$target" "$scratch/$target"
  cp "$root/Fuzz/Corpus/$target/"* "$scratch/$target/"
  log=$out/$target/fuzz.log
  echo "== $target: $runs inputs (log: ${log#"$root"/})"
  begin=$(date +%s.%N)
  status=0
  "$bin/$(executable "$target")" "$scratch/$target" -runs="$runs" -timeout=10 -rss_limit_mb=4096 \
    -print_final_stats=1 -artifact_prefix="$out/$target/" > "$log" 2>&1 || status=$?
  end=$(date +%s.%N)
  executed=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  executed=${executed:-0}
  artifact=$(find "$out/$target" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' \
    -o -name 'leak-*' \) | head -1)
  crashed=0
  if [ "$status" -ne 0 ] || [ -n "$artifact" ]; then
    crashed=1
    failed=1
    echo "!! $target failed (exit $status); the report:"
    grep -E 'ERROR:|Fatal error|SUMMARY|oracle ' "$log" | head -5 || true
    grep -E '^ *#[0-9]+ ' "$log" | head -25 | "$swift" demangle --simplified || true
    echo "   input: ${artifact:-none written}"
    [ -n "$artifact" ] && echo "   hex: $(head -c 256 "$artifact" | od -An -tx1 | tr -d ' \n')"
  fi
  results+=("$(awk -v t="$target" -v n="$executed" -v b="$begin" -v e="$end" -v c="$crashed" -v a="${artifact:-}" \
    'BEGIN { s = e - b; printf "%-12s %10d %9.1f %9.0f %7d  %s", t, n, s, (s > 0 ? n / s : 0), c, a }')")
  echo "${results[-1]}"
done
echo
printf '%-12s %10s %9s %9s %7s  %s\n' target inputs seconds exec/s crashes artifact
printf '%s\n' "${results[@]}"
exit "$failed"
