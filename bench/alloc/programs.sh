#!/usr/bin/env bash
# programs.sh BUILD [REPS] - real programs under each allocator: peak RSS
# (GNU time's maximum resident set) and wall time of a Python workload and
# a SQLite workload, under glibc, the Debian jemalloc, gperftools tcmalloc
# and mimalloc (left out when not installed) and liballocsim_malloc.so with
# every registered policy, interleaved as in run.sh. Prints a markdown
# table per program: median peak RSS, its ratio to the best real
# allocator's median (the issue's target is <= 1.3 for every policy), and
# the median time ratio to glibc within a repetition.
set -euo pipefail
build=${1:?usage: programs.sh BUILD [REPS]}
reps=${2:-3}
lib=$(realpath "$build/malloc/liballocsim_malloc.so")
stress=$build/malloc/malloc_stress
libdir=/usr/lib/x86_64-linux-gnu
declare -A pre=([glibc]="")
names=(glibc)
real=(glibc)
for pair in jemalloc:libjemalloc.so.2 tcmalloc-gperftools:libtcmalloc_minimal.so.4 mimalloc:libmimalloc.so.2; do
  n=${pair%%:*} f=$libdir/${pair#*:}
  if [[ -r $f ]]; then pre[$n]=$f; names+=("$n"); real+=("$n"); else echo "note: $f missing: $n left out" >&2; fi
done
policies=$(ALLOCSIM_POLICY=no-such LD_PRELOAD=$lib "$stress" edge 2>&1 | sed -n 's/.*valid: //p' || true)
for p in $policies; do pre[allocsim-$p]=$lib; names+=("allocsim-$p"); done
py=/usr/bin/python3
pywork='
import json, random
random.seed(1)
keep = []
for r in range(20):
    d = {i: ("x" * random.randrange(1, 200), [i] * random.randrange(0, 20)) for i in range(20000)}
    s = json.dumps(d)
    keep.append(s[: len(s) // (r + 1)])
    if len(keep) > 5:
        keep.pop(0)
print(sum(map(len, keep)))
'
sqlwork="create table t(a integer primary key, b text);
with recursive n(x) as (select 1 union all select x + 1 from n where x < 300000)
insert into t select x, hex(randomblob(40)) from n;
create index tb on t(b);
select count(*), sum(length(b)) from t;"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for ((r = 1; r <= reps; r++)); do
  for prog in python sqlite; do
    for n in "${names[@]}"; do
      p=${n#allocsim-}
      if [[ $prog == python ]]; then cmd=("$py" -c "$pywork"); else cmd=(sqlite3 :memory: "$sqlwork"); fi
      res=$(ALLOCSIM_POLICY=$p LD_PRELOAD=${pre[$n]} /usr/bin/time -f "res %M %e" "${cmd[@]}" 2>&1 >/dev/null)
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
for rep, prog, n, kb, sec in rows:
    rss[(prog, n)].append(int(kb)); t[(prog, rep)][n] = float(sec)
    if n not in names: names.append(n)
for prog in dict.fromkeys(r[1] for r in rows):
    med = {n: statistics.median(rss[(prog, n)]) for n in names}
    best = min(med[n] for n in real)
    bestn = min(real, key=lambda n: med[n])
    print(f"\n#### {prog}\n")
    print(f"| allocator | peak RSS MiB | × best real ({bestn}) | time × glibc |")
    print("|---|---|---|---|")
    for n in names:
        reps = [k for k in t if k[0] == prog]
        tr = statistics.median(t[k][n] / t[k]["glibc"] for k in reps)
        print(f"| {n} | {med[n]/1024:.1f} | {med[n]/best:.2f} | {tr:.2f} |")
PY
