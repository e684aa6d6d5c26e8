#!/usr/bin/env bash
# data/record.sh - re-record the bundled real traces with `allocsim record`.
#
#   data/record.sh [BUILD_DIR [TRACE...]]   (default: build, every trace)
#
# Needs the Debian packages redis-server, redis-tools, sqlite3 and python3,
# and a build with the recorder (ALLOCSIM_RECORDER=ON, the default). Writes
# data/redis.ast, data/sqlite.ast and data/python.ast, each bounded so
# that it stays under 5 MB, and data/redis-long.ast, a 10.5-minute Redis
# run under a day-shaped load (data/redis_load.py) of at most 24 MB; TRACE
# names (redis, sqlite, python, redis-long) re-record only those.
# docs/recording.md lists the exact workloads. Redis listens on 127.0.0.1
# only and is shut down by redis-cli when the load ends. Two variables let
# other scripts record the same workloads elsewhere (bench/glibc/
# fidelity.sh): RECORD_OUT, the directory of the traces (default data/),
# and RECORD_OPTS, more `allocsim record` options (word-split).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${RECORD_OUT:-$here}
read -r -a ropts <<<"${RECORD_OPTS:-}"
build=${1:-$here/../build}
allocsim=$build/allocsim
[[ -x $allocsim ]] || { echo "record.sh: $allocsim not built" >&2; exit 2; }
for c in redis-server redis-benchmark redis-cli sqlite3 python3; do
  command -v "$c" >/dev/null || {
    echo "record.sh: '$c' missing: apt-get install redis-server redis-tools sqlite3 python3" >&2
    exit 2
  }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
shift || true
want() { # NAME [SELECTED...]: record NAME? (all when none is selected)
  local n=$1 t; shift
  [[ $# -eq 0 ]] && return 0
  for t in "$@"; do [[ $t == "$n" ]] && return 0; done
  return 1
}
only=("$@")
check_size() {
  local n max=$((${2:-5} * 1024 * 1024)); n=$(stat -c %s "$1")
  echo "$1: $n bytes"
  (( n <= max )) || { echo "record.sh: $1 is over ${2:-5} MB" >&2; exit 1; }
}
start_redis() { # PORT TRACE [RECORD OPTIONS...]: redis-server, recorded
  local p=$1 trace=$2; shift 2
  "$allocsim" record "${ropts[@]}" "$@" -o "$trace" -- redis-server --bind 127.0.0.1 \
    --port "$p" --save "" --appendonly no --protected-mode yes \
    --dir "$tmp" --logfile "$tmp/redis-$p.log" &
  rec=$!
  for _ in $(seq 100); do
    redis-cli -h 127.0.0.1 -p "$p" ping >/dev/null 2>&1 && break
    sleep 0.1
  done
}
port=${REDIS_PORT:-63791}

# ---- Redis under redis-benchmark: 127.0.0.1 only, 12000 requests per test.
if want redis "${only[@]}"; then
start_redis "$port" "$out/redis.ast"
redis-benchmark -h 127.0.0.1 -p "$port" -n 12000 -c 8 -r 10000 -d 100 -q \
  -t set,get,incr,lpush,rpush,lpop,rpop,sadd,hset,spop,lrange_100 >/dev/null
redis-cli -h 127.0.0.1 -p "$port" shutdown nosave >/dev/null 2>&1 || true
wait "$rec"
check_size "$out/redis.ast"
fi

# ---- Redis for 10.5 minutes under one compressed day of load: 4 client
# threads (connections), peak 3000 commands/s, keys with TTLs of 5-240 s
# (data/redis_load.py); times at 1 us to stay within 24 MB.
if want redis-long "${only[@]}"; then
start_redis "$((port + 1))" "$out/redis-long.ast" --time-resolution 1us
/usr/bin/env python3 "$here/redis_load.py" "$((port + 1))" 630 4 3000 1
redis-cli -h 127.0.0.1 -p "$((port + 1))" shutdown nosave >/dev/null 2>&1 || true
wait "$rec"
check_size "$out/redis-long.ast" 24
fi

# ---- SQLite: a table of 20000 rows, an index, queries, updates, deletes.
if want sqlite "${only[@]}"; then
"$here/sqlite_workload.sh" 20000 >"$tmp/work.sql"
"$allocsim" record "${ropts[@]}" -o "$out/sqlite.ast" -- sqlite3 "$tmp/work.db" ".read $tmp/work.sql" >/dev/null
check_size "$out/sqlite.ast"
fi

# ---- Python with PYTHONMALLOC=malloc: every object reaches malloc.
if want python "${only[@]}"; then
python3 "$here/python_workload.py" 3000 >"$tmp/work.py"
PYTHONMALLOC=malloc "$allocsim" record "${ropts[@]}" -o "$out/python.ast" -- /usr/bin/python3 "$tmp/work.py" >/dev/null
check_size "$out/python.ast"
fi
