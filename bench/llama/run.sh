#!/usr/bin/env bash
# bench/llama/run.sh - the LLAMA tables of docs/benchmarks.md: llama with
# the oracle against tcmalloc, hoard and bestfit, before and after a change
# to llama, and how far llama's result moves across the plausible values of
# every parameter whose default no source fixes. Not part of `make test`.
#
# usage: bench/llama/run.sh OLD_ALLOCSIM NEW_ALLOCSIM [WORKDIR]
#
# Traces: `NEW gen server-mix --events 1000000 --seed S` for S = 1..5 (seed
# 1 is the headline; 2..5 only for llama+oracle against tcmalloc) and the
# bundled data/redis.ast, data/python.ast, data/sqlite.ast. Every run is
# `allocsim run -q --no-check` (the checking layer never moves a figure),
# THP always (the default), default classes (10 ms .. 1000 s, inf).
#   - tcmalloc, hoard, bestfit: NEW only, with no predictor (they ignore
#     predictions; bench/check_figures_unchanged.sh shows OLD and NEW agree
#     on them);
#   - llama --predictor oracle: OLD and NEW, default parameters;
#   - NEW llama --predictor oracle with one parameter moved at a time:
#     llama.deadline_multiplier 1 2 4 8, llama.open_blocks per_cpu shared,
#     llama.recycle_open never top bottom, and the choices of ours no source
#     makes ([R] in docs/policies/llama.md): llama.line_size 64 128 256,
#     llama.partial_min_lines 1 8 32, llama.tick_interval 1ms 10ms 100ms,
#     llama.medium_max 1M 2M.
# Prints markdown tables (also written to WORKDIR/tables.md). Waste is
# mean resident - mean live bytes (compare.csv's wasted_bytes); the waste
# reduction of a run against tcmalloc on the same trace is
# 1 - waste/waste_tcmalloc, the same at peak with peak resident - peak live.
# JOBS (default 2) runs that many at once.
set -u
SRC=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=bench/lib.sh
. "$SRC/bench/lib.sh"
bench_args llama "$@"

for s in 1 2 3 4 5; do
    [ -s "$W/server-mix-s$s.ast" ] ||
        "$NEW" gen server-mix --events 1000000 --seed "$s" -q \
            -o "$W/server-mix-s$s.ast" || exit 1
done
for t in redis python sqlite; do
    ln -sf "$SRC/data/$t.ast" "$W/$t.ast"
done

# One job per line: NAME BIN TRACE ARGS...; its run directory is W/runs/NAME.
jobs=$W/jobs.txt
: >"$jobs"
for t in server-mix-s1 redis python sqlite; do
    for p in tcmalloc hoard bestfit; do
        echo "$t.$p $NEW $W/$t.ast -p $p" >>"$jobs"
    done
    echo "$t.llama-before $OLD $W/$t.ast -p llama --predictor oracle" >>"$jobs"
    echo "$t.llama $NEW $W/$t.ast -p llama --predictor oracle" >>"$jobs"
    for v in deadline_multiplier=1 deadline_multiplier=4 \
        deadline_multiplier=8 open_blocks=shared recycle_open=top \
        recycle_open=bottom line_size=64 line_size=256 partial_min_lines=1 \
        partial_min_lines=32 tick_interval=1ms tick_interval=100ms \
        medium_max=1M; do
        echo "$t.llama-$v $NEW $W/$t.ast -p llama --predictor oracle -P llama.$v" >>"$jobs"
    done
done
for s in 2 3 4 5; do
    t=server-mix-s$s
    echo "$t.tcmalloc $NEW $W/$t.ast -p tcmalloc" >>"$jobs"
    echo "$t.llama-before $OLD $W/$t.ast -p llama --predictor oracle" >>"$jobs"
    echo "$t.llama $NEW $W/$t.ast -p llama --predictor oracle" >>"$jobs"
done

run_jobs "$W" "$jobs"

python3 - "$W" <<'EOF' | tee "$W/tables.md"
import json, os, sys
w = sys.argv[1]

def load(name):
    p = os.path.join(w, "runs", name, "summary.json")
    return json.load(open(p)) if os.path.exists(p) else None

def fig(d):
    m = d["metrics"]
    st = d.get("stats", {})
    return {
        "peak": m["peak_resident_bytes"],
        "mean": m["mean_resident_bytes"],
        "cov": m["hugepage_coverage_mean"],
        "jw4": m["fragmentation"]["jw4"],
        "waste": m["mean_resident_bytes"] - m["mean_live_bytes"],
        "pwaste": m["peak_resident_bytes"] - m["peak_live_bytes"],
        "prom": st.get("policy.llama_promotions"),
        "bprom": st.get("policy.llama_block_promotions"),
        "dem": st.get("policy.llama_demotions"),
    }

def mib(b):
    return f"{b / 1048576:.2f}"

def red(a, b):
    return f"{1 - a / b:+.3f}" if b else "n/a"

