#!/usr/bin/env bash
# predictor.sh BUILD [REPS] - what the real allocator's lifetime predictor
# costs (ALLOCSIM_PREDICTOR, docs/malloc.md): CPU time (user + system, GNU
# time) per allocation of alloc_bench under liballocsim_malloc.so with
# ALLOCSIM_POLICY=llama and no predictor, cached:lstm keyed by return
# address and depth (the default: a stack walk per allocation),
# cached:lstm keyed by stack height (a walk per cache miss only), lstm
# uncached (the network per allocation), and the site table (sitetab: a
# stack walk, the frames' names and a bisection per allocation;
# cached:sitetab keyed by height: a walk per cache miss only). The model
# and the table come from a recording of the benchmark itself
# (threadtest, 1 thread; the table over its default 8 frames). Runs are
# interleaved per repetition; the table gives the median CPU ns per
# allocation and the median, over repetitions, of its ratio to the run
# without a predictor in the same repetition.
set -euo pipefail
build=${1:?usage: predictor.sh BUILD [REPS]}
reps=${2:-5}
A=$build/allocsim
bench=$(realpath "$build/bench/alloc_bench")
lib=$(realpath "$build/malloc/liballocsim_malloc.so")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$A" record -q -o "$tmp/t.ast" -- "$bench" threadtest 1 2 >/dev/null
"$A" train --predictor lstm -q "$tmp/t.ast" -o "$tmp/m.bin" >/dev/null
"$A" train --predictor sitetab -q "$tmp/t.ast" -o "$tmp/s.tab" >/dev/null
declare -A cfg=(
  [none]=""
  [cached:lstm,key=pc]="ALLOCSIM_PREDICTOR=cached:lstm"
  [cached:lstm,key=height]="ALLOCSIM_PREDICTOR=cached:lstm ALLOCSIM_PARAM=cached.key=height"
  [lstm]="ALLOCSIM_PREDICTOR=lstm"
  [sitetab]="ALLOCSIM_PREDICTOR=sitetab ALLOCSIM_MODEL=$tmp/s.tab"
  [cached:sitetab,key=height]="ALLOCSIM_PREDICTOR=cached:sitetab ALLOCSIM_PARAM=cached.key=height ALLOCSIM_MODEL=$tmp/s.tab")
# PREDICTORS="none sitetab ...": a subset of the columns (none first)
read -r -a names <<<"${PREDICTORS:-none cached:lstm,key=pc cached:lstm,key=height lstm sitetab cached:sitetab,key=height}"
# benchmark and its allocations (threadtest: threads x rounds x 10000;
# larson: threads x (rounds x 10000 + its 1000 first slots))
benches=("threadtest 1 100|1000000" "threadtest 2 50|1000000" "larson 2 20|402000")
out=$tmp/rows
for ((r = 1; r <= reps; r++)); do
  for bl in "${benches[@]}"; do
    b=${bl%|*} n=${bl#*|}
    for c in "${names[@]}"; do
      # shellcheck disable=SC2086
      res=$(env LD_PRELOAD="$lib" ALLOCSIM_POLICY=llama ALLOCSIM_MODEL="$tmp/m.bin" ${cfg[$c]} \
        /usr/bin/time -f "cpu %U %S" "$bench" $b 2>&1 >/dev/null)
      cpu=$(awk '$1 == "cpu" { print $2 + $3 }' <<<"$res")
      echo "$r|$b|$c|$cpu|$n" >>"$out"
    done
  done
done
python3 - "$out" <<'PY'
import sys, statistics, collections
rows = [l.strip().split("|") for l in open(sys.argv[1]) if l.strip()]
cpu = collections.defaultdict(dict)  # (bench, rep) -> cfg -> ns/alloc
names, benches = [], []
for rep, b, c, s, n in rows:
    cpu[(b, rep)][c] = float(s) * 1e9 / int(n)
    if c not in names: names.append(c)
    if b not in benches: benches.append(b)
for b in benches:
    reps = [k for k in cpu if k[0] == b]
    print(f"\n#### {b}\n")
    print("| predictor | CPU ns / allocation | ÷ none |")
    print("|---|---|---|")
    for c in names:
        ns = statistics.median(cpu[k][c] for k in reps)
        ratio = statistics.median(cpu[k][c] / cpu[k]["none"] for k in reps
                                  if cpu[k]["none"] > 0)
        print(f"| {c} | {ns:.0f} | {ratio:.2f}× |")
PY
