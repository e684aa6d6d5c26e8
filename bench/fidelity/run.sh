#!/usr/bin/env bash
# bench/fidelity/run.sh - the simulator against the real allocator (issue 11).
#
#   bench/fidelity/run.sh [BUILD_DIR] [POLICIES] [PROGRAMS]
#     BUILD_DIR  default build
#     POLICIES   space-separated, default: every policy the preload library
#                knows (read from its own message for an unknown name)
#     PROGRAMS   space-separated subset of "python sqlite redis cc",
#                default all four
#   Environment: FID_PARAM="a.b=v,..." is given to both sides
#   (ALLOCSIM_PARAM and --param), FID_KEEP=DIR keeps traces, stats files
#   and run directories there, FID_PERIOD the sampling period of the real
#   run (ALLOCSIM_STATS_PERIOD, default 10ms), FID_CONTROL=0 skips the
#   touch-everything control runs, FID_REALLOC the replay's --realloc mode
#   (default preload: what liballocsim_malloc.so's realloc does; hook is
#   the simulator's default, the policy's in-place realloc hook),
#   FID_WRITES=on|off the recorder's --writes (default on: the trace says
#   which pages of blocks of 8 KiB and more the program wrote, and the
#   replay touches only those; off: every byte counts as written at
#   allocation, as the engine assumed before write reports),
#   FID_WRITES_MIN the recorder's --writes-min (default its own, 8K: the
#   smallest object whose pages are reported; smaller ones count as
#   written whole at allocation),
#   FID_CACHE=0|1 the real runs' ALLOCSIM_CACHE (default: the library's
#   default per policy, on for tcmalloc, hoard and private-heaps). The
#   replay has the thread cache (`allocsim run --thread-cache on`) exactly
#   when the real run had it: when the real run's statistics carry the
#   cache's counters (policy.tcache_hits), which the library writes only
#   with the cache on, so the script needs no copy of the library's
#   per-policy default.
#
# For each program and policy P: runs the program under the preload build
# (liballocsim_malloc.so, ALLOCSIM_POLICY=P, ALLOCSIM_STATS) while
# `allocsim record` records it, replays the trace with `allocsim run
# --policy P --realloc preload`, with the thread cache when the real run
# had it (above), and the same parameters (the simulated OS
# takes the recording host's THP settings from the trace; --realloc preload
# replays each realloc as the preload library does it, never through the
# policy's realloc hook, which the library does not call), and prints one
# table row per run:
# measured and simulated peak resident bytes, mean resident bytes, peak
# huge bytes and huge-page coverage, with the deviations sim/measured - 1.
#
# Control. Each program and policy runs a second time with
# libfidelity_touch.so (bench/fidelity/touch.c) preloaded between the
# recorder and the allocator: it writes one byte of every page of each
# block malloc and realloc return, which is what the simulator assumes a
# program does. The last two columns are the deviations of that run. A
# deviation that disappears under the control comes from bytes the program
# asked for and never wrote (no trace can show them), not from the model;
# what remains is the model's.
#
# Stacking order. Both libraries are LD_PRELOAD interposers. `allocsim
# record` puts its recorder *in front of* whatever LD_PRELOAD it inherits,
# so `LD_PRELOAD=liballocsim_malloc.so allocsim record -- CMD` runs CMD with
# LD_PRELOAD=liballocsim_record.so:liballocsim_malloc.so: the program's
# malloc binds to the recorder (first in the lookup order), and the
# recorder's dlsym(RTLD_NEXT, "malloc") finds liballocsim_malloc.so, the
# next object in that order, so every call is recorded and then served by
# allocsim's policy. The collector process (allocsim record itself) also
# inherits LD_PRELOAD=liballocsim_malloc.so and writes a statistics file of
# its own; the program's is picked out by the pid the trace records
# (`meta pid`).
#
# Programs (workloads as data/record.sh, larger):
#   python  /usr/bin/python3 with PYTHONMALLOC=malloc (every object reaches
#           malloc; pymalloc would take its arenas from mmap directly)
#   sqlite  sqlite3 on a file database: inserts, an index, group-by,
#           updates, deletes, a sort, VACUUM
#   redis   redis-server (127.0.0.1, no persistence) under redis-benchmark,
#           shut down by redis-cli; the benchmark runs without the preload
#   cc      cc1, gcc's compiler proper, run directly on a generated C file
#           (-O2), so the driver is left out (record --follow-forks would
#           follow the driver's posix_spawn into cc1's own trace)
# Not part of `make test` (tests/check_fidelity_smoke.sh is the short
# version). Needs the Debian packages python3, sqlite3, redis-server,
# redis-tools, gcc.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(realpath "${1:-$here/../../build}")
allocsim=$build/allocsim
lib=$build/malloc/liballocsim_malloc.so
touchlib=$build/bench/libfidelity_touch.so
[[ -x $allocsim && -f $lib ]] || {
  echo "run.sh: $allocsim or $lib not built" >&2
  exit 2
}
# the library aborts on an unknown policy, naming the valid ones
known=$(ALLOCSIM_POLICY=no-such LD_PRELOAD=$lib /bin/ls -d / 2>&1 >/dev/null |
  sed -n 's/.*valid: //p' || true)
