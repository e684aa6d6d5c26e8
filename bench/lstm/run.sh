#!/usr/bin/env bash
# bench/lstm/run.sh - the measurements of docs/predictors/lstm.md: the LSTM
# lifetime predictor trained on one recording of a program and scored on
# another recording of the same program on other inputs, next to oracle,
# site (learned from the same training recording) and none; training CPU
# time, uncached and cached prediction cost, model size.
#
#   bench/lstm/run.sh [BUILD_DIR] [OUT_DIR]   (defaults: build, /tmp/lstm-bench)
#
# Needs python3 and sqlite3 (the second recordings are made here with
# `allocsim record`; the first are data/python.ast and data/sqlite.ast).
# Not part of `make test`: it takes minutes. Every figure comes from the
# JSON that `allocsim eval --json` writes into OUT_DIR.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$here/../..
build=${1:-$src/build}
out=${2:-/tmp/lstm-bench}
A=$build/allocsim
[[ -x $A ]] || { echo "run.sh: $A not built" >&2; exit 2; }
mkdir -p "$out"
# the training knobs of every run below (kept small: the machine has 2 cores)
KNOBS=(--epochs ${EPOCHS:-8} --patience 2 --max-tokens 32 --hidden 32 --embed 16)

# ---- second recordings: the same programs on other inputs
cat >"$out/b.py" <<'PY'
import re, collections, itertools, random
text = " ".join("w%d-%s" % (i % 500, "x" * (i % 13)) for i in range(40000))
counts = collections.Counter(re.findall(r"w\d+", text))
pairs = list(itertools.islice(itertools.combinations(sorted(counts)[:200], 2), 20000))
tree = {}
for a, b in pairs:
    tree.setdefault(a, set()).add(b)
lines = ["%s:%d" % (k, len(v)) for k, v in tree.items()]
out = "\n".join(sorted(lines, key=len))
class Node:
    __slots__ = ("k", "l", "r")
    def __init__(self, k): self.k = k; self.l = None; self.r = None
root = None
random.seed(3)
for i in range(20000):
    k = random.random()
    if root is None: root = Node(k); continue
    n = root
    while True:
        if k < n.k:
            if n.l is None: n.l = Node(k); break
            n = n.l
        else:
            if n.r is None: n.r = Node(k); break
            n = n.r
print(len(out))
PY
[[ -s $out/python-b.ast ]] ||
  PYTHONMALLOC=malloc "$A" record -o "$out/python-b.ast" -- python3 "$out/b.py" >/dev/null
cat >"$out/b.sql" <<'SQL'
CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT, c REAL);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 8000)
INSERT INTO t SELECT i, printf('%08x-%s', i * 7919, substr(hex(randomblob(40)), 1, i % 50)), i * 0.5 FROM n;
CREATE INDEX t_b ON t(b);
SELECT substr(b, 1, 3) AS k, count(*), avg(c) FROM t GROUP BY k ORDER BY 2 DESC LIMIT 10;
CREATE TABLE u AS SELECT a % 100 AS g, group_concat(b) AS s FROM t GROUP BY g;
SELECT g, length(s) FROM u WHERE g IN (SELECT a % 7 FROM t WHERE c > 100) ORDER BY 2;
UPDATE t SET b = upper(b) WHERE a % 5 = 0;
DELETE FROM t WHERE c < 1000;
SELECT count(*) FROM t x, u y WHERE x.a % 100 = y.g AND y.g < 10;
SQL
[[ -s $out/sqlite-b.ast ]] ||
  { rm -f "$out/b.db"; "$A" record -o "$out/sqlite-b.ast" -- sqlite3 "$out/b.db" ".read $out/b.sql" >/dev/null; }

# ---- train on recording A, score on recording B (and on A itself)
for prog in sqlite python; do
  "$A" eval -q --json "${KNOBS[@]}" --train "$src/data/$prog.ast" \
    "$out/$prog-b.ast" >"$out/$prog-a-on-b.json"
  "$A" train -q --json --predictor lstm "${KNOBS[@]}" "$src/data/$prog.ast" \
    -o "$out/$prog.model" >"$out/$prog-train.json"
  "$A" eval -q --json --model "$out/$prog.model" --train "$src/data/$prog.ast" \
    "$src/data/$prog.ast" >"$out/$prog-a-on-a.json"
done
# redis: one recording only, scored on itself
"$A" train -q --json --predictor lstm "${KNOBS[@]}" "$src/data/redis.ast" \
  -o "$out/redis.model" >"$out/redis-train.json"
"$A" eval -q --json --model "$out/redis.model" --train "$src/data/redis.ast" \
  "$src/data/redis.ast" >"$out/redis-a-on-a.json"
# a smaller model for the latency trade-off (python A on B)
"$A" eval -q --json --epochs ${EPOCHS:-8} --patience 2 --max-tokens 16 \
  --hidden 16 --embed 8 --train "$src/data/python.ast" "$out/python-b.ast" \
  >"$out/python-a-on-b-small.json"
# end to end: llama with the lstm model (cached) on the python recording B
"$A" run -q --policy llama --predictor cached:lstm \
  --predictor-load "$out/python.model" -o "$out/run-llama-lstm" "$out/python-b.ast"
"$A" run -q --policy llama --predictor oracle -o "$out/run-llama-oracle" "$out/python-b.ast"
"$A" run -q --policy tcmalloc -o "$out/run-tcmalloc" "$out/python-b.ast"
python3 "$here/table.py" "$out"
