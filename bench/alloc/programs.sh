#!/usr/bin/env bash
# programs.sh BUILD [REPS] [PROGRAMS] - real programs under each allocator:
# peak RSS and speed of four workloads under glibc, the Debian jemalloc,
# gperftools tcmalloc and mimalloc (left out when not installed) and
# liballocsim_malloc.so with every registered policy, interleaved as in
# run.sh (each repetition runs every allocator once per program, in turn).
# PROGRAMS is a space-separated subset of "python sqlite redis cc" (default
# all four). Prints a markdown table per program: median peak RSS, its
# ratio to the best real allocator's median (the issue's target is <= 1.3
# for every policy), and the median over repetitions of the speed ratio to
# glibc within a repetition.
#
#   python  /usr/bin/python3 (pymalloc on): data/python_workload.py with
#           20000 documents in bench/fidelity's shape (built, dumped,
#           parsed, indexed, dropped, sorted). GNU time's maximum resident
#           set; time ratio.
#   sqlite  sqlite3 :memory:: data/sqlite_workload.sh 300000 --bulk
#           --note-bytes 40 (300000 rows of 80-character text, an index, a
#           count). GNU time's maximum resident set; time ratio.
#   redis   redis-server (127.0.0.1, a private port, no persistence) with
#           the allocator preloaded, driven by redis-benchmark *without*
#           it: 11 commands (set, get, incr, lpush, rpush, lpop, rpop,
#           sadd, hset, spop, lrange_100; bench/fidelity's mix) x 10000
#           requests, 8 clients, keys drawn from 10000, 200-byte values.
#           The server's VmHWM (/proc/PID/status) just before `shutdown
#           nosave`; the ratio of requests/s over the whole mix (all
#           requests / the sum of each command's time), so > 1 is faster.
#   cc      gcc -O2 -c of bench/gen_c.py's file, the allocator preloaded
#           into the driver and inherited by cc1 and as. GNU time's
#           maximum resident set (the largest of the processes: cc1);
#           time ratio.
#
# glibc's row preloads libc.so.6 itself: Debian's redis-server is linked
# against libjemalloc.so.2, so without a preload its malloc is jemalloc's;
# with libc.so.6 first in the lookup order malloc, free, realloc and
# malloc_usable_size bind to glibc (for the other programs the preload
# changes nothing). Under every preload Redis still calls the linked
# jemalloc's mallctl (INFO's allocator figures) and nallocx (size
# queries); neither serves an allocation.
#
# Environment: PROGRAMS_POLICIES="glibc llama" runs only those allocsim
# policies (default: every registered one); PROGRAMS_BASE_LIB=PATH adds,
# for each of them, a row "base-allocsim-P" under another build's
# liballocsim_malloc.so (e.g. the branch point's), interleaved with the
# rest, for before/after figures from the same runs.
#
# Any run that fails (exit status, no server, a benchmark line missing)
# stops the script with a message; a trap stops the Redis server and
# removes the work directory on every exit. Needs the Debian packages
# time, python3, sqlite3, redis-server, redis-tools and gcc (the
# Makefile's DEB_PACKAGES).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
usage="usage: programs.sh BUILD [REPS] [PROGRAMS]"
build=${1:?$usage}
reps=${2:-3}
programs=${3:-python sqlite redis cc}
[[ $reps =~ ^[1-9][0-9]*$ ]] || { echo "programs.sh: REPS: not a positive count: $reps" >&2; exit 2; }
for prog in $programs; do
  case $prog in python | sqlite | redis | cc) ;;
  *) echo "programs.sh: PROGRAMS: unknown program $prog (python sqlite redis cc)" >&2; exit 2 ;;
  esac
