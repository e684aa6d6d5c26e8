#!/usr/bin/env bash
# run.sh BUILD [REPS] - bench/alloc: alloc_bench (Larson-like,
# threadtest-like, xmalloc-like and cache-scratch-like, see alloc_bench.c) under glibc, the Debian packages of
# jemalloc, gperftools' tcmalloc and mimalloc (libjemalloc2,
# libtcmalloc-minimal4, libmimalloc2.0; an allocator whose library is
# missing is left out, with a note) and liballocsim_malloc.so with every
# registered policy, by LD_PRELOAD. Runs are interleaved: each repetition
# runs every allocator once per benchmark, in turn, so a slow period of the
# (shared) machine hits all of them alike. Prints a markdown table per
# benchmark: median ops/s, the median over repetitions of the ratio to
# glibc and to mimalloc in the same repetition, and peak RSS (GNU time).
set -euo pipefail
build=${1:?usage: run.sh BUILD [REPS]}
reps=${2:-5}
bench=$build/bench/alloc_bench
lib=$(realpath "$build/malloc/liballocsim_malloc.so")
libdir=/usr/lib/x86_64-linux-gnu
declare -A pre=([glibc]="")
names=(glibc)
for pair in jemalloc:libjemalloc.so.2 tcmalloc-gperftools:libtcmalloc_minimal.so.4 mimalloc:libmimalloc.so.2; do
  n=${pair%%:*} f=$libdir/${pair#*:}
  if [[ -r $f ]]; then pre[$n]=$f; names+=("$n"); else echo "note: $f missing: $n left out" >&2; fi
done
policies=$(ALLOCSIM_POLICY=no-such LD_PRELOAD=$lib "$bench" larson 1 1 2>&1 | sed -n 's/.*valid: //p' || true)
for p in $policies; do pre[allocsim-$p]=$lib; names+=("allocsim-$p"); done
benches=("larson 2 20" "larson 8 5" "threadtest 2 50" "xmalloc 2 20" "cache-scratch 2 20")
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for ((r = 1; r <= reps; r++)); do
  for b in "${benches[@]}"; do
    for n in "${names[@]}"; do
      p=${n#allocsim-}
      # shellcheck disable=SC2086
      res=$(ALLOCSIM_POLICY=$p LD_PRELOAD=${pre[$n]} /usr/bin/time -f "rss %M" "$bench" $b 2>&1)
      ops=$(awk 'NF == 3 && $1 != "rss" { print $3 }' <<<"$res")
      rss=$(awk '$1 == "rss" { print $2 }' <<<"$res")
      echo "$r|$b|$n|$ops|$rss" >>"$out"
    done
  done
done
python3 - "$out" <<'PY'
import sys, statistics, collections
rows = [l.strip().split("|") for l in open(sys.argv[1]) if l.strip()]
by = collections.defaultdict(dict)   # (bench, rep) -> name -> ops
rss = collections.defaultdict(list)
names = []
for rep, b, n, ops, r in rows:
    by[(b, rep)][n] = float(ops)
    rss[(b, n)].append(int(r))
    if n not in names: names.append(n)
for b in dict.fromkeys(k[0] for k in by):
    reps = [k for k in by if k[0] == b]
    print(f"\n### {b}\n")
    print("| allocator | ops/s (median) | × glibc | × mimalloc | peak RSS MiB |")
    print("|---|---|---|---|---|")
    for n in names:
        ops = [by[k][n] for k in reps if n in by[k]]
        g = [by[k][n] / by[k]["glibc"] for k in reps]
        m = [by[k][n] / by[k]["mimalloc"] for k in reps] if all("mimalloc" in by[k] for k in reps) else None
        print(f"| {n} | {statistics.median(ops)/1e6:.2f} M | {statistics.median(g):.2f} | "
              + (f"{statistics.median(m):.2f}" if m else "–")
              + f" | {statistics.median(rss[(b, n)])/1024:.1f} |")
PY
