#!/usr/bin/env bash
# check_malloc_sim_placement.sh - the real allocator and the simulator place
# identically: one generated trace (one thread, 60,000 events, 838
# reallocs, half the objects long-lived: 14,562 left live, so the policies'
# metadata tables grow past 64 KiB and are mapped and freed on their own)
# made as real calls by bench/fidelity/player.c under liballocsim_malloc.so
# (ALLOCSIM_POLICY=P, ALLOCSIM_STATS) and replayed by `allocsim run --policy
# P --realloc preload` (with --thread-cache on exactly when the real run had
# its cache: its statistics carry policy.tcache_hits, as
# bench/fidelity/run.sh decides), for every policy the preload library knows
# (read from its own message for an unknown name).
#
# Asserts, per policy, on the policy's own counters ("stats" keys policy.*
# that both sides report; numbers equal to the real file's 6 decimals):
#   - bestfit, hoard, private-heaps, ownership-heaps (their decisions depend
#     only on the requests): every such key is equal, and there are at
#     least 10 of them. bestfit breaks size ties by address, so this holds
#     only because the real allocator's metadata stays out of the heap's
#     part of the address space (malloc/osmem.c, docs/malloc.md): with the
#     library from before (metadata mapped anywhere) this trace ends with
#     3605 free blocks against the replay's 3587;
#   - tcmalloc and llama read the clock (tcmalloc's timed cache resizing
#     and release, llama's promotion of blocks as time passes) and the CPU,
#     and the real run's clock is not the trace's: only the keys that count
#     requests are asserted (tcmalloc: in_use_bytes, peak_in_use_bytes,
#     large_allocs, tcache_hits, tcache_refills; llama: small, medium and
#     large allocs, live small objects). A policy not named here gets the
#     whole comparison, so a new one must agree or be listed with a reason;
#   - by hand: bestfit's live_blocks is the number of objects the trace
#     leaves live (allocs - frees, counted from `allocsim cat`; a realloc
#     replaces one object by another);
#   - the comparison can fail: the same real run against a replay with
#     bestfit.grow_bytes=64K differs in at least one counter;
#   - the player refuses bad input (a free of an object that is not live,
#     a malformed line) naming the line, exit 2.
# Exit 77 where the preload library or the player is not built.
set -uo pipefail
. "$(dirname "$0")/checklib.sh"
lib=$B/malloc/liballocsim_malloc.so
player=$B/bench/fidelity_player
skip_unless_built "ALLOCSIM_MALLOC=OFF or a sanitizer build" "$lib" "$player"

"$A" gen server-mix -n 60000 -P workers=1 -P cpus=1 -P realloc_frac=0.5 \
  -P long_frac=0.5 -P never_frac=0.5 \
  -q -o "$T/g.ast" || die "gen failed"
"$A" cat "$T/g.ast" >"$T/g.txt" || die "cat failed"
n_r=$(grep -c '^r ' "$T/g.txt")
[[ $n_r -gt 100 ]] && ok "trace has $n_r reallocs" || bad "only $n_r reallocs"
live=$(awk '$1 == "a" { n++ } $1 == "f" { n-- } END { print n }' "$T/g.txt")

policies=$(ALLOCSIM_POLICY=no-such LD_PRELOAD=$lib /bin/ls -d / 2>&1 \
  >/dev/null | sed -n 's/.*valid: //p' || true)
[[ -n $policies ]] || die "no policy list from the preload library"

