#!/usr/bin/env bash
# One benchmark run under Linux perf, with every JavaScript frame named by V8's
# jitdump (bench/README.md, "CPU time with perf").
#
# Why jitdump and not --perf-basic-prof: the /tmp/perf-<pid>.map that
# --perf-basic-prof writes lists every code object ever created, and V8 frees and
# reuses code memory as it optimises and deoptimises, so perf names an address with
# whatever function once lived there. Measured here: socket writes of Haraka's
# respond() were reported as node:internal/process processPromiseRejections, and a
# package's one-line arrow function as 150 us per message. --perf-prof writes a
# jitdump with the time of each code creation; `perf inject --jit` matches each
# sample to the code that was there at that moment.
#
# Usage: [BENCH_* settings] bench/perf-profile.sh OUT_DIR
# Writes OUT_DIR/bench.log and, for each Haraka server process the run names
# ("<variant>: server processes <pid>"), OUT_DIR/<variant>-<pid>.txt: the perf
# samples of its main thread (tid = pid) with call chains, for bench/perf-split.cjs.
# Needs root and perf (Debian: linux-perf, not installed by CI).
set -euo pipefail

out=${1:?usage: [BENCH_* settings] bench/perf-profile.sh OUT_DIR}
repo=$(cd "$(dirname "$0")/.." && pwd)
command -v perf > /dev/null || { echo "perf-profile: needs perf (Debian package linux-perf)" >&2; exit 2; }
mkdir -p "$out"
out=$(cd "$out" && pwd)
cd "$repo"

# V8 writes jit-<pid>.dump into each process's working directory (npm runs the
# bench from the repository root, and Haraka inherits it); perf inject writes
# the jitted-<pid>-<n>.so it names next to them. Both go when this script ends.
perf_pid=
cleanup() {
  [ -z "$perf_pid" ] || kill -INT "$perf_pid" 2> /dev/null || true # interrupted: stop recording too
  rm -f "$repo"/jit-*.dump "$repo"/jitted-*.so
}
trap cleanup EXIT
cleanup

# -k mono: jitdump timestamps are CLOCK_MONOTONIC, perf's must match
perf record -k mono -a -g -F "${PERF_HZ:-499}" -e cpu-clock -o "$out/perf.data" > "$out/perf-record.log" 2>&1 &
perf_pid=$!
sleep 1
status=0
NODE_OPTIONS="${NODE_OPTIONS:-} --perf-prof" BENCH_OUT="${BENCH_OUT:--}" npm run bench > "$out/bench.log" 2>&1 || status=$?
kill -INT "$perf_pid" 2> /dev/null || true
wait "$perf_pid" || true
perf_pid=
[ "$status" -eq 0 ] || echo "perf-profile: the benchmark failed (exit $status), see $out/bench.log" >&2

perf inject --jit -i "$out/perf.data" -o "$out/perf.jit.data" 2> "$out/perf-inject.log"
# the jitted .so files are needed to name frames: write the text now, before cleanup
grep -a -o -E '(gateway|bare)-[a-z0-9-]*: server processes [0-9]+' "$out/bench.log" | while read -r variant _ _ pid; do
  perf script -i "$out/perf.jit.data" --tid "$pid" -F tid,time,ip,sym,dso > "$out/${variant%:}-$pid.txt" 2> /dev/null
  echo "$out/${variant%:}-$pid.txt"
done
rm -f "$out/perf.data" "$out/perf.jit.data"
grep -a 'round [0-9]' "$out/bench.log" | sed 's/.*\[bench\] //' || true
echo "next: node bench/perf-split.cjs <file> <pid>   (samples per second: find a round), then with <from> <to> <messages>"
exit "$status"