def row(label, f, tc):
    ll = "" if f["prom"] is None else \
        f" | {f['prom']:.0f} / {f['bprom']:.0f} / {f['dem']:.0f}"
    if f["prom"] is None:
        ll = " | –"
    return (f"| {label} | {mib(f['peak'])} | {f['peak'] / tc['peak']:.3f} | "
            f"{mib(f['mean'])} | {f['mean'] / tc['mean']:.3f} | "
            f"{f['cov']:.3f} | {f['jw4']:.3f} | {red(f['waste'], tc['waste'])}"
            f" | {red(f['pwaste'], tc['pwaste'])}{ll} |")

head = ("| run | peak resident MiB | ÷ tcmalloc | mean resident MiB | "
        "÷ tcmalloc | coverage | jw4 | waste reduction (mean) | "
        "waste reduction (peak) | promotions / block prom. / demotions |\n"
        "|---|---|---|---|---|---|---|---|---|---|")
traces = [("server-mix-s1", "server-mix, 1 M events, seed 1"),
          ("redis", "data/redis.ast"), ("python", "data/python.ast"),
          ("sqlite", "data/sqlite.ast")]
variants = [("llama-deadline_multiplier=1", "deadline_multiplier=1"),
            ("llama", "deadline_multiplier=2 (default)"),
            ("llama-deadline_multiplier=4", "deadline_multiplier=4"),
            ("llama-deadline_multiplier=8", "deadline_multiplier=8"),
            ("llama", "open_blocks=per_cpu (default)"),
            ("llama-open_blocks=shared", "open_blocks=shared"),
            ("llama", "recycle_open=never (default)"),
            ("llama-recycle_open=top", "recycle_open=top"),
            ("llama-recycle_open=bottom", "recycle_open=bottom"),
            ("llama-line_size=64", "line_size=64"),
            ("llama", "line_size=128 (default)"),
            ("llama-line_size=256", "line_size=256"),
            ("llama-partial_min_lines=1", "partial_min_lines=1"),
            ("llama", "partial_min_lines=8 (default)"),
            ("llama-partial_min_lines=32", "partial_min_lines=32"),
            ("llama-tick_interval=1ms", "tick_interval=1ms"),
            ("llama", "tick_interval=10ms (default)"),
            ("llama-tick_interval=100ms", "tick_interval=100ms"),
            ("llama-medium_max=1M", "medium_max=1M"),
            ("llama", "medium_max=2M (default)")]
ranges = {}
for t, title in traces:
    tc = load(f"{t}.tcmalloc")
    if not tc:
        continue
    tcf = fig(tc)
    print(f"\n#### {title}\n")
    print(head)
    for p in ("tcmalloc", "hoard", "bestfit"):
        d = load(f"{t}.{p}")
        if d:
            print(row(p, fig(d), tcf))
    for n, label in (("llama-before", "llama + oracle, before"),
                     ("llama", "llama + oracle, after")):
        d = load(f"{t}.{n}")
        if d:
            print(row(label, fig(d), tcf))
    print("\nllama + oracle (after), one parameter moved from the defaults:\n")
    print(head)
    for n, label in variants:
        d = load(f"{t}.{n}")
        if d:
            f = fig(d)
            print(row(label, f, tcf))
            key = label.split("=")[0]
            ranges.setdefault((t, key), []).append(f)

print("\n#### Range of llama + oracle ÷ tcmalloc across each parameter's "
      "values\n")
print("| trace | parameter | peak ÷ tcmalloc | mean ÷ tcmalloc | "
      "waste reduction (mean) |\n|---|---|---|---|---|")
for (t, key), fs in ranges.items():
    tcf = fig(load(f"{t}.tcmalloc"))
    pk = [f["peak"] / tcf["peak"] for f in fs]
    mn = [f["mean"] / tcf["mean"] for f in fs]
    wr = [1 - f["waste"] / tcf["waste"] for f in fs]
    print(f"| {t} | {key} | {min(pk):.3f} – {max(pk):.3f} | "
          f"{min(mn):.3f} – {max(mn):.3f} | {min(wr):+.3f} – {max(wr):+.3f} |")

print("\n#### server-mix seeds 1–5: llama + oracle ÷ tcmalloc (peak / mean "
      "resident)\n")
print("| seed | before: peak | before: mean | after: peak | after: mean | "
      "after: waste reduction (mean) |\n|---|---|---|---|---|---|")
for s in range(1, 6):
    t = f"server-mix-s{s}"
    tc, b, a = (load(f"{t}.{n}") for n in ("tcmalloc", "llama-before", "llama"))
    if not (tc and b and a):
        continue
    tcf, bf, af = fig(tc), fig(b), fig(a)
    print(f"| {s} | {bf['peak'] / tcf['peak']:.3f} | "
          f"{bf['mean'] / tcf['mean']:.3f} | {af['peak'] / tcf['peak']:.3f} | "
          f"{af['mean'] / tcf['mean']:.3f} | {red(af['waste'], tcf['waste'])} |")
EOF
