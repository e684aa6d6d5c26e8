#!/usr/bin/env bash
# bench/replay/check_modes.sh: replay speed of `allocsim run --predictor
# oracle` under each check mode (--check=full, the old default; light, the
# new default; off), runs interleaved so that load on a shared machine
# falls on every mode alike. Not part of `make test`.
#
#   bash bench/replay/check_modes.sh [BUILD_DIR] [EVENTS] [ROUNDS] [POLICIES...]
#
# Traces: `allocsim gen server-mix --events EVENTS --seed 1` (cached in
# BUILD_DIR/bench-servermix-EVENTS.ast) and data/redis.ast, python.ast,
# sqlite.ast. Each round runs every mode once per trace and policy, in an
# order rotated by round. Prints, per trace and policy, the median events/s
# of each mode (timing.events_per_s of summary.json) and the median over
# rounds of the per-round ratios light/full and off/full.
set -euo pipefail
build=${1:-build}
events=${2:-10000000}
rounds=${3:-3}
shift 3 2>/dev/null || shift $#
policies=("$@")
[ ${#policies[@]} -gt 0 ] || policies=(tcmalloc llama hoard bestfit private-heaps ownership-heaps)
allocsim=$build/allocsim
src=$(cd "$(dirname "$0")/../.." && pwd)
trace=$build/bench-servermix-$events.ast
[ -f "$trace" ] || "$allocsim" gen server-mix --events "$events" --seed 1 -o "$trace" >/dev/null
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
modes=(full light off)
for t in "$trace" "$src/data/redis.ast" "$src/data/python.ast" "$src/data/sqlite.ast"; do
  for p in "${policies[@]}"; do
    for r in $(seq 0 $((rounds - 1))); do
      for k in 0 1 2; do
        m=${modes[$(((k + r) % 3))]}
        "$allocsim" run -q --policy "$p" --predictor oracle --check="$m" "$t" \
          -o "$out/run" >/dev/null
        python3 -c "import json,sys; print(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], json.load(open(sys.argv[1]))['timing']['events_per_s'])" \
          "$out/run/summary.json" "$(basename "$t")" "$p" "$r" "$m" >>"$out/rates"
      done
    done
  done
done
python3 - "$out/rates" <<'PY'
import sys, statistics as st
from collections import defaultdict
rate = defaultdict(dict)
for line in open(sys.argv[1]):
    t, p, r, m, eps = line.split()
    rate[(t, p)].setdefault(m, {})[int(r)] = float(eps)
print("| trace | policy | full M ev/s | light M ev/s | off M ev/s | light/full | off/full |")
print("|---|---|---|---|---|---|---|")
for (t, p), v in rate.items():
    med = {m: st.median(v[m].values()) / 1e6 for m in v}
    rl = st.median(v["light"][r] / v["full"][r] for r in v["full"])
    ro = st.median(v["off"][r] / v["full"][r] for r in v["full"])
    print(f"| {t} | {p} | {med['full']:.2f} | {med['light']:.2f} | {med['off']:.2f} | {rl:.2f}x | {ro:.2f}x |")
PY
