#!/usr/bin/env bash
# bench/glibc: the glibc model next to the other policies. Not part of
# `make test`.
#
#   bash bench/glibc/run.sh [ALLOCSIM] [EVENTS]
#
# For data/{demo,python,redis,sqlite}.ast (not the long redis-long.ast:
# bench/headline/run.sh has it) and `allocsim gen server-mix --events EVENTS --seed 1`
# (EVENTS defaults to 1M): `allocsim run` of glibc, tcmalloc, hoard and
# bestfit with the default predictor, and llama with --predictor oracle (its
# lifetime classes are what it is built on); prints one markdown row per
# trace and policy: peak and mean resident bytes (MiB), fragmentation jw4
# and mean huge-page coverage, as summary.json has them. Then the replay
# speed of glibc against bestfit on the server-mix trace with --no-check
# (events/s of each, one run each, and the ratio). Everything but the speed
# is deterministic.
set -euo pipefail
allocsim=${1:-build/allocsim}
events=${2:-1M}
src=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$allocsim" gen server-mix --events "$events" --seed 1 -o "$tmp/server-mix.ast" >/dev/null
traces=("$src"/data/{demo,python,redis,sqlite}.ast "$tmp/server-mix.ast")
field() { # field FILE NAME: the first number after "NAME": in summary.json
  grep -m1 "\"$2\":" "$1" | sed 's/.*:[[:space:]]*//; s/,$//'
}
mib() { awk -v b="$1" 'BEGIN { printf "%.2f", b / 1048576 }'; }
echo "| trace | policy | peak resident MiB | mean resident MiB | jw4 | coverage (mean) |"
echo "|---|---|---|---|---|---|"
for t in "${traces[@]}"; do
  name=$(basename "$t")
  for p in glibc tcmalloc llama hoard bestfit; do
    pred=()
    [ "$p" = llama ] && pred=(--predictor oracle)
    "$allocsim" run -q -p "$p" "${pred[@]}" "$t" -o "$tmp/out" >/dev/null
    s=$tmp/out/summary.json
    label=$p
    [ "$p" = llama ] && label="llama+oracle"
    printf '| %s | %s | %s | %s | %.3f | %.3f |\n' "$name" "$label" \
      "$(mib "$(field "$s" peak_resident_bytes)")" \
      "$(mib "$(field "$s" mean_resident_bytes)")" \
      "$(field "$s" jw4)" "$(field "$s" hugepage_coverage_mean)"
  done
done
echo
for p in glibc bestfit; do
  "$allocsim" run -q --no-check -p "$p" "$tmp/server-mix.ast" -o "$tmp/$p" >/dev/null
done
g=$(field "$tmp/glibc/summary.json" events_per_s)
b=$(field "$tmp/bestfit/summary.json" events_per_s)
awk -v g="$g" -v b="$b" 'BEGIN { printf "replay --no-check on server-mix: glibc %.2f M events/s, bestfit %.2f M events/s, glibc/bestfit %.2f\n", g / 1e6, b / 1e6, g / b }'
