#!/usr/bin/env bash
# bench/tcmalloc/run.sh - the "TCMalloc back end as in the source (issue
# 10)" tables of docs/benchmarks.md: tcmalloc before and after a change to
# its back end, with llama + oracle against it, and how far the result
# moves when one back-end option is set to its other value. Not part of
# `make test`.
#
# usage: bench/tcmalloc/run.sh OLD_ALLOCSIM NEW_ALLOCSIM [WORKDIR]
#
# Traces: `NEW gen server-mix --events 1000000 --seed S` for S = 1, 2, 3,
# the same with `-P mid_size=1M` for seed 1 (server-mix-large: connection
# buffers of 1 MiB median, so large allocations reach the page heap's raw
# hugepages, donated tails and regions, which plain server-mix never
# does), and the bundled data/redis.ast, data/python.ast, data/sqlite.ast.
# Every run is
# `allocsim run -q --no-check` (the checking layer never moves a figure),
# THP always (the default):
#   - tcmalloc, OLD and NEW, at release_rate 0 (TCMalloc's open-source
#     default) and at release_rate=4M (a background release rate in use);
#   - NEW tcmalloc with one option moved, at both rates:
#     region_more_often=off, release_partial_alloc_pages=off,
#     release_pages_from_huge_region=off, hugecache_time=100ms and 10s,
#     use_regions=off (ours: no regions at all, which isolates the other
#     rules), and region_slack_bytes=4M with region_more_often on and off (these
#     traces never reach the source's 64 MiB, so regions never open at
#     the default; 4M shows what the region rules do when they do);
#   - llama --predictor oracle, NEW (the change does not touch llama).
# Prints markdown tables (also written to WORKDIR/tables.md). "released" is
# the bytes the policy gave back to the simulated OS over the run
# (summary.json os.released_bytes). JOBS (default 2) runs that many at once.
set -u
SRC=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=bench/lib.sh
. "$SRC/bench/lib.sh"
bench_args tcmalloc "$@"

traces="server-mix-s1 server-mix-s2 server-mix-s3 server-mix-large redis"
traces="$traces python sqlite"
for s in 1 2 3; do
    [ -s "$W/server-mix-s$s.ast" ] ||
        "$NEW" gen server-mix --events 1000000 --seed "$s" -q \
            -o "$W/server-mix-s$s.ast" || exit 1
done
[ -s "$W/server-mix-large.ast" ] ||
    "$NEW" gen server-mix --events 1000000 --seed 1 -P mid_size=1M -q \
        -o "$W/server-mix-large.ast" || exit 1
for t in redis python sqlite; do
    ln -sf "$SRC/data/$t.ast" "$W/$t.ast"
done

# One job per line: NAME BIN TRACE ARGS...; its run directory is W/runs/NAME.
jobs=$W/jobs.txt
: >"$jobs"
for t in $traces; do
    for r in 0 4M; do
        echo "$t.r$r.before $OLD $W/$t.ast -p tcmalloc -P tcmalloc.release_rate=$r" >>"$jobs"
        echo "$t.r$r.after $NEW $W/$t.ast -p tcmalloc -P tcmalloc.release_rate=$r" >>"$jobs"
        for v in region_more_often=off release_partial_alloc_pages=off \
            release_pages_from_huge_region=off hugecache_time=100ms \
            hugecache_time=10s region_slack_bytes=4M \
            region_slack_bytes=4M,region_more_often=off use_regions=off; do
            echo "$t.r$r.$v $NEW $W/$t.ast -p tcmalloc -P tcmalloc.release_rate=$r -P tcmalloc.${v//,/ -P tcmalloc.}" >>"$jobs"
        done
    done
    echo "$t.llama $NEW $W/$t.ast -p llama --predictor oracle" >>"$jobs"
done

run_jobs "$W" "$jobs"

python3 - "$W" "$traces" <<'PY' | tee "$W/tables.md"
import json, os, sys
w, traces = sys.argv[1], sys.argv[2].split()

def load(name):
    p = os.path.join(w, "runs", name, "summary.json")
    return json.load(open(p)) if os.path.exists(p) else None

def fig(d):
    m, st = d["metrics"], d.get("stats", {})
    return {"peak": m["peak_resident_bytes"], "mean": m["mean_resident_bytes"],
            "cov": m["hugepage_coverage_mean"],
            "covp": m["hugepage_coverage_at_peak"],
            "rel": d["os"]["released_bytes"],
            "sub": st.get("policy.bytes_subreleased", 0),
            "regions": st.get("policy.regions", 0)}

def mib(b):
    return f"{b / 1048576:.2f}"

print("#### tcmalloc before and after, and llama + oracle against it\n")
print("| trace | release_rate | run | peak resident MiB | mean resident MiB "
      "| coverage mean / at peak | released MiB | subreleased MiB | regions "
      "| llama+oracle peak ÷ tcmalloc |")
print("|---|---|---|---|---|---|---|---|---|---|")
for t in traces:
    ll = load(f"{t}.llama")
    for r in ("0", "4M"):
        for when in ("before", "after"):
            d = load(f"{t}.r{r}.{when}")
            if not d:
                continue
            f = fig(d)
            ratio = f"{fig(ll)['peak'] / f['peak']:.3f}" if ll else "–"
            print(f"| {t} | {r} | {when} | {mib(f['peak'])} | {mib(f['mean'])}"
                  f" | {f['cov']:.3f} / {f['covp']:.3f} | {mib(f['rel'])} | "
                  f"{mib(f['sub'])} | {f['regions']:.0f} | {ratio} |")

print("\n#### after, one option moved: change against the default (after)\n")
print("| trace | release_rate | option | peak resident | mean resident | "
      "coverage mean | released MiB | llama+oracle peak ÷ tcmalloc |")
print("|---|---|---|---|---|---|---|---|")
opts = ["region_more_often=off", "release_partial_alloc_pages=off",
        "release_pages_from_huge_region=off", "hugecache_time=100ms",
        "hugecache_time=10s", "region_slack_bytes=4M",
        "region_slack_bytes=4M,region_more_often=off", "use_regions=off"]
for t in traces:
    ll = load(f"{t}.llama")
    for r in ("0", "4M"):
        base = load(f"{t}.r{r}.after")
        if not base:
            continue
        b = fig(base)
        for o in opts:
            d = load(f"{t}.r{r}.{o}")
            if not d:
                continue
            f = fig(d)
            ratio = f"{fig(ll)['peak'] / f['peak']:.3f}" if ll else "–"
            print(f"| {t} | {r} | {o} | {f['peak'] / b['peak']:.3f} | "
                  f"{f['mean'] / b['mean']:.3f} | {f['cov']:.3f} | "
                  f"{mib(f['rel'])} | {ratio} |")
PY
