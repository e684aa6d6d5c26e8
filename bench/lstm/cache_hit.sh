#!/usr/bin/env bash
# bench/lstm/cache_hit.sh - the CPU cost of a `cached` hit, this build
# against another (the old code), interleaved so that both see the same
# load on a shared machine.
#
# usage: bench/lstm/cache_hit.sh OLD_ALLOCSIM NEW_ALLOCSIM MODEL TRACE [ROUNDS]
#
# Each round runs `allocsim eval --json --model MODEL TRACE` with LLAMA's
# cache (key=height, per_thread=1) once with OLD and once with NEW (in
# alternating order), and reads cached_hit_ns: the thread's CPU time per
# lookup of the replay of every distinct context once all are cached
# (docs/predictors/lstm.md, `allocsim eval`), and cached_hit_rate, the
# replay's hit rate. The capacity is 65536 entries (CAPACITY=N overrides)
# so that every distinct context fits and the replay is all hits: at 4096
# a few contexts share a full 4-way set, and each of their misses costs a
# forward pass (about 20 us), so 1% of misses would add 200 ns to the
# figure. Prints each round, then the medians and NEW / OLD.
set -eu
OLD=$1 NEW=$2 MODEL=$3 TRACE=$4 ROUNDS=${5:-7}
CACHE=(--cached key=height --cached per_thread=1 --cached capacity=${CAPACITY:-65536})
one() {
    "$1" eval -q --json --model "$MODEL" "${CACHE[@]}" "$TRACE" |
        python3 -c 'import json,sys; x=json.load(sys.stdin); print(x["cached_hit_ns"], x["cached_hit_rate"])'
}
old=() new=()
for ((r = 0; r < ROUNDS; r++)); do
    if ((r % 2)); then
        n=$(one "$NEW"); o=$(one "$OLD")
    else
        o=$(one "$OLD"); n=$(one "$NEW")
    fi
    echo "round $r: old $o  new $n (ns per lookup, replay hit rate)"
    old+=("${o%% *}") new+=("${n%% *}")
done
python3 - "${old[*]}" "${new[*]}" <<'EOF'
import statistics, sys
o = [float(x) for x in sys.argv[1].split()]
n = [float(x) for x in sys.argv[2].split()]
mo, mn = statistics.median(o), statistics.median(n)
print(f"median old {mo:.1f} ns, new {mn:.1f} ns, new/old {mn / mo:.3f}")
EOF
