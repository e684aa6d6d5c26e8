#!/usr/bin/env bash
# bench/machine/ranges.sh - how far the machine model's parameters that no
# source fixes move its figures (docs/simos.md, "Parameters no source
# fixes"). Not part of `make test`.
#
# usage: bench/machine/ranges.sh ALLOCSIM [OUT]
#
# Trace: `ALLOCSIM gen server-mix --events EVENTS --seed 1` (EVENTS default
# 200000). Machine as bench/machine/run.sh's at its highest pressure:
# os.phys_mem=256M, tenants at 95 % (61M unmovable, 182M page cache,
# swing 20 %), THP always, defrag madvise, young_clear=scan, the TLB model
# on. For tcmalloc and llama + oracle, the defaults and then one parameter
# at a time at a lower and a higher value: os.phys_interval, os.tenant_churn,
# os.tenant_period, tlb.interval, tlb.accesses. Prints one markdown row per
# run: peak resident MiB, mean huge-page coverage, TLB walks per 1000
# accesses, THP fault fallbacks, compaction stalls and the mean order-9
# unusable-free-space index. Deterministic.
set -u
. "$(dirname "$0")/../lib.sh"
bench_init bench-machine-ranges "$@"
EVENTS=${EVENTS:-200000}
[ -s "$W/sm.ast" ] ||
    "$A" gen server-mix --events "$EVENTS" --seed 1 -q -o "$W/sm.ast" || exit 1
base=(--param os.phys_mem=256M --param os.tenant_unmovable=61M
    --param os.tenant_cache=182M --param os.tenant_swing=20
    --param os.defrag=madvise --param os.young_clear=scan
    --param tlb.model=skylake --thp always)
echo "| policy | change | peak resident MiB | coverage (mean) | walks / 1000 | THP fallbacks | compaction stalls | unusable index (mean) |"
echo "|---|---|---|---|---|---|---|---|"
for p in tcmalloc llama; do
    pr=()
    [ "$p" = llama ] && pr=(--predictor oracle)
    for v in default os.phys_interval=10ms os.phys_interval=500ms \
        os.tenant_churn=1 os.tenant_churn=50 os.tenant_period=10s \
        os.tenant_period=300s tlb.interval=10ms tlb.accesses=10000; do
        extra=()
        [ "$v" != default ] && extra=(--param "$v")
        out=$W/$p-$v
        rm -rf "$out"
        if ! "$A" run -q --no-check -p "$p" "${pr[@]}" "${base[@]}" \
            "${extra[@]}" "$W/sm.ast" -o "$out" >/dev/null 2>"$out.err"; then
            echo "| $p | $v | failed: $(head -1 "$out.err") |"
            continue
        fi
        python3 - "$out/summary.json" "$p" "$v" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
m, ph, t = d["metrics"], d.get("phys", {}), d.get("tlb", {})
print("| %s | %s | %.2f | %.3f | %.2f | %d | %d | %.3f |" % (
    sys.argv[2], sys.argv[3], m["peak_resident_bytes"] / 2**20,
    m["hugepage_coverage_mean"], t.get("walks_per_1000", 0),
    ph.get("thp_fault_fallbacks", 0), ph.get("compact_stalls", 0),
    ph.get("unusable_index_9", {}).get("mean", 0)))
PY
    done
done
