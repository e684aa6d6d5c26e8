#!/usr/bin/env bash
# data/record.sh - re-record the bundled real traces with `allocsim record`.
#
#   data/record.sh [BUILD_DIR]        (default: build)
#
# Needs the Debian packages redis-server, redis-tools, sqlite3 and python3,
# and a build with the recorder (ALLOCSIM_RECORDER=ON, the default). Writes
# data/redis.ast, data/sqlite.ast and data/python.ast; each workload is
# bounded so that a trace stays under 5 MB (docs/recording.md lists the
# exact workloads). Redis listens on 127.0.0.1 only and is shut down by
# redis-cli when the benchmark ends.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
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
max=$((5 * 1024 * 1024))
check_size() {
  local n; n=$(stat -c %s "$1")
  echo "$1: $n bytes"
  (( n <= max )) || { echo "record.sh: $1 is over 5 MB" >&2; exit 1; }
}

# ---- Redis under redis-benchmark: 127.0.0.1 only, 12000 requests per test.
port=${REDIS_PORT:-63791}
"$allocsim" record -o "$here/redis.ast" -- redis-server --bind 127.0.0.1 \
  --port "$port" --save "" --appendonly no --protected-mode yes \
  --dir "$tmp" --logfile "$tmp/redis.log" &
rec=$!
for _ in $(seq 100); do
  redis-cli -h 127.0.0.1 -p "$port" ping >/dev/null 2>&1 && break
  sleep 0.1
done
redis-benchmark -h 127.0.0.1 -p "$port" -n 12000 -c 8 -r 10000 -d 100 -q \
  -t set,get,incr,lpush,rpush,lpop,rpop,sadd,hset,spop,lrange_100 >/dev/null
redis-cli -h 127.0.0.1 -p "$port" shutdown nosave >/dev/null 2>&1 || true
wait "$rec"
check_size "$here/redis.ast"

# ---- SQLite: a table of 20000 rows, an index, queries, updates, deletes.
cat >"$tmp/work.sql" <<'SQL'
CREATE TABLE item(id INTEGER PRIMARY KEY, name TEXT, qty INTEGER, note TEXT);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000)
INSERT INTO item SELECT i, 'item-' || i, i % 97, hex(randomblob(16 + i % 64)) FROM n;
CREATE INDEX item_qty ON item(qty);
SELECT qty, count(*), sum(length(note)) FROM item GROUP BY qty ORDER BY 3 DESC LIMIT 5;
UPDATE item SET note = note || note WHERE qty < 20;
SELECT count(*) FROM item a JOIN item b ON a.qty = b.qty AND b.id = a.id + 97;
DELETE FROM item WHERE id % 3 = 0;
SELECT group_concat(name, ',') FROM (SELECT name FROM item ORDER BY note LIMIT 2000);
VACUUM;
SQL
"$allocsim" record -o "$here/sqlite.ast" -- sqlite3 "$tmp/work.db" ".read $tmp/work.sql" >/dev/null
check_size "$here/sqlite.ast"

# ---- Python with PYTHONMALLOC=malloc: every object reaches malloc.
cat >"$tmp/work.py" <<'PY'
import json, random
random.seed(7)
docs = []
for i in range(3000):
    d = {"id": i, "name": "user%d" % i, "tags": [str(random.random()) for _ in range(8)],
         "score": random.random() * 100}
    docs.append(d)
text = json.dumps(docs)
back = json.loads(text)
index = {}
for d in back:
    for t in d["tags"]:
        index.setdefault(t[:4], []).append(d["id"])
words = sorted(set(" ".join(d["name"] for d in back).split()))
keep = [d for d in back if d["score"] > 50]
print(len(text), len(index), len(words), len(keep))
PY
PYTHONMALLOC=malloc "$allocsim" record -o "$here/python.ast" -- /usr/bin/python3 "$tmp/work.py" >/dev/null
check_size "$here/python.ast"
