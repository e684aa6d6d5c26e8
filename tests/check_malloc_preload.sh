#!/usr/bin/env bash
# check_malloc_preload.sh BUILD [ALLOCSIM] [SRC] - the real allocator,
# liballocsim_malloc.so, preloaded into real programs under EVERY registered
# policy (the list comes from the library's own message for an unknown
# ALLOCSIM_POLICY, so a new policy is tested the moment it is registered):
#   - tests/malloc_stress.c: edge (zero sizes, SIZE_MAX and overflow fail
#     with ENOMEM, every alignment from 8 B to 64 KiB, calloc zeroing),
#     threads (8 threads, cross-thread frees, realloc chains, every written
#     byte checked), fork (children allocate while a thread holds and
#     allocates blocks);
#   - free() of a static address aborts with
#     "allocsim: free(): invalid pointer 0x..."; so does a double free,
#     except under tcmalloc (its free does not look the block up);
#   - Python, SQLite, git and a C++ program (operator new/delete reach
#     malloc/free: the program frees a new[] block with free(), which this
#     library accepts only for its own blocks) run to completion with the
#     same output as under glibc;
#   - the stress threads and Python again behind the checking layer
#     (ALLOCSIM_CHECK: the policy's whole-heap check every N calls);
# and, once: a bad ALLOCSIM_POLICY / ALLOCSIM_PARAM / ALLOCSIM_CHECK /
# ALLOCSIM_STATS_PERIOD prints one line naming the variable and aborts;
# under ALLOCSIM_CHECK a double free aborts with the layer's reason; ALLOCSIM_PARAM values reach the policy;
# ALLOCSIM_STATS writes the simulator's metric names with the figures of a
# program that holds exactly 10 MiB for 300 ms.
# Exit 77 (skipped) where the library is not built: the sanitizer build,
# since ASan replaces malloc itself and cannot share a process with a
# preloaded allocator.
set -uo pipefail
. "$(dirname "$0")/checklib.sh"
skip_unless_built "a sanitizer or fuzz build, or ALLOCSIM_MALLOC=OFF: ASan replaces malloc and cannot share a process with a preloaded allocator" \
  "$B/malloc/liballocsim_malloc.so" "$B/malloc/malloc_stress"
lib=$B/malloc/liballocsim_malloc.so
stress=$B/malloc/malloc_stress

# pre POLICY CMD...: run CMD with the library preloaded under POLICY
pre() {
  local p=$1
  shift
  ALLOCSIM_POLICY=$p LD_PRELOAD=$lib "$@"
}

# --- the policy list, and configuration errors ----------------------------
out=$(ALLOCSIM_POLICY=no-such LD_PRELOAD=$lib "$stress" edge 2>&1)
rc=$?
line=$(grep '^allocsim: ' <<<"$out")
if [[ $rc == 134 && $line == "allocsim: ALLOCSIM_POLICY=no-such: unknown policy; valid: "* ]]; then
  ok "unknown policy: one line and abort"
else
  bad "unknown policy: rc $rc, output: $out"
