#!/usr/bin/env bash
# bench/large_objects: how replay time scales with the number of large
# objects. Not part of `make test`.
#
#   bash bench/large_objects/run.sh [ALLOCSIM[,ALLOCSIM...]] [POLICIES...]
#
# For N = 25k, 50k, 100k and 200k: N allocations of 64 KiB, every other one
# freed, then N/2 allocations of 128 KiB (none fits a freed hole, so a policy
# that scans its holes or pages per request is quadratic). Prints the time
# of `allocsim run --no-check` per policy and N, and the ratio
# time(2N)/time(N): about 2 for O(n log n), about 4 for O(n^2).
# ALLOCSIM defaults to build/allocsim; several binaries separated by commas
# (say, a build before and after a change) are timed in one run on the
# same traces. POLICIES default to llama hoard.
# The environment variable NS overrides the list of N.
set -euo pipefail
IFS=, read -r -a binaries <<<"${1:-build/allocsim}"
shift 1 2>/dev/null || shift $#
policies=("$@")
[ ${#policies[@]} -gt 0 ] || policies=(llama hoard)
read -r -a ns <<<"${NS:-25000 50000 100000 200000}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for n in "${ns[@]}"; do
  awk -v n="$n" 'BEGIN { print "meta program large_objects"; t = 10; id = 0
    for (i = 0; i < n; i++) printf "a %d 0 0 %d 65536 0 0\n", t++, id++
    for (i = 0; i < n; i += 2) printf "f %d 0 0 %d\n", t++, i
    for (i = 0; i < n / 2; i++) printf "a %d 0 0 %d 131072 0 0\n", t++, id++ }' \
    >"$tmp/t.txt"
  "${binaries[0]}" import --format text "$tmp/t.txt" -o "$tmp/t-$n.ast" >/dev/null
done
printf '%-32s %-16s %8s %10s %12s\n' binary policy N seconds 'ratio 2N/N'
for allocsim in "${binaries[@]}"; do
  for p in "${policies[@]}"; do
    prev=
    for n in "${ns[@]}"; do
      s=$(date +%s.%N)
      "$allocsim" run -q --no-check --policy "$p" "$tmp/t-$n.ast" -o "$tmp/out" >/dev/null
      e=$(date +%s.%N)
      secs=$(echo "$e - $s" | bc -l)
      ratio=-
      [ -n "$prev" ] && ratio=$(printf '%.2f' "$(echo "$secs / $prev" | bc -l)")
      printf '%-32s %-16s %8d %10.3f %12s\n' "$allocsim" "$p" "$n" "$secs" "$ratio"
      prev=$secs
    done
  done
done
