#!/usr/bin/env bash
# bench/replay/configs.sh: 12 configurations of one trace replayed in one
# pass (`allocsim run --config ... x12`) against 12 separate runs, rounds
# interleaved (one pass, then the 12 runs, alternating which goes first).
# Not part of `make test`.
#
#   bash bench/replay/configs.sh [BUILD_DIR] [EVENTS] [ROUNDS]
#
# Configurations: tcmalloc, llama, hoard, bestfit, private-heaps and
# ownership-heaps, each with --predictor none and oracle, on
# `allocsim gen server-mix --events EVENTS --seed 1`. Prints the wall time
# of each and the ratio separate / one pass per round, and the CPU time
# (user + sys, GNU time) of each, which a shared machine disturbs less.
set -euo pipefail
build=${1:-build}
events=${2:-2000000}
rounds=${3:-2}
allocsim=$build/allocsim
trace=$build/bench-servermix-$events.ast
[ -f "$trace" ] || "$allocsim" gen server-mix --events "$events" --seed 1 -o "$trace" >/dev/null
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
specs=()
for p in tcmalloc llama hoard bestfit private-heaps ownership-heaps; do
  specs+=("$p" "$p,predictor=oracle")
done
one() {
  local a=() s
  for s in "${specs[@]}"; do a+=(--config "$s"); done
  /usr/bin/time -f "%U %S" -a -o "$out/cpu-one" \
    "$allocsim" run -q "${a[@]}" "$trace" -o "$out/one" >/dev/null
}
sep() {
  local s p pred
  for s in "${specs[@]}"; do
    p=${s%%,*}; pred=none
    [ "$s" != "$p" ] && pred=oracle
    /usr/bin/time -f "%U %S" -a -o "$out/cpu-sep" \
      "$allocsim" run -q -p "$p" --predictor "$pred" "$trace" -o "$out/sep-$s" >/dev/null
  done
}
now() { date +%s.%N; }
cpu() { awk '{s += $1 + $2} END {printf "%.2f", s}' "$out/cpu-$1"; }
for r in $(seq 1 "$rounds"); do
  rm -f "$out/cpu-one" "$out/cpu-sep"
  if [ $((r % 2)) = 1 ]; then
    t0=$(now); one; t1=$(now); sep; t2=$(now)
    a=$(echo "$t1 - $t0" | bc); b=$(echo "$t2 - $t1" | bc)
  else
    t0=$(now); sep; t1=$(now); one; t2=$(now)
    b=$(echo "$t1 - $t0" | bc); a=$(echo "$t2 - $t1" | bc)
  fi
  echo "round $r: one pass ${a}s, 12 separate runs ${b}s, separate/one $(echo "scale=2; $b / $a" | bc)x;" \
       "CPU one pass $(cpu one)s, separate $(cpu sep)s, separate/one $(echo "scale=2; $(cpu sep) / $(cpu one)" | bc)x"
done
