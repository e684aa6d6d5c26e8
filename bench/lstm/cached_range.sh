#!/usr/bin/env bash
# bench/lstm/cached_range.sh - how far llama's result moves across the
# parameters of the `cached` predictor that no source fixes, and llama +
# cached:lstm end to end on the long real trace.
#
# usage: bench/lstm/cached_range.sh ALLOCSIM OUT [TRACE...]
#
# For each trace (default: `gen server-mix --events 1M --seed 1` and
# data/redis-long.ast) it runs llama with cached:site and with cached:lstm
# around the defaults (key=height, capacity=4096, per_thread=0,
# size_key=exact), one parameter at a time: key pc|stack, capacity
# 64|1024|65536, per_thread=1, size_key pow2|none. The cached:site
# configurations run in one pass (`run --config`), the cached:lstm ones in
# another. cached:lstm's model is trained on another run of the program:
# server-mix seed 2 (400,000 events) for server-mix, data/redis.ast (a
# shorter Redis run) for redis-long; for redis-long also a model trained on
# the trace's own first 150 s (cut with `cat` and `import`; objects still
# live at the cut are labelled as never freed there). Plus tcmalloc and
# llama + oracle for reference, and with UNCACHED=1 llama + lstm without
# the cache (a forward pass per allocation: minutes more). Then
# bench/lstm/cached_table.py OUT prints the tables of docs/benchmarks.md.
# Runs take about 25 s of CPU each on redis-long; the passes run one after
# another (a pass with lstm replays on one thread, since it reads names).
set -eu
A=$(realpath "$1")
OUT=$2
shift 2
src=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$OUT"
if [ $# -eq 0 ]; then
    [ -s "$OUT/servermix.ast" ] ||
        "$A" gen server-mix --events 1M --seed 1 -o "$OUT/servermix.ast" >/dev/null
    set -- "$OUT/servermix.ast" "$src/data/redis-long.ast"
fi
KNOBS=(--epochs 8 --patience 2 --max-tokens 32 --hidden 32 --embed 16)
# models: server-mix seed 2; data/redis.ast; redis-long's first 150 s
if [ ! -s "$OUT/servermix.lstm" ]; then
    "$A" gen server-mix --events 400K --seed 2 -o "$OUT/servermix-2.ast" >/dev/null
    "$A" train -q --json --predictor lstm "${KNOBS[@]}" "$OUT/servermix-2.ast" \
        -o "$OUT/servermix.lstm" >"$OUT/servermix-train.json"
fi
[ -s "$OUT/redis.lstm" ] ||
    "$A" train -q --json --predictor lstm "${KNOBS[@]}" "$src/data/redis.ast" \
        -o "$OUT/redis.lstm" >"$OUT/redis-train.json"
if [ ! -s "$OUT/redis-long-150s.lstm" ]; then
    "$A" cat "$src/data/redis-long.ast" |
        awk '($1 == "a" || $1 == "f" || $1 == "r" || $1 == "s") && $2 > 150000000000 { exit }
             { print }' >"$OUT/redis-long-150s.txt" || true
    "$A" import --format text "$OUT/redis-long-150s.txt" -o "$OUT/redis-long-150s.ast"
    rm -f "$OUT/redis-long-150s.txt"
    "$A" train -q --json --predictor lstm "${KNOBS[@]}" "$OUT/redis-long-150s.ast" \
        -o "$OUT/redis-long-150s.lstm" >"$OUT/redis-long-150s-train.json"
fi

VARIANTS=("" ",cached.key=pc" ",cached.key=stack" ",cached.capacity=64"
    ",cached.capacity=1024" ",cached.capacity=65536" ",cached.per_thread=1"
    ",cached.size_key=pow2" ",cached.size_key=none")
for t in "$@"; do
    name=$(basename "$t" .ast)
    model=$OUT/redis.lstm
    [ "$name" = servermix ] && model=$OUT/servermix.lstm
    cfg=(--config tcmalloc --config "llama,predictor=oracle")
    for v in "${VARIANTS[@]}"; do cfg+=(--config "llama,predictor=cached:site$v"); done
    "$A" run -q --no-check "${cfg[@]}" "$t" -o "$OUT/$name-site" >"$OUT/$name-site.log" 2>&1
    cfg=()
    # uncached lstm: a forward pass per allocation (minutes on redis-long)
    [ "${UNCACHED:-0}" = 1 ] && cfg+=(--config "llama,predictor=lstm")
    for v in "${VARIANTS[@]}"; do cfg+=(--config "llama,predictor=cached:lstm$v"); done
    "$A" run -q --no-check --model "$model" "${cfg[@]}" "$t" \
        -o "$OUT/$name-lstm" >"$OUT/$name-lstm.log" 2>&1
    if [ "$name" = redis-long ]; then
        "$A" run -q --no-check --model "$OUT/redis-long-150s.lstm" \
            --config "llama,predictor=cached:lstm" "$t" \
            -o "$OUT/$name-lstm150" >"$OUT/$name-lstm150.log" 2>&1
    fi
done