fi
read -r -a policies <<<"${line#*valid: }"
if [[ ${#policies[@]} -lt 6 || " ${policies[*]} " != *" tcmalloc "* ]]; then
  bad "policy list from the library: '${policies[*]}'"
  exit 1
fi

check_param_error() { # ASSIGNMENT EXPECTED-LINE
  local out rc
  out=$(ALLOCSIM_PARAM=$1 LD_PRELOAD=$lib "$stress" edge 2>&1)
  rc=$?
  if [[ $rc == 134 ]] && grep -qxF -- "$2" <<<"$out"; then
    ok "ALLOCSIM_PARAM=$1 refused"
  else
    bad "ALLOCSIM_PARAM=$1: rc $rc, output: $out"
  fi
}
check_param_error "tcmalloc.release_rate=-1" \
  "allocsim: ALLOCSIM_PARAM: 'tcmalloc.release_rate=-1': tcmalloc.release_rate must be a size in bytes (K, M, G, T: x1024) from 0 to 1T"
check_param_error "hoard.sb_bytes=64K" \
  "allocsim: ALLOCSIM_PARAM: 'hoard.sb_bytes=64K': no part named 'hoard' (the policy is tcmalloc)"
check_param_error "tcmalloc.page_size=12K" \
  "allocsim: ALLOCSIM_PARAM: 'tcmalloc.page_size=12K': tcmalloc.page_size must be a power of two in bytes (K, M, G, T: x1024) from 4K to 256K"
check_param_error "release_rate" \
  "allocsim: ALLOCSIM_PARAM: 'release_rate': expected name=value"
# valid assignments, with and without the part prefix
if out=$(ALLOCSIM_PARAM="tcmalloc.release_rate=4M,per_cpu_caches=off" \
  LD_PRELOAD=$lib "$stress" edge 2>&1); then
  ok "ALLOCSIM_PARAM with a part prefix and without runs"
else
  bad "ALLOCSIM_PARAM=tcmalloc.release_rate=4M,per_cpu_caches=off: $out"
fi

# the checking layer catches what the policy does not: a double free (the
# thread cache, on by default under tcmalloc, would catch it first)
out=$(ALLOCSIM_CACHE=0 ALLOCSIM_CHECK=1 pre tcmalloc "$stress" doublefree 2>&1)
rc=$?
if [[ $rc == 134 ]] && grep -q "^allocsim: checking layer: check: tcmalloc: free of an address that is not a live block (double free or unknown) addr=0x" <<<"$out" &&
  grep -q "^allocsim: free(): invalid pointer 0x" <<<"$out"; then
  ok "ALLOCSIM_CHECK: a double free under tcmalloc aborts with the layer's reason"
else
  bad "ALLOCSIM_CHECK=1 double free under tcmalloc: rc $rc: $out"
fi
check_env_error() { # VAR VALUE EXPECTED-LINE
  local out rc
  out=$(env "$1=$2" LD_PRELOAD=$lib "$stress" edge 2>&1)
  rc=$?
  if [[ $rc == 134 ]] && grep -qxF -- "$3" <<<"$out"; then
    ok "$1=$2 refused"
  else
    bad "$1=$2: rc $rc, output: $out"
  fi
}
check_env_error ALLOCSIM_CHECK x \
  "allocsim: ALLOCSIM_CHECK=x: must be a whole number (K, M, G, T: x1000) from 0 to 1000000000000"
check_env_error ALLOCSIM_CACHE 2 \
  "allocsim: ALLOCSIM_CACHE=2: must be 0 or 1"
check_env_error ALLOCSIM_STATS_PERIOD 10 \
  "allocsim: ALLOCSIM_STATS_PERIOD=10: must be a duration with a unit (ns, us, ms, s, min, h) from 1ms to 1h"

# --- reference runs under glibc -------------------------------------------
py=$(command -v python3 >/dev/null && python3 -c 'import sys; print(sys.executable)' 2>/dev/null)
pywork='
import json, re, collections
d = {str(i): [i] * (i % 17) for i in range(60000)}
s = json.dumps(d, sort_keys=True)
words = re.findall(r"[0-9]+", s)
c = collections.Counter(w[-2:] for w in words)
big = [bytearray(n * 1000) for n in range(200)]
print(len(s), len(words), sorted(c.items())[:5], sum(map(len, big)))
'
sqlwork="create table t(a integer primary key, b text, c real);
with recursive n(x) as (select 1 union all select x + 1 from n where x < 20000)
insert into t select x, printf('%08d-%s', x * 7919 % 100003, hex(zeroblob(x % 64))), x * 0.5 from n;
create index tb on t(b);
select count(*), sum(length(b)), sum(c) from t;
select a, substr(b, 1, 8) from t order by b limit 5;
select length(b) % 10 as k, count(*) from t group by k order by k;"
gitwork() { # DIR: a repository with three commits; prints its history
  (
    export HOME=$1 GIT_CONFIG_NOSYSTEM=1 GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@t \
      GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@t \
      GIT_AUTHOR_DATE=2020-01-01T00:00:00Z GIT_COMMITTER_DATE=2020-01-01T00:00:00Z
    cd "$1" && git init -q -b main repo && cd repo || exit 1
    for i in 1 2 3; do
      seq 1 $((i * 3000)) >"f$i"
      git add "f$i" && git commit -qm "commit $i" || exit 1
    done
    git log --stat --format='%H %s' && git gc -q && git fsck --no-progress 2>&1
  )
}
cxx=$(command -v c++ || command -v g++ || true)
if [[ -n $cxx ]]; then
  cat >"$T/newdelete.cc" <<'EOF'
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>
int main()
{
    std::map<std::string, std::vector<int>> m;
    for (int i = 0; i < 50000; i++) m[std::to_string(i % 7000)].push_back(i);
    long s = 0;
    for (auto &kv : m) s += (long)kv.second.size() * (long)kv.first.size();
    char *p = new char[100];
    std::free(p); /* accepted only if operator new called this malloc */
    int *q = new int[4];
    delete[] q;
    std::printf("%ld %zu\n", s, m.size());
    return 0;
}
EOF
  "$cxx" -O1 -o "$T/newdelete" "$T/newdelete.cc" 2>"$T/cxx.err" ||
    { bad "c++ did not compile the new/delete program: $(cat "$T/cxx.err")"; cxx=""; }
fi

ref_py=""; ref_sql=""; ref_git=""; ref_cxx=""
[[ -n $py ]] && ref_py=$(PYTHONHASHSEED=0 "$py" -c "$pywork" 2>&1)
command -v sqlite3 >/dev/null && ref_sql=$(sqlite3 :memory: "$sqlwork" 2>&1)
command -v git >/dev/null && { mkdir "$T/g0"; ref_git=$(gitwork "$T/g0" 2>&1); }
[[ -n $cxx ]] && ref_cxx=$("$T/newdelete" 2>&1)
[[ -z $py ]] && echo "note: python3 not found: Python runs skipped"
[[ -z $ref_sql ]] && echo "note: sqlite3 not found: SQLite runs skipped (make deps)"
[[ -z $ref_git ]] && echo "note: git not found: git runs skipped"
[[ -z $cxx ]] && echo "note: no C++ compiler: the new/delete run skipped"

# same NAME REF OUT RC: the run under a policy matches glibc's
same() {
  if [[ $4 == 0 && $3 == "$2" ]]; then
    ok "$1"
  else
    bad "$1: rc $4; output differs from glibc's:"
    diff <(echo "$2") <(echo "$3") | head -10
  fi
}

# expect_invalid_free POLICY MODE WHAT: malloc_stress MODE aborts with
# "allocsim: free(): invalid pointer 0x..."
expect_invalid_free() {
  local out rc
  out=$(pre "$1" "$stress" "$2" 2>&1)
  rc=$?
  if [[ $rc == 134 && $out =~ allocsim:\ free\(\):\ invalid\ pointer\ 0x[0-9a-f]+ ]]; then
    ok "$1: $3"
  else
    bad "$1: $2: rc $rc: $out"
  fi
}

# --- every policy -----------------------------------------------------------
for p in "${policies[@]}"; do
  case $p in tcmalloc | hoard | private-heaps) cache_flip=0 ;; *) cache_flip=1 ;; esac
  for mode in edge "threads 4000" fork; do
    # shellcheck disable=SC2086
    out=$(pre "$p" "$stress" $mode 2>&1)
    rc=$?
    if [[ $rc == 0 && $out == "ok: ${mode%% *}" ]]; then
      ok "$p: malloc_stress $mode"
    else
      bad "$p: malloc_stress $mode: rc $rc: $(head -5 <<<"$out")"
    fi
  done
  expect_invalid_free "$p" badfree "free of a static address aborts with glibc's message"
  # the same stress with the thread-cache layer the other way round than
  # the policy's default (ALLOCSIM_CACHE): both must hold for every policy
  for mode in "threads 4000" fork; do
    # shellcheck disable=SC2086
    out=$(ALLOCSIM_CACHE=$cache_flip pre "$p" "$stress" $mode 2>&1)
    rc=$?
    if [[ $rc == 0 && $out == "ok: ${mode%% *}" ]]; then
      ok "$p: malloc_stress $mode with ALLOCSIM_CACHE=$cache_flip"
    else
      bad "$p: malloc_stress $mode with ALLOCSIM_CACHE=$cache_flip: rc $rc: $(head -5 <<<"$out")"
    fi
  done
  # a double free: detected by every policy whose free looks the block up
  # in a live map, and by the thread cache (the block is in a cache); only
  # tcmalloc without the cache misses it: its free pushes the block onto
  # its CPU cache unchecked, as TCMalloc does (docs/malloc.md)
  expect_invalid_free "$p" doublefree "a double free aborts"
  [[ $p != tcmalloc ]] && ALLOCSIM_CACHE=$cache_flip expect_invalid_free "$p" doublefree "a double free aborts with ALLOCSIM_CACHE=$cache_flip"
  if [[ -n $py ]]; then
    out=$(PYTHONHASHSEED=0 pre "$p" "$py" -c "$pywork" 2>&1)
    same "$p: python3" "$ref_py" "$out" $?
  fi
  # the policy's invariants over the real page source, under a real
  # program: the checking layer runs the policy's whole-heap check every N
  # calls and aborts on a violation
  out=$(ALLOCSIM_CHECK=500 pre "$p" "$stress" threads 2000 2>&1)
  rc=$?
  if [[ $rc == 0 && $out == "ok: threads" ]]; then
    ok "$p: malloc_stress threads under the checking layer"
  else
    bad "$p: malloc_stress threads with ALLOCSIM_CHECK=500: rc $rc: $(head -5 <<<"$out")"
  fi
  if [[ -n $py ]]; then
    out=$(PYTHONHASHSEED=0 ALLOCSIM_CHECK=20000 pre "$p" "$py" -c "$pywork" 2>&1)
    same "$p: python3 under the checking layer" "$ref_py" "$out" $?
  fi
  if [[ -n $ref_sql ]]; then
    out=$(pre "$p" sqlite3 :memory: "$sqlwork" 2>&1)
    same "$p: sqlite3" "$ref_sql" "$out" $?
  fi
  if [[ -n $ref_git ]]; then
    mkdir "$T/g-$p"
    out=$(ALLOCSIM_POLICY=$p LD_PRELOAD=$lib gitwork "$T/g-$p" 2>&1)
    same "$p: git init, commit, log, gc, fsck" "$ref_git" "$out" $?
  fi
  if [[ -n $cxx ]]; then
    out=$(pre "$p" "$T/newdelete" 2>&1)
    same "$p: C++ new/delete" "$ref_cxx" "$out" $?
  fi
done

# --- ALLOCSIM_STATS ---------------------------------------------------------
# `hold` keeps 10 blocks of 1 MiB (10485760 bytes, every byte written) for
# 300 ms; sampled every 10 ms, the peaks must see them. The process's own
# small allocations (stdio) add a little live memory, under 64 KiB here;
# resident memory is whole pages, plus the policy's rounding (llama: whole
# huge pages), under 4 MiB.
for p in tcmalloc bestfit; do
  json="$T/stats-$p-%p.json"
  out=$(ALLOCSIM_STATS=$json ALLOCSIM_STATS_PERIOD=10ms pre "$p" "$stress" hold 2>&1)
  rc=$?
  files=("$T"/stats-"$p"-*.json)
  if [[ $rc != 0 || ${#files[@]} != 1 || ! -r ${files[0]} ]]; then
    bad "$p: ALLOCSIM_STATS: rc $rc, files: ${files[*]}: $out"
    continue
  fi
  if [[ -z $py ]]; then
    echo "note: python3 not found: ALLOCSIM_STATS contents not checked"
    continue
  fi
  if msg=$("$py" - "${files[0]}" "$p" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
m = s["metrics"]
MiB = 1 << 20
errs = []
def need(cond, what):
    if not cond:
        errs.append(what)
need(s["policy"] == sys.argv[2], "policy %r" % s["policy"])
need(s["smaps_readable"] is True, "smaps not readable")
need(s["samples"] >= 3, "samples %d < 3" % s["samples"])
need(10 * MiB <= m["peak_live_bytes"] < 10 * MiB + 65536, "peak_live_bytes %d" % m["peak_live_bytes"])
need(m["peak_allocated_bytes"] >= m["peak_live_bytes"], "peak_allocated_bytes below peak_live_bytes")
need(10 * MiB <= m["peak_resident_bytes"] < 14 * MiB, "peak_resident_bytes %d" % m["peak_resident_bytes"])
need(0 < m["mean_resident_bytes"] <= m["peak_resident_bytes"], "mean_resident_bytes %d" % m["mean_resident_bytes"])
need(0 < m["mean_live_bytes"] <= m["peak_live_bytes"], "mean_live_bytes %d" % m["mean_live_bytes"])
need(m["peak_huge_bytes"] <= m["peak_resident_bytes"], "peak_huge_bytes above resident")
need(m["peak_mapped_bytes"] >= m["peak_resident_bytes"], "peak_mapped_bytes below resident")
need(0 < m["metadata_bytes"] <= m["peak_metadata_bytes"], "metadata_bytes %d" % m["metadata_bytes"])
need(m["allocs"] >= 10 and m["frees"] >= 10, "allocs %d frees %d" % (m["allocs"], m["frees"]))
need(m["duration_ns"] >= 300_000_000, "duration_ns %d" % m["duration_ns"])
print("; ".join(errs))
sys.exit(1 if errs else 0)
EOF
  ); then
    ok "$p: ALLOCSIM_STATS figures of 10 MiB held"
  else
    bad "$p: ALLOCSIM_STATS: $msg ($(tr -d '\n' <"${files[0]}"))"
  fi
done

# With the thread cache, the statistics layer sits above it: blocks a
# thread keeps cached are free for the program and not live. `smallhold`
# frees 2000 blocks of 100 B (which the cache keeps) before it allocates
# 1000 of 160 B: the program's peak is 200000 live bytes (plus stdio's
# buffers, under 64 KiB); had the cached blocks been counted it would be
# 360000. Same figure with the cache off.
for cache in 1 0; do
  json="$T/small-$cache.json"
  out=$(ALLOCSIM_CACHE=$cache ALLOCSIM_STATS=$json pre tcmalloc "$stress" smallhold 2>&1)
  rc=$?
  peak=$(tr -d ' \n' <"$json" 2>/dev/null | sed -E 's/.*"peak_live_bytes":([0-9]+).*/\1/')
  if [[ $rc == 0 && ${peak:-0} -ge 200000 && ${peak:-0} -lt 265536 ]]; then
    ok "ALLOCSIM_CACHE=$cache: peak_live_bytes $peak counts no cached block"
  else
    bad "ALLOCSIM_CACHE=$cache smallhold: rc $rc, peak_live_bytes ${peak:-?}: $out"
  fi
done

# --- the offload mode ---------------------------------------------------------
# ALLOCSIM_OFFLOAD=1: the policy runs on a server thread pinned to one CPU;
# every allocation is a request through the thread's ring, every free is
# queued. The stress modes pass; a bad free is reported by the server with
# glibc's message; the server is there (one more thread than under glibc,
# under a policy without ticks) and may run on exactly one CPU.
for p in tcmalloc hoard bestfit; do
  for mode in edge "threads 1000" fork; do
    # shellcheck disable=SC2086
    out=$(ALLOCSIM_OFFLOAD=1 pre "$p" "$stress" $mode 2>&1)
    rc=$?
    if [[ $rc == 0 && $out == "ok: ${mode%% *}" ]]; then
      ok "$p: malloc_stress $mode with ALLOCSIM_OFFLOAD=1"
    else
      bad "$p: malloc_stress $mode with ALLOCSIM_OFFLOAD=1: rc $rc: $(head -5 <<<"$out")"
    fi
  done
  ALLOCSIM_OFFLOAD=1 expect_invalid_free "$p" badfree "ALLOCSIM_OFFLOAD=1: the server reports a bad free"
done
if [[ -n $py ]]; then
  tasks='import os
ts = sorted(os.listdir("/proc/self/task"))
cpus = [open("/proc/self/task/%s/status" % t).read().split("Cpus_allowed_list:")[1].split()[0] for t in ts]
print(len(ts), sum(1 for c in cpus if "-" not in c and "," not in c))'
  base=$(ALLOCSIM_POLICY=bestfit LD_PRELOAD=$lib "$py" -c "$tasks" 2>&1)
  off=$(ALLOCSIM_OFFLOAD=1 ALLOCSIM_POLICY=bestfit LD_PRELOAD=$lib "$py" -c "$tasks" 2>&1)
  read -r n0 _ <<<"$base"
  read -r n1 pinned <<<"$off"
  # on a one-CPU machine every thread is on that CPU
  if [[ $n1 == $((n0 + 1)) && ${pinned:-0} -ge 1 ]]; then
    ok "ALLOCSIM_OFFLOAD=1: a server thread ($n1 threads, not $n0), pinned to one CPU"
  else
    bad "ALLOCSIM_OFFLOAD=1: threads and pinned ones: '$off' (without: '$base')"
  fi
fi
check_env_error ALLOCSIM_OFFLOAD yes "allocsim: ALLOCSIM_OFFLOAD=yes: must be 0 or 1"

# --- background ticks --------------------------------------------------------
# tcmalloc's tick (every 10 ms here) releases free pages at release_rate: a
# program that frees its 10 MiB and idles 300 ms ends with them returned to
# the OS when the rate is 1G/s (the thread runs ~30 ticks; >= 3 asked, as a
# loaded machine may delay it), and still
# resident when the rate is 0 (the default: nothing is released).
ticks_run() { # RATE: prints "ticks resident_bytes"
  local json="$T/tick-$1.json"
  ALLOCSIM_PARAM="tcmalloc.tick_interval=10ms,release_rate=$1" \
    ALLOCSIM_STATS=$json ALLOCSIM_STATS_PERIOD=10ms \
    pre tcmalloc "$stress" release >/dev/null 2>&1 || return 1
  tr -d ' \n' <"$json" | sed -E 's/.*"resident_bytes":([0-9]+).*"ticks":([0-9]+).*/\2 \1/'
}
read -r t1 r1 <<<"$(ticks_run 1G)"
read -r t0 r0 <<<"$(ticks_run 0)"
if [[ ${t1:-0} -ge 3 && ${r1:-1} -lt 1048576 && ${r0:-0} -ge 10485760 ]]; then
  ok "tcmalloc ticks on the background thread release freed memory ($t1 ticks: $r1 bytes resident at exit; without release $r0)"
else
  bad "background ticks: rate 1G: ${t1:-?} ticks, ${r1:-?} resident; rate 0: ${r0:-?} resident"
fi

exit $fail
