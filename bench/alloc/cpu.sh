#!/usr/bin/env bash
# cpu.sh BUILD [BASE_BUILD] [REPS] [POLICIES] - bench/alloc by CPU time:
# alloc_bench's xmalloc, larson and threadtest loops (2 threads; 5 M, 10 M
# and 10 M malloc + free pairs) under mimalloc and gperftools' tcmalloc (Debian
# packages, when installed) and liballocsim_malloc.so of BUILD (and of
# BASE_BUILD, a build of an earlier commit, when given) with each policy of
# POLICIES (default "tcmalloc hoard"), interleaved: each repetition runs
# every allocator once per loop in turn. CPU time (perf stat's task-clock of
# the process: user + sys, all threads) is what a loaded, shared machine
# measures steadily; wall time swings with the
# load. Prints per loop and allocator the median CPU ns per pair, its median
# ratio to mimalloc's in the same repetition, and the median wall ratio.
set -euo pipefail
build=${1:?usage: cpu.sh BUILD [BASE_BUILD] [REPS] [POLICIES]}
base=${2:-}
reps=${3:-5}
policies=${4:-tcmalloc hoard}
libdir=/usr/lib/x86_64-linux-gnu
declare -A pre bench
names=()
for pair in mimalloc:libmimalloc.so.2 tcmalloc-gperftools:libtcmalloc_minimal.so.4; do
  n=${pair%%:*} f=$libdir/${pair#*:}
  if [[ -r $f ]]; then pre[$n]=$f; bench[$n]=$build/bench/alloc_bench; names+=("$n")
  else echo "note: $f missing: $n left out" >&2; fi
done
for p in $policies; do
  if [[ -n $base ]]; then
    pre[base-$p]=$(realpath "$base/malloc/liballocsim_malloc.so")
    bench[base-$p]=$base/bench/alloc_bench
    names+=("base-$p")
  fi
  pre[allocsim-$p]=$(realpath "$build/malloc/liballocsim_malloc.so")
  bench[allocsim-$p]=$build/bench/alloc_bench
  names+=("allocsim-$p")
done
loops=("xmalloc 2 500" "larson 2 500" "threadtest 2 500")
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for ((r = 1; r <= reps; r++)); do
  for l in "${loops[@]}"; do
    for n in "${names[@]}"; do
      p=${n#*-}
      # shellcheck disable=SC2086
      res=$(perf stat -x, -e task-clock env ALLOCSIM_POLICY=$p LD_PRELOAD=${pre[$n]} "${bench[$n]}" $l 2>&1)
      ops=$(awk 'NF == 3 { print $3 }' <<<"$res")
      cpu=$(awk -F, '$3 == "task-clock" { print $1 / 1000 }' <<<"$res")
      echo "$r|$l|$n|$ops|$cpu" >>"$out"
    done
  done
done
python3 - "$out" <<'PY'
import sys, statistics, collections
rows = [l.strip().split("|") for l in open(sys.argv[1]) if l.strip()]
by = collections.defaultdict(dict)
names = []
for rep, l, n, ops, cpu in rows:
    mode, threads, rounds = l.split()
    # xmalloc: rounds x 10000 per producer-consumer pair; the others:
    # rounds x 10000 per thread (alloc_bench.c)
    units = max(int(threads) // 2, 1) if mode == "xmalloc" else int(threads)
    pairs = int(rounds) * 10000 * units
    by[(l, rep)][n] = (float(ops), float(cpu) * 1e9 / pairs)
    if n not in names: names.append(n)
for l in dict.fromkeys(k[0] for k in by):
    reps = [k for k in by if k[0] == l]
    ref = "mimalloc" if all("mimalloc" in by[k] for k in reps) else None
    print(f"\n### {l}\n")
    print("| allocator | CPU ns per pair (median) | CPU × mimalloc | wall throughput × mimalloc |")
    print("|---|---|---|---|")
    for n in names:
        ns = [by[k][n][1] for k in reps]
        cr = [by[k][n][1] / by[k][ref][1] for k in reps if by[k][ref][1] > 0] if ref else []
        wr = [by[k][n][0] / by[k][ref][0] for k in reps] if ref else []
        f = lambda v: f"{statistics.median(v):.2f}" if v else "–"
        print(f"| {n} | {statistics.median(ns):.0f} | {f(cr)} | {f(wr)} |")
PY