policies=${2:-$known}
programs=${3:-python sqlite redis cc}
[[ -n $policies ]] || { echo "run.sh: no policy list" >&2; exit 2; }
if [[ -n ${FID_KEEP:-} ]]; then
  tmp=$FID_KEEP
  mkdir -p "$tmp"
else
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
fi
tmp=$(realpath "$tmp")
period=${FID_PERIOD:-10ms}
realloc=${FID_REALLOC:-preload}
control=${FID_CONTROL:-1}
[[ $control = 0 || -f $touchlib ]] || {
  echo "run.sh: $touchlib not built (FID_CONTROL=0 skips the control)" >&2
  exit 2
}
run_params=()
IFS=, read -r -a plist <<<"${FID_PARAM:-}"
for p in "${plist[@]}"; do
  [[ -n $p ]] && run_params+=(--param "$p")
done

# ---- workloads ------------------------------------------------------------
python3 "$here/../../data/python_workload.py" 6000 --list --no-words --drop \
  --keep sorted >"$tmp/work.py"
"$here/../../data/sqlite_workload.sh" 20000 --sort 5000 --length >"$tmp/work.sql"
# The C file the cc workload compiles (bench/gen_c.py).
python3 "$here/../gen_c.py" "$tmp/gen.c"

cc1=$(gcc -print-prog-name=cc1)
port=${FID_REDIS_PORT:-$((20000 + $$ % 20000))}

