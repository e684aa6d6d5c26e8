#!/usr/bin/env bash
# bench/headline/run.sh - the headline comparisons of issue 10 (the table
# "Headline comparisons (issue 10)" of docs/benchmarks.md): llama with the
# oracle against tcmalloc, glibc and hoard on server-mix and on the long
# real trace. Not part of `make test`; rerun it after a policy changes.
#
# usage: bench/headline/run.sh ALLOCSIM [OUT]
#
# Traces: `ALLOCSIM gen server-mix --events 1000000 --seed S`, S = 1, 2, 3,
# and data/redis-long.ast (10.5 minutes of Redis, data/record.sh). Every
# run is `ALLOCSIM run -q --no-check -p POLICY TRACE` with default
# parameters and THP as the run's defaults give it (the recording host's
# settings for the real trace); llama runs with `--predictor oracle`, the
# others without a predictor (they ignore predictions). Per trace and
# policy: peak and mean resident bytes, both as a ratio to tcmalloc's,
# huge-page coverage (time-weighted mean), and the waste reduction
# 1 - waste/waste_baseline against tcmalloc and against glibc, where waste
# is mean resident - mean live bytes (compare.csv's wasted_bytes; the same
# formula as `allocsim compare --baseline`). The real program's peak RSS
# (its own allocator) is printed under the real trace's table.
# Runs already in OUT/runs are reused; JOBS (default 2) run at once.
# Prints markdown (also OUT/tables.md).
set -u
. "$(dirname "$0")/../lib.sh"
bench_init bench-headline "$@"
for s in 1 2 3; do
    [ -s "$W/server-mix-s$s.ast" ] ||
        "$A" gen server-mix --events 1000000 --seed "$s" -q \
            -o "$W/server-mix-s$s.ast" || exit 1
done
ln -sf "$SRC/data/redis-long.ast" "$W/redis-long.ast"

jobs=$W/jobs.txt
: >"$jobs"
for t in redis-long server-mix-s1 server-mix-s2 server-mix-s3; do
    echo "$t.llama $A $W/$t.ast -p llama --predictor oracle" >>"$jobs"
    for p in tcmalloc glibc hoard; do
        echo "$t.$p $A $W/$t.ast -p $p" >>"$jobs"
    done
done
# shellcheck disable=SC2016
xargs -P "${JOBS:-2}" -L 1 bash -c 'bench_run_one "$@"' _ <"$jobs"

python3 - "$W" <<'PY' | tee "$W/tables.md"
import json, os, sys
w = sys.argv[1]
POL = [("llama", "llama + oracle"), ("tcmalloc", "tcmalloc"),
       ("glibc", "glibc"), ("hoard", "hoard")]

def load(t, p):
    f = os.path.join(w, "runs", f"{t}.{p}", "summary.json")
    return json.load(open(f)) if os.path.exists(f) else None

def figs(d):
    m = d["metrics"]
    return (m["peak_resident_bytes"], m["mean_resident_bytes"],
            m["hugepage_coverage_mean"],
            m["mean_resident_bytes"] - m["mean_live_bytes"])

def red(a, b):
    return f"{1 - a / b:+.3f}" if b else "n/a"

HEAD = ("| policy | peak resident MiB | ÷ tcmalloc | mean resident MiB | "
        "÷ tcmalloc | coverage | waste reduction vs tcmalloc | "
        "waste reduction vs glibc |\n|---|---|---|---|---|---|---|---|")
for t, title in (("server-mix-s1", "server-mix, 1 M events, seed 1"),
                 ("server-mix-s2", "server-mix, 1 M events, seed 2"),
                 ("server-mix-s3", "server-mix, 1 M events, seed 3"),
                 ("redis-long", "data/redis-long.ast (Redis, 10.5 min)")):
    tc, gl = load(t, "tcmalloc"), load(t, "glibc")
    if not tc or not gl:
        continue
    tp, tm, _, tw = figs(tc)
    gw = figs(gl)[3]
    d0 = tc["trace"]
    print(f"\n#### {title}: {d0['events']} events, "
          f"{d0['duration_ns'] / 1e9:.1f} s\n")
    print(HEAD)
    for p, label in POL:
        d = load(t, p)
        if not d:
            continue
        pk, mn, cov, wa = figs(d)
        print(f"| {label} | {pk / 1048576:.2f} | {pk / tp:.3f} | "
              f"{mn / 1048576:.2f} | {mn / tm:.3f} | {cov:.3f} | "
              f"{red(wa, tw)} | {red(wa, gw)} |")
    rm = d0.get("real_memory")
    if rm:
        print(f"\nThe recorded program's own peak RSS: "
              f"{rm['peak_rss_bytes'] / 1048576:.2f} MiB "
              f"({rm['samples']} samples).")
PY
