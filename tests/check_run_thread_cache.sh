#!/usr/bin/env bash
# check_run_thread_cache.sh BUILD ALLOCSIM SRC - `allocsim run
# --thread-cache on|off` and `--config POLICY,thread-cache=on` on a trace
# small enough to count by hand (the layer's rules are tested in
# tests/unit/test_policies_tcache.c).
#
# The trace: thread 1 allocates 12 blocks of 2020 B (class 127: 2032 B,
# batch 4), thread 2 frees them all, thread 1 allocates 5 more.
#   thread 1: refills from the policy at its 1st, 5th, 9th allocation
#     (3 transfer misses), 9 hits;
#   thread 2: its list (max 4 = batch, which an overflow does not grow)
#     holds 4; the 5th and the 9th free overflow: 4 blocks go to the
#     transfer cache as one chain each time (2 flushes); the list ends
#     with the last 4;
#   thread 1: the 13th allocation takes the newer chain (a transfer hit,
#     a refill), the next 3 are hits, the 17th takes the older chain (a
#     transfer hit, a refill) and keeps its other 3 blocks.
# So: tcache_hits 12, tcache_refills 5, tcache_flushes 2,
# tcache_transfer_hits 2, tcache_transfer_misses 3, tcache_transfer_bytes
# 0, tcache_cached_bytes (4 + 3) * 2032 = 14224, tcache_caches 2.
# peak_live_bytes is the program's, 12 * 2020 = 24240, with the cache or
# without (cached blocks are the policy's, not the program's).
# Also: off (the default) writes no tcache_* statistics and no
# policy.thread_cache; --thread-cache bogus and thread-cache=maybe in a
# --config spec are usage errors (exit 2).
set -uo pipefail
allocsim=$2
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
fail=0
T=$tmp
. "$3/tests/checklib.sh"
{
  t=1000
  for i in $(seq 0 11); do echo "a $t 1 0 $i 2020 0 0"; t=$((t + 10)); done
  for i in $(seq 0 11); do echo "f $t 2 0 $i"; t=$((t + 10)); done
  for i in $(seq 12 16); do echo "a $t 1 0 $i 2020 0 0"; t=$((t + 10)); done
} >"$tmp/t.txt"
"$allocsim" import -f text "$tmp/t.txt" -o "$tmp/t.ast" >/dev/null ||
  { echo "FAIL import"; exit 1; }

stats() { # DIR: the tcache_* statistics and policy.thread_cache, one a line
  python3 -c '
import json, sys
d = json.load(open(sys.argv[1] + "/summary.json"))
for k, v in sorted(d.get("stats", {}).items()):
    if "tcache_" in k: print(k.split(".")[-1], int(v))
print("thread_cache", d["policy"].get("thread_cache", "absent"))
print("peak_live_bytes", d["metrics"]["peak_live_bytes"])' "$1"
}
want="tcache_cached_bytes 14224
tcache_caches 2
tcache_flushes 2
tcache_hits 12
tcache_refills 5
tcache_transfer_bytes 0
tcache_transfer_hits 2
tcache_transfer_misses 3
thread_cache True
peak_live_bytes 24240"
for pol in tcmalloc hoard bestfit; do
  for ck in light full; do
    check "$pol --check $ck --thread-cache on" 0 "" -- \
      "$allocsim" run -q --policy "$pol" --check "$ck" --thread-cache on \
      "$tmp/t.ast" -o "$tmp/$pol-$ck"
    got=$(stats "$tmp/$pol-$ck")
    [[ $got == "$want" ]] && echo "ok   $pol --check $ck: counters" ||
      { echo "FAIL $pol --check $ck: counters:"; echo "$got"; fail=1; }
  done
done
check "--thread-cache off" 0 "" -- \
  "$allocsim" run -q --policy tcmalloc --thread-cache off "$tmp/t.ast" -o "$tmp/off"
check "no option" 0 "" -- "$allocsim" run -q --policy tcmalloc "$tmp/t.ast" -o "$tmp/none"
[[ $(stats "$tmp/off") == "thread_cache absent
peak_live_bytes 24240" ]] && echo "ok   off: no counters" ||
  { echo "FAIL off: $(stats "$tmp/off")"; fail=1; }
[[ $(nosum "$tmp/off/summary.json") == "$(nosum "$tmp/none/summary.json")" ]] &&
  echo "ok   off is the default" || { echo "FAIL off differs from no option"; fail=1; }
check "--config thread-cache=on" 0 "" -- \
  "$allocsim" run -q --config tcmalloc,thread-cache=on --config tcmalloc \
  "$tmp/t.ast" -o "$tmp/cfg"
got=$(stats "$tmp/cfg/tcmalloc,thread-cache=on")
[[ $got == "$want" ]] && echo "ok   --config: counters" ||
  { echo "FAIL --config counters:"; echo "$got"; fail=1; }
[[ $(stats "$tmp/cfg/tcmalloc") == "thread_cache absent
peak_live_bytes 24240" ]] &&
  echo "ok   --config without it: off" || { echo "FAIL --config without it"; fail=1; }
check "--thread-cache bogus" 2 "thread-cache" -- \
  "$allocsim" run -q --policy tcmalloc --thread-cache bogus "$tmp/t.ast" -o "$tmp/x"
check "--config thread-cache=maybe" 2 "thread-cache 'maybe': must be off or on" -- \
  "$allocsim" run -q --config tcmalloc,thread-cache=maybe "$tmp/t.ast" -o "$tmp/y"
exit $fail
