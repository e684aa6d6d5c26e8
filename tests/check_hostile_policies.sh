#!/usr/bin/env bash
# check_hostile_policies: requests that used to make policies or the
# simulated OS grow with the size of a request or go quadratic.
#   1. One 64 TiB allocation (repro 04: it took 4.4 GB of host memory, all
#      in the simulated OS's dense per-region table) is above the engine's
#      request limit (AS_MAX_REQUEST_BYTES, 1 TiB, docs/simos.md): every
#      policy exits 0 with it refused as malloc would, counted as too_large
#      and warned about. One allocation of exactly 1 TiB (the largest legal
#      size) through hoard, ownership-heaps, private-heaps and llama maps
#      exactly 1 TiB with their metadata below 64 KiB, bestfit and tcmalloc
#      below 1 MiB (their fixed tables). In a build without
#      sanitizers each run is also held to 512 MiB of virtual memory, so a
#      structure sized by the request fails the run.
#   2. The large-object pattern (N allocations of 64 KiB, every other one
#      freed, then N/2 of 128 KiB) through every policy, N = 20,000: exit 0,
#      peak live N/2 x 192 KiB, and the mapped bytes each placement makes
#      known (docs/policies/llama.md, hoard.md): llama N/16 huge pages,
#      bestfit 2N x 64 KiB, the page-run policies N/2 x 192 KiB. The
#      200,000-object scale test is test_policies_large_objects.
# Arguments: BUILD_DIR ALLOCSIM SOURCE_DIR
set -u
. "$(dirname "$0")/checklib.sh"
limit=
grep -q '^ALLOCSIM_SANITIZE:BOOL=ON' "$B/CMakeCache.txt" 2>/dev/null || limit=524288

run() { # run NAME EXPECTED_RC OUTDIR -- allocsim arguments...
  local name=$1 want=$2 out=$3; shift 4
  (
    [ -n "$limit" ] && ulimit -v "$limit"
    exec "$A" run -q "$@" -o "$out"
  ) >"$T/out" 2>"$T/err"
  local rc=$?
  if [ "$rc" != "$want" ]; then
    echo "FAIL $name: exit $rc, wanted $want"; cat "$T/err"; fail=1; return 1
  fi
  return 0
}

# expect NAME SUMMARY KEY=VALUE...: exact figures (KEY a dotted path);
# KEY<VALUE for an upper bound.
expect() {
  local name=$1 sum=$2; shift 2
  if python3 - "$sum" "$@" <<'PY'; then echo "ok   $name"; else fail=1; fi
import json, re, sys
s = json.load(open(sys.argv[1]))
bad = 0
for spec in sys.argv[2:]:
    key, op, want = re.match(r'([\w.]+)(=|<)(.+)', spec).groups()
    v = s
    for part in key.split('.'):
        v = v[part]
    ok = v == float(want) if op == '=' else v < float(want)
    if not ok:
        print(f"FAIL {sys.argv[1]}: {key} = {v}, wanted {op} {want}")
        bad = 1
sys.exit(bad)
PY
}

# 1. one 64 TiB allocation, then one of exactly the 1 TiB limit
printf 'meta program huge\na 10 0 0 0 70368744177664 0 0\n' >"$T/huge.txt"
"$A" import --format text "$T/huge.txt" -o "$T/huge.ast" || { echo "FAIL import"; exit 1; }
printf 'meta program tib\na 10 0 0 0 1099511627776 0 0\n' >"$T/tib.txt"
"$A" import --format text "$T/tib.txt" -o "$T/tib.ast" || { echo "FAIL import"; exit 1; }
for p in hoard ownership-heaps private-heaps llama bestfit tcmalloc; do
  run "64 TiB $p" 0 "$T/h-$p" -- --policy "$p" "$T/huge.ast" &&
    expect "64 TiB $p: refused above the request limit" "$T/h-$p/summary.json" \
      metrics.peak_mapped_bytes=0 warnings.too_large=1 metrics.peak_metadata_bytes\<1048576
  grep -q "1 bad events counted" "$T/err" || { echo "FAIL 64 TiB $p: no warning"; fail=1; }
done
for p in hoard ownership-heaps private-heaps llama; do
  run "1 TiB $p" 0 "$T/t-$p" -- --policy "$p" "$T/tib.ast" &&
    expect "1 TiB $p: mapped once, metadata bounded" "$T/t-$p/summary.json" \
      metrics.peak_mapped_bytes=1099511627776 metrics.peak_live_bytes=1099511627776 \
      metrics.peak_metadata_bytes\<65536 warnings.too_large=0
done
for p in bestfit tcmalloc; do # their fixed tables are larger than 64 KiB
  run "1 TiB $p" 0 "$T/t-$p" -- --policy "$p" "$T/tib.ast" &&
    expect "1 TiB $p: mapped once, metadata bounded" "$T/t-$p/summary.json" \
      metrics.peak_mapped_bytes=1099511627776 metrics.peak_live_bytes=1099511627776 \
      metrics.peak_metadata_bytes\<1048576 warnings.too_large=0
done

# 2. many large objects
n=20000
awk -v n=$n 'BEGIN { print "meta program large_objects"; t = 10; id = 0
  for (i = 0; i < n; i++) printf "a %d 0 0 %d 65536 0 0\n", t++, id++
  for (i = 0; i < n; i += 2) printf "f %d 0 0 %d\n", t++, i
  for (i = 0; i < n / 2; i++) printf "a %d 0 0 %d 131072 0 0\n", t++, id++ }' >"$T/big.txt"
"$A" import --format text "$T/big.txt" -o "$T/big.ast" || { echo "FAIL import big"; exit 1; }
live=$((n / 2 * 196608))
for p in bestfit hoard llama private-heaps ownership-heaps tcmalloc; do
  case $p in
    llama) mapped="metrics.peak_mapped_bytes=$((n / 16 * 2097152))" ;;
    bestfit) mapped="metrics.peak_mapped_bytes=$((2 * n * 65536))" ;;
    tcmalloc) mapped="warnings.too_large=0" ;;
    *) mapped="metrics.peak_mapped_bytes=$live" ;;
  esac
  run "large objects $p" 0 "$T/b-$p" -- --policy "$p" "$T/big.ast" &&
    expect "large objects $p" "$T/b-$p/summary.json" \
      metrics.peak_live_bytes=$live trace.allocs=$((n + n / 2)) trace.frees=$((n / 2)) "$mapped"
done
exit $fail
