#!/usr/bin/env bash
# check_glibc_real.sh BUILD ALLOCSIM SRC - the `glibc` policy against the
# real glibc of this machine.
#
# tests/glibc_compare.c runs one seeded malloc/free/realloc sequence (sizes
# 1 B to 1 MiB, so tcache, fastbins, every bin, the top, trims and mmapped
# chunks with the dynamic threshold all take part) on the real glibc and on
# the model, and prints mallinfo2 (arena ordblks smblks hblks hblkhd fsmblks
# uordblks fordblks keepcost) every N operations. The model is exact, so
# every figure must be equal at every point, under the default tunables and
# under GLIBC_TUNABLES that switch parts off (the same settings as glibc.*
# parameters of the model): tcache off, fastbins off, a fixed mmap
# threshold, trimming at every free; and with aligned allocations
# (posix_memalign, _int_memalign); and on several threads (arenas,
# per-thread tcaches, the arena limit). Then the same sequence goes the way a
# user's trace goes: written as an allocsim text trace, imported, replayed by
# `allocsim run -p glibc` with one sample per N operations; the mallinfo
# columns of policy_series.csv must equal the real figures too.
# Skipped (77) when the C library is not glibc 2.36 (the model is of 2.36)
# or in the sanitizer build (ASan replaces malloc).
set -u
. "$(dirname "$0")/checklib.sh"
cmp=$B/tests/glibc_compare
[[ -x $cmp ]] || { echo "skip: $cmp not built"; exit 77; }
if grep -q '^ALLOCSIM_SANITIZE:BOOL=ON' "$B/CMakeCache.txt" 2>/dev/null; then
  echo "skip: sanitizer build (ASan's malloc is not glibc's)"
  exit 77
fi
ver=$(getconf GNU_LIBC_VERSION 2>/dev/null)
[[ $ver == "glibc 2.36" ]] || { echo "skip: C library is '$ver', the model is of glibc 2.36"; exit 77; }
# nothing from the caller's environment may tune or replace glibc's malloc
unset GLIBC_TUNABLES LD_PRELOAD GLIBC_COMPARE_ALIGN GLIBC_COMPARE_THREADS \
  GLIBC_COMPARE_ADDRS $(env | sed -n 's/^\(MALLOC_[A-Z_]*\)=.*/\1/p')

# compare NAME TUNABLES SEED OPS EVERY SLOTS [model params...]
compare() {
  local name=$1 tun=$2 seed=$3 ops=$4 every=$5 slots=$6
  shift 6
  GLIBC_TUNABLES=$tun "$cmp" real "$seed" "$ops" "$every" "$slots" >"$T/real" ||
    { echo "FAIL: $name: real run failed"; fail=1; return; }
  "$cmp" model "$seed" "$ops" "$every" "$slots" "$@" >"$T/model" ||
    { echo "FAIL: $name: model run failed (or its check hook)"; fail=1; return; }
  local n
  n=$(wc -l <"$T/real")
  if [[ $n -lt 10 ]]; then
    echo "FAIL: $name: only $n points"
    fail=1
  elif ! diff "$T/real" "$T/model" >"$T/diff"; then
    echo "FAIL: $name: model differs from glibc (ops arena ordblks smblks hblks hblkhd fsmblks uordblks fordblks keepcost):"
    head -6 "$T/diff"
    fail=1
  else
    # the sequence must exercise what it claims to: mmapped chunks, fastbins
    # (unless off), free chunks in bins
    local mm
    mm=$(awk '$5 > m { m = $5 } END { print m + 0 }' "$T/real")
    echo "ok   $name: $n points equal (up to $mm mmapped chunks, final: $(tail -1 "$T/real"))"
    [[ $mm -gt 0 ]] || { echo "FAIL: $name: no mmapped chunk ever"; fail=1; }
  fi
}

# The comparison can fail: a model one tcache entry short must differ.
if ! "$cmp" real 1 60000 1000 2000 >"$T/real" ||
  ! "$cmp" model 1 60000 1000 2000 tcache_count=6 >"$T/model" ||
  [[ ! -s $T/model ]]; then
  echo "FAIL: self-test runs"
  fail=1
