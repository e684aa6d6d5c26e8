#!/usr/bin/env bash
# offload.sh BUILD [REPS] - the offload mode (ALLOCSIM_OFFLOAD=1) against
# the inline modes of liballocsim_malloc.so under the tcmalloc policy:
# inline behind the one lock (ALLOCSIM_CACHE=0), inline with the thread
# cache (the default), and offloaded to the pinned server thread.
# Interleaved repetitions; prints per benchmark the median ops/s, the
# median ratio to the locked inline mode in the same repetition, and the
# mean time per malloc+free pair of a single thread (threadtest 1: one
# thread, so 1/throughput is the round trip's latency). Hardware counters
# (`perf stat -e cache-misses`) are used when the machine has them.
set -euo pipefail
build=${1:?usage: offload.sh BUILD [REPS]}
reps=${2:-3}
bench=$build/bench/alloc_bench
lib=$(realpath "$build/malloc/liballocsim_malloc.so")
modes=("inline-locked:ALLOCSIM_CACHE=0 ALLOCSIM_OFFLOAD=0"
  "inline-cached:ALLOCSIM_CACHE=1 ALLOCSIM_OFFLOAD=0"
  "offload:ALLOCSIM_OFFLOAD=1")
benches=("threadtest 1 5" "larson 2 2" "xmalloc 2 2")
counters=0
if perf stat -e cache-misses true >/dev/null 2>&1 &&
  ! perf stat -e cache-misses true 2>&1 | grep -q "not supported"; then counters=1; fi
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for ((r = 1; r <= reps; r++)); do
  for b in "${benches[@]}"; do
    for m in "${modes[@]}"; do
      # shellcheck disable=SC2086
      ops=$(env ${m#*:} ALLOCSIM_POLICY=tcmalloc LD_PRELOAD=$lib "$bench" $b | awk '{ print $3 }')
      echo "$r|$b|${m%%:*}|$ops" >>"$out"
    done
  done
done
[[ $counters == 1 ]] || echo "note: perf has no hardware counters here: no cache-miss figures" >&2
python3 - "$out" <<'PY'
import sys, statistics, collections
rows = [l.strip().split("|") for l in open(sys.argv[1]) if l.strip()]
by = collections.defaultdict(dict)
modes = []
for rep, b, m, ops in rows:
    by[(b, rep)][m] = float(ops)
    if m not in modes: modes.append(m)
print("| benchmark | mode | ops/s (median) | × inline-locked | ns per op |")
print("|---|---|---|---|---|")
for b in dict.fromkeys(k[0] for k in by):
    reps = [k for k in by if k[0] == b]
    for m in modes:
        med = statistics.median(by[k][m] for k in reps)
        rat = statistics.median(by[k][m] / by[k]["inline-locked"] for k in reps)
        print(f"| {b} | {m} | {med/1e6:.3f} M | {rat:.3f} | {1e9/med:.0f} |")
PY