# compare REAL.json SIM_SUMMARY.json POLICY: prints "ok N" or the keys that
# differ; exit 0 when equal.
compare() {
  python3 - "$1" "$2" "$3" <<'EOF'
import json, sys
real = json.load(open(sys.argv[1]))["stats"]
sim = json.load(open(sys.argv[2]))["stats"]
pol = sys.argv[3]
only = {
    "tcmalloc": ["in_use_bytes", "peak_in_use_bytes", "large_allocs",
                 "tcache_hits", "tcache_refills"],
    "llama": ["llama_small_allocs", "llama_medium_allocs",
              "llama_large_allocs", "llama_live_small_objects"],
}.get(pol)
keys = (["policy." + k for k in only] if only else
        sorted(k for k in real if k.startswith("policy.") and k in sim))
bad = []
for k in keys:
    if k not in real or k not in sim:
        bad.append(k + " missing")
    elif abs(real[k] - sim[k]) > 1e-6 * max(1.0, abs(sim[k])):
        bad.append("%s real %s sim %s" % (k, real[k], sim[k]))
if bad:
    print("; ".join(bad))
    sys.exit(1)
if not only and len(keys) < 10:
    print("only %d common keys" % len(keys))
    sys.exit(1)
print("ok %d" % len(keys))
EOF
}

# The player runs pinned to one CPU: hoard and the heaps policies pick a
# heap by the CPU a request runs on (the trace's, 0, in the replay), so a
# player that migrates between CPUs mid-run splits its blocks over two
# heaps where the replay has one (this check failed that way once under a
# loaded `make test`). On one CPU every request goes to one heap on both
# sides, whichever it is.
pin=$(python3 -c 'import os; print(min(os.sched_getaffinity(0)))')
for p in $policies; do
  rm -f "$T"/real.*.json
  ALLOCSIM_POLICY=$p ALLOCSIM_STATS=$T/real.%p.json LD_PRELOAD=$lib \
    taskset -c "$pin" "$player" "$T/g.txt" 2>"$T/err" ||
    { bad "$p: player: $(cat "$T/err")"; continue; }
  real=$(ls "$T"/real.*.json 2>/dev/null | head -1)
  [[ -n $real ]] || { bad "$p: no statistics file"; continue; }
  tc=()
  grep -q '"policy.tcache_hits"' "$real" && tc=(--thread-cache on)
  "$A" run -q --policy "$p" "${tc[@]}" --realloc preload "$T/g.ast" \
    -o "$T/run-$p" >/dev/null 2>"$T/err" ||
    { bad "$p: run: $(cat "$T/err")"; continue; }
  if out=$(compare "$real" "$T/run-$p/summary.json" "$p"); then
    ok "$p${tc[*]:+ (thread cache)}: policy counters equal ($out keys)"
  else
    bad "$p: real and simulated differ: $out"
  fi
  if [[ $p == bestfit ]]; then
    cp "$real" "$T/bestfit.json"
    got=$(python3 -c 'import json,sys; print(int(json.load(open(sys.argv[1]))["stats"]["policy.live_blocks"]))' "$real")
    [[ $got == "$live" ]] && ok "bestfit: live_blocks $got = objects the trace leaves live" ||
      bad "bestfit: live_blocks $got, trace leaves $live live"
  fi
done

# The player refuses bad input with the line and exit 2.
printf 'a 1 0 0 5 16 0 1\nf 2 0 0 6\n' >"$T/bad1.txt"
check "player: free of an object not live" 2 \
  "bad1.txt: line 2: free of an object that is not live" -- "$player" "$T/bad1.txt"
printf 'meta x\na 1 0 0 x 16 0 1\n' >"$T/bad2.txt"
check "player: malformed line" 2 "bad2.txt: line 2: malformed event line" -- \
  "$player" "$T/bad2.txt"

# The comparison catches a difference: another growth granularity.
if [[ -f $T/bestfit.json ]]; then
  "$A" run -q --policy bestfit --param bestfit.grow_bytes=64K \
    --realloc preload "$T/g.ast" -o "$T/run-other" >/dev/null 2>&1
  if out=$(compare "$T/bestfit.json" "$T/run-other/summary.json" bestfit); then
    bad "a replay with grow_bytes=64K compared equal: $out"
  else
    ok "a replay with grow_bytes=64K differs ($out)"
  fi
else
  bad "bestfit not among the library's policies: $policies"
fi
exit $fail