# run_one PROG POLICY DIR PRELOAD: record PROG under the preload build with
# POLICY (PRELOAD: the libraries behind the recorder); leaves
# DIR/trace.ast, DIR/stats.json and the replay in DIR/run. @return 1 when
# the program failed (exit status; SQLite: any message on stderr, since its
# shell goes on after a failed statement) or left no statistics.
run_one() {
  local prog=$1 pol=$2 d=$3 pre=$4
  rm -rf "$d"
  mkdir -p "$d"
  local -a env=(ALLOCSIM_POLICY="$pol" ALLOCSIM_PARAM="${FID_PARAM:-}"
    ALLOCSIM_STATS="$d/stats.%p.json" ALLOCSIM_STATS_PERIOD="$period"
    LD_PRELOAD="$pre")
  [[ -n ${FID_CACHE:-} ]] && env+=(ALLOCSIM_CACHE="$FID_CACHE")
  local -a rec=("$allocsim" record -q --writes "${FID_WRITES:-on}"
    ${FID_WRITES_MIN:+--writes-min "$FID_WRITES_MIN"} -o "$d/trace.ast" --)
  case $prog in
  python)
    env PYTHONMALLOC=malloc "${env[@]}" "${rec[@]}" /usr/bin/python3 \
      "$tmp/work.py" >"$d/out" || return 1 ;;
  sqlite)
    rm -f "$d/work.db"
    env "${env[@]}" "${rec[@]}" sqlite3 "$d/work.db" ".read $tmp/work.sql" \
      >"$d/out" 2>"$d/err" && [[ ! -s $d/err ]] || return 1 ;;
  cc)
    env "${env[@]}" "${rec[@]}" "$cc1" -quiet -O2 "$tmp/gen.c" \
      -o "$d/gen.s" >"$d/out" || return 1 ;;
  target)
    # tests/fidelity_target (tests/check_fidelity_smoke.sh)
    env "${env[@]}" "${rec[@]}" "$build/malloc/fidelity_target" >"$d/out" || return 1 ;;
  redis)
    env "${env[@]}" "${rec[@]}" redis-server --bind 127.0.0.1 --port "$port" \
      --save "" --appendonly no --protected-mode yes --dir "$d" \
      --logfile "$d/redis.log" &
    local rpid=$! up=0
    for _ in $(seq 200); do
      redis-cli -h 127.0.0.1 -p "$port" ping >/dev/null 2>&1 && { up=1; break; }
      sleep 0.05
    done
    [[ $up = 1 ]] || { echo "run.sh: redis did not start" >&2; kill "$rpid"; return 1; }
    redis-benchmark -h 127.0.0.1 -p "$port" -n 4000 -c 8 -r 4000 -d 200 -q \
      -t set,get,incr,lpush,rpush,lpop,rpop,sadd,hset,spop,lrange_100 \
      >"$d/out"
    redis-cli -h 127.0.0.1 -p "$port" shutdown nosave >/dev/null 2>&1 || true
    wait "$rpid" || return 1 ;;
  *) echo "run.sh: unknown program $prog" >&2; return 2 ;;
  esac
  local pid
  pid=$("$allocsim" info "$d/trace.ast" | awk '$1 == "meta" && $2 == "pid" {print $4}')
  [[ -s $d/stats.$pid.json ]] || { echo "run.sh: $prog/$pol: no statistics for pid $pid" >&2; return 1; }
  mv "$d/stats.$pid.json" "$d/stats.json"
  local cache=off
  grep -q '"policy.tcache_hits"' "$d/stats.json" && cache=on
  "$allocsim" run -q --policy "$pol" --realloc "$realloc" "${run_params[@]}" \
    --thread-cache "$cache" "$d/trace.ast" \
    -o "$d/run" >/dev/null 2>"$d/run.stderr"
}

echo "| program | policy | peak resident measured MiB | simulated | dev | mean resident measured | simulated | dev | peak huge measured | simulated | huge coverage measured | simulated | control: peak dev | control: mean dev |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
for prog in $programs; do
  for pol in $policies; do
    d=$tmp/$prog-$pol
    if ! run_one "$prog" "$pol" "$d" "$lib"; then
      echo "| $prog | $pol | failed (see $d) |"
      continue
    fi
    c=none
    if [[ $control != 0 ]]; then
      c=$tmp/$prog-$pol-touch
      run_one "$prog" "$pol" "$c" "$touchlib:$lib" || c=failed
    fi
    python3 - "$prog" "$pol" "$d" "$c" <<'PY'
import json, os, sys
prog, pol, d, c = sys.argv[1:5]
def load(d):
    return (json.load(open(os.path.join(d, "stats.json")))["metrics"],
            json.load(open(os.path.join(d, "run", "summary.json")))["metrics"])
r, s = load(d)
def mib(b): return "%.2f" % (b / 1048576)
def dev(a, b): return "%+.1f%%" % ((b / a - 1) * 100) if a else ("0" if b == 0 else "n/a")
pr, ps = r["peak_resident_bytes"], s["peak_resident_bytes"]
mr, ms = r["mean_resident_bytes"], s["mean_resident_bytes"]
hr, hs = r["peak_huge_bytes"], s["peak_huge_bytes"]
cr, cs = r["hugepage_coverage_mean"], s["hugepage_coverage_mean"]
ctl = ["", ""] if c == "none" else ["failed", "failed"]
if c not in ("none", "failed"):
    rc, sc = load(c)
    ctl = [dev(rc["peak_resident_bytes"], sc["peak_resident_bytes"]),
           dev(rc["mean_resident_bytes"], sc["mean_resident_bytes"])]
print(f"| {prog} | {pol} | {mib(pr)} | {mib(ps)} | {dev(pr, ps)} | {mib(mr)} | "
      f"{mib(ms)} | {dev(mr, ms)} | {mib(hr)} | {mib(hs)} | {cr:.1%} | {cs:.1%} | "
      f"{ctl[0]} | {ctl[1]} |", flush=True)
PY
  done
done
