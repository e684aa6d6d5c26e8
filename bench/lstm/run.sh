#!/usr/bin/env bash
# bench/lstm/run.sh - the measurements of docs/predictors/lstm.md: the LSTM
# lifetime predictor trained on recordings of a program (sqlite3, python3,
# gcc's cc1, server-mix) and scored on a recording of the same program on
# other inputs, next to oracle, site (learned from the same training
# recordings) and none; training CPU time (and PyTorch's on the same
# samples), uncached and cached prediction cost and cache hit rates, model
# size; LLAMA with the model end to end against tcmalloc and llama+oracle.
#
#   bench/lstm/run.sh [BUILD_DIR] [OUT_DIR]   (defaults: build, /tmp/lstm-bench)
#
# Needs python3, sqlite3 and gcc (the recordings other than data/*.ast are
# made here with `allocsim record`), and for the reference /usr/bin/python3
# with Debian's python3-torch (skipped when missing).
# Not part of `make test`: it takes minutes. PROGS (default "sqlite python
# cc1 servermix") and REDIS=0 select parts, so that parts can run at once
# into one OUT_DIR (recordings are made once, by the first). Every figure comes from the
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

# ---- cc1 (gcc's compiler proper, recorded directly): A = two of this
# project's sources, B = another one, all preprocessed first
CC1=$(gcc -print-prog-name=cc1)
for f in engine cmd_run cmd_eval; do
  [[ -s $out/$f.i ]] || gcc -E -I"$src" "$src/sim/$f.c" -o "$out/$f.i"
done
rec_cc1() { [[ -s $out/$2.ast ]] ||
  "$A" record -o "$out/$2.ast" -- "$CC1" -fpreprocessed -quiet -O2 "$out/$1.i" -o /dev/null >/dev/null; }
rec_cc1 engine cc1-a1; rec_cc1 cmd_run cc1-a2; rec_cc1 cmd_eval cc1-b
# ---- server-mix: seed 1 trains, seed 2 is scored
[[ -s $out/servermix-a.ast ]] || "$A" gen server-mix -n 400000 --seed 1 -o "$out/servermix-a.ast"
[[ -s $out/servermix-b.ast ]] || "$A" gen server-mix -n 400000 --seed 2 -o "$out/servermix-b.ast"

declare -A TRAIN=([sqlite]="$src/data/sqlite.ast" [python]="$src/data/python.ast"
                  [cc1]="$out/cc1-a1.ast $out/cc1-a2.ast" [servermix]="$out/servermix-a.ast")
# LLAMA's cache: keyed on the stack height (the stack id in traces without
# one), one table of 4096 entries per thread
CACHE=(--cached key=height --cached per_thread=1 --cached capacity=4096)
TORCH=/usr/bin/python3
have_torch=0; "$TORCH" -c 'import torch' 2>/dev/null && have_torch=1
for prog in ${PROGS-sqlite python cc1 servermix}; do
  read -r -a tr <<<"${TRAIN[$prog]}"
  "$A" train -q --json --predictor lstm "${KNOBS[@]}" "${tr[@]}" \
    -o "$out/$prog.model" --export-samples "$out/$prog.samples" >"$out/$prog-train.json"
  targs=(); for t in "${tr[@]}"; do targs+=(--train "$t"); done
  "$A" eval -q --json --model "$out/$prog.model" "${CACHE[@]}" "${targs[@]}" \
    "$out/$prog-b.ast" >"$out/$prog-a-on-b.json"
  ((have_torch)) && "$TORCH" "$here/torch_ref.py" --epochs ${EPOCHS:-8} --patience 2 \
    --hidden 32 --embed 16 "$out/$prog.samples" >"$out/$prog-torch.json" 2>/dev/null
  # end to end on B: llama with the model (LLAMA's cache, and the pc key),
  # llama with the oracle, tcmalloc
  "$A" run -q --policy llama --predictor cached:lstm --model "$out/$prog.model" \
    -P cached.key=height -P cached.per_thread=1 -o "$out/run-$prog-llama-lstm" "$out/$prog-b.ast"
  "$A" run -q --policy llama --predictor cached:lstm --model "$out/$prog.model" \
    -o "$out/run-$prog-llama-lstm-pc" "$out/$prog-b.ast"
  "$A" run -q --policy llama --predictor oracle -o "$out/run-$prog-llama-oracle" "$out/$prog-b.ast"
  "$A" run -q --policy tcmalloc -o "$out/run-$prog-tcmalloc" "$out/$prog-b.ast"
done
if [[ ${REDIS-1} == 1 ]]; then
# redis: 964,851 allocation samples (the 1 M training-time target); the
# model is scored on its own recording (there is no second one)
"$A" train -q --json --predictor lstm "${KNOBS[@]}" "$src/data/redis.ast" \
  -o "$out/redis.model" --export-samples "$out/redis.samples" >"$out/redis-train.json"
((have_torch)) && "$TORCH" "$here/torch_ref.py" --epochs ${EPOCHS:-8} --patience 2 \
  --hidden 32 --embed 16 "$out/redis.samples" >"$out/redis-torch.json" 2>/dev/null
"$A" run -q --policy llama --predictor cached:lstm --model "$out/redis.model" \
  -P cached.key=height -P cached.per_thread=1 -o "$out/run-redis-llama-lstm" "$src/data/redis.ast"
"$A" run -q --policy llama --predictor oracle -o "$out/run-redis-llama-oracle" "$src/data/redis.ast"
"$A" run -q --policy tcmalloc -o "$out/run-redis-tcmalloc" "$src/data/redis.ast"
fi
python3 "$here/table.py" "$out"