done
lib=$(realpath "$build/malloc/liballocsim_malloc.so")
stress=$build/malloc/malloc_stress
libdir=/usr/lib/x86_64-linux-gnu
declare -A pre=([glibc]=$libdir/libc.so.6)
names=(glibc)
real=(glibc)
for pair in jemalloc:libjemalloc.so.2 tcmalloc-gperftools:libtcmalloc_minimal.so.4 mimalloc:libmimalloc.so.2; do
  n=${pair%%:*} f=$libdir/${pair#*:}
  if [[ -r $f ]]; then pre[$n]=$f; names+=("$n"); real+=("$n"); else echo "note: $f missing: $n left out" >&2; fi
done
policies=$(ALLOCSIM_POLICY=no-such LD_PRELOAD=$lib "$stress" edge 2>&1 | sed -n 's/.*valid: //p' || true)
declare -A pol=()
if [[ -n ${PROGRAMS_POLICIES:-} ]]; then
  for p in $PROGRAMS_POLICIES; do
    [[ " $policies " == *" $p "* ]] || { echo "programs.sh: PROGRAMS_POLICIES: unknown policy $p ($policies)" >&2; exit 2; }
  done
  policies=$PROGRAMS_POLICIES
fi
base_lib=${PROGRAMS_BASE_LIB:-}
[[ -z $base_lib || -r $base_lib ]] || { echo "programs.sh: PROGRAMS_BASE_LIB: $base_lib: not readable" >&2; exit 2; }
for p in $policies; do
  pre[allocsim-$p]=$lib pol[allocsim-$p]=$p
  names+=("allocsim-$p")
  if [[ -n $base_lib ]]; then
    pre[base-allocsim-$p]=$(realpath "$base_lib") pol[base-allocsim-$p]=$p
    names+=("base-allocsim-$p")
  fi
done
py=/usr/bin/python3

work=$(mktemp -d)
out=$work/rows
server=""
port=${PROGRAMS_REDIS_PORT:-$((20000 + $$ % 20000))}
rcli=(redis-cli -h 127.0.0.1 -p "$port")
# stop_server: ends the Redis server this script started, if it still
# runs (SIGTERM is Redis's clean shutdown; SIGKILL after 10 s).
stop_server() {
  [[ -n $server ]] || return 0
  if kill -0 "$server" 2>/dev/null; then
    kill "$server" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$server" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$server" 2>/dev/null; then kill -9 "$server" 2>/dev/null || true; fi
  fi
  wait "$server" 2>/dev/null || true
  server=""
}
trap 'stop_server; rm -rf "$work"' EXIT
trap 'exit 130' INT TERM
python3 "$here/../gen_c.py" "$work/gen.c"
# the Python and SQLite workloads of data/ (every recorded run's), sized here
python3 "$here/../../data/python_workload.py" 20000 --list --no-words --drop \
  --keep sorted >"$work/work.py"
sqlwork=$(bash "$here/../../data/sqlite_workload.sh" 300000 --bulk --note-bytes 40)

# run_redis ALLOCATOR POLICY: one server under ALLOCATOR's preload; writes
# "PEAK_KB|RPS" to $work/res (not a command substitution: the server must
# stay this shell's child, for the trap). @return 1 (with a message) when
# the server does not come up, another one answers on the port, the
# benchmark misses a command or the server does not exit cleanly.
run_redis() {
  local n=$1 pol=$2
  if "${rcli[@]}" ping >/dev/null 2>&1; then
    echo "programs.sh: port $port already serves Redis (set PROGRAMS_REDIS_PORT)" >&2
    return 1
  fi
  env ALLOCSIM_POLICY="$pol" LD_PRELOAD="${pre[$n]}" redis-server --bind 127.0.0.1 \
    --port "$port" --save "" --appendonly no --protected-mode yes --dir "$work" \
    --logfile "$work/redis.log" &
  server=$!
  local up=0
  for _ in $(seq 200); do
    "${rcli[@]}" ping >/dev/null 2>&1 && { up=1; break; }
    kill -0 "$server" 2>/dev/null || break
    sleep 0.05
  done
  [[ $up == 1 ]] || { echo "programs.sh: redis under $n did not start ($work/redis.log: $(tail -2 "$work/redis.log" 2>/dev/null))" >&2; return 1; }
  # another program may have taken the port since the check above
  local who
  who=$("${rcli[@]}" info server | tr -d '\r' | awk -F: '$1 == "process_id" { print $2 }')
  [[ $who == "$server" ]] || { echo "programs.sh: port $port is served by pid $who, not by this script's server $server" >&2; return 1; }
  redis-benchmark -h 127.0.0.1 -p "$port" -n 10000 -c 8 -r 10000 -d 200 --csv \
    -t set,get,incr,lpush,rpush,lpop,rpop,sadd,hset,spop,lrange_100 >"$work/bench.csv" ||
    { echo "programs.sh: redis-benchmark under $n failed" >&2; return 1; }
  local kb
  kb=$(awk '$1 == "VmHWM:" { print $2 }' "/proc/$server/status")
  [[ -n $kb ]] || { echo "programs.sh: redis under $n: no VmHWM" >&2; return 1; }
  "${rcli[@]}" shutdown nosave >/dev/null 2>&1 || true
  for _ in $(seq 100); do kill -0 "$server" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$server" 2>/dev/null && { echo "programs.sh: redis under $n still runs 10 s after SHUTDOWN" >&2; return 1; }
  local rc=0
  wait "$server" || rc=$?
  server=""
  [[ $rc == 0 ]] || { echo "programs.sh: redis under $n exited with $rc" >&2; return 1; }
  # every command's "NAME","RPS",... line; 12 with LRANGE's fill
  python3 - "$work/bench.csv" "$kb" >"$work/res" <<'PY'
import csv, sys
rows = [r for r in csv.reader(open(sys.argv[1])) if r and r[0] != "test"]
if len(rows) != 12 or any(float(r[1]) <= 0 for r in rows):
    sys.exit("programs.sh: redis-benchmark: %d command lines, expected 12" % len(rows))
print("%s|%.1f" % (sys.argv[2], len(rows) / sum(1 / float(r[1]) for r in rows)))
PY
}

for ((r = 1; r <= reps; r++)); do
  for prog in $programs; do
    for n in "${names[@]}"; do
      p=${pol[$n]:-}
      if [[ $prog == redis ]]; then
        run_redis "$n" "$p" || exit 1
        echo "$r|$prog|$n|$(cat "$work/res")" >>"$out"
        continue
      fi
      case $prog in
      python) cmd=("$py" "$work/work.py") ;;
      sqlite) cmd=(sqlite3 :memory: "$sqlwork") ;;
      cc) cmd=(gcc -O2 -c "$work/gen.c" -o "$work/gen.o") ;;
      esac
      if ! res=$(ALLOCSIM_POLICY=$p LD_PRELOAD=${pre[$n]} /usr/bin/time -f "res %M %e" "${cmd[@]}" 2>&1 >/dev/null); then
        echo "programs.sh: $prog under $n failed: $res" >&2
        exit 1
      fi
      echo "$r|$prog|$n|$(awk '$1 == "res" { print $2 "|" $3 }' <<<"$res")" >>"$out"
    done
  done
done
python3 - "$out" "${real[*]}" <<'PY'
import sys, statistics, collections
real = sys.argv[2].split()
rows = [l.strip().split("|") for l in open(sys.argv[1]) if l.strip()]
rss = collections.defaultdict(list); t = collections.defaultdict(dict)
names = []
for rep, prog, n, kb, speed in rows:
    rss[(prog, n)].append(int(kb)); t[(prog, rep)][n] = float(speed)
    if n not in names: names.append(n)
for prog in dict.fromkeys(r[1] for r in rows):
    med = {n: statistics.median(rss[(prog, n)]) for n in names}
    best = min(med[n] for n in real)
    bestn = min(real, key=lambda n: med[n])
    # redis: requests/s (higher is faster); the others: seconds
    col = "requests/s × glibc" if prog == "redis" else "time × glibc"
    print(f"\n#### {prog}\n")
    print(f"| allocator | peak RSS MiB | × best real ({bestn}) | {col} |")
    print("|---|---|---|---|")
    for n in names:
        reps = [k for k in t if k[0] == prog]
        tr = statistics.median(t[k][n] / t[k]["glibc"] for k in reps)
        print(f"| {n} | {med[n]/1024:.1f} | {med[n]/best:.2f} | {tr:.2f} |")
PY