elif diff -q "$T/real" "$T/model" >/dev/null; then
  echo "FAIL: self-test: tcache_count=6 gives glibc's figures, so the comparison proves nothing"
  fail=1
else
  echo "ok   self-test: a model with tcache_count=6 differs from glibc"
fi

compare "defaults" "" 1 60000 1000 2000
compare "defaults, 4000 slots" "" 2 200000 5000 4000
compare "tcache off" "glibc.malloc.tcache_count=0" 3 60000 1000 2000 tcache_count=0
compare "small tcache" "glibc.malloc.tcache_count=3:glibc.malloc.tcache_max=200" 4 60000 1000 300 tcache_count=3 tcache_max=200
compare "fastbins off" "glibc.malloc.mxfast=0" 5 60000 1000 2000 mxfast=0
compare "tcache and fastbins off" "glibc.malloc.tcache_count=0:glibc.malloc.mxfast=0" 6 60000 1000 500 tcache_count=0 mxfast=0
compare "fixed mmap threshold 64K" "glibc.malloc.mmap_threshold=65536" 7 60000 1000 2000 mmap_threshold=64K
export GLIBC_COMPARE_ALIGN=1 # a tenth of the allocations 32 B..4 KiB aligned
compare "posix_memalign mixed in" "" 10 60000 1000 2000
compare "posix_memalign, tcache off" "glibc.malloc.tcache_count=0" 11 60000 1000 2000 tcache_count=0
unset GLIBC_COMPARE_ALIGN
# threads: ops on 4 and on 21 threads one at a time in sequence order (no
# contention), cross-thread frees included; 21 threads pass the arena limit
# 8 x cores, which glibc computes from the online CPUs (sysconf)
export GLIBC_COMPARE_THREADS=3
compare "4 threads, arenas" "" 12 40000 1000 1000
export GLIBC_COMPARE_THREADS=20
compare "21 threads, arena limit" "" 13 40000 1000 1000 cores=$(getconf _NPROCESSORS_ONLN)
unset GLIBC_COMPARE_THREADS
compare "trim at every free" "glibc.malloc.trim_threshold=0:glibc.malloc.top_pad=0" 8 60000 1000 2000 trim_threshold=0 top_pad=0

# The same through a trace and `allocsim run`: op i at t = 1000 i + 500 ns,
# samples every 1000 ops (1 ms) see the state after 1000 k ops.
seed=9 ops=40000 every=1000
"$cmp" real $seed $ops $every 1500 >"$T/real"
"$cmp" text $seed $ops $every 1500 >"$T/t.txt" &&
  "$A" import -f text "$T/t.txt" -o "$T/t.ast" >/dev/null &&
  "$A" run -q -p glibc --sample-interval 1ms "$T/t.ast" -o "$T/run" >/dev/null ||
  { echo "FAIL: import or run of the trace failed"; exit 1; }
# policy_series.csv: t_ns then the mallinfo columns in glibc_compare's
# order (t_ns counts from the first event, at 500 ns); the samples at whole
# milliseconds, then the end-of-trace sample
# (after the last op) as the final point
awk -F, -v ops=$ops 'NR > 1 && $1 > 0 && ($1 % 1000000 == 0 || $1 == 1000 * ops - 1000) {
  n = $1 % 1000000 == 0 ? $1 / 1000 : ops
  printf "%d", n; for (i = 2; i <= 10; i++) printf " %d", $i; print "" }' \
  "$T/run/policy_series.csv" >"$T/series"
if [[ $(wc -l <"$T/series") -ne $((ops / every)) ]]; then
  echo "FAIL: trace replay: policy_series.csv has $(wc -l <"$T/series") samples, expected $((ops / every))"
  fail=1
elif ! diff "$T/real" "$T/series" >"$T/diff"; then
  echo "FAIL: trace replay: allocsim run's mallinfo columns differ from glibc:"
  head -6 "$T/diff"
  fail=1
else
  echo "ok   trace replay: $((ops / every)) samples of policy_series.csv equal glibc's mallinfo2"
fi
exit $fail
