#!/usr/bin/env bash
# bench/machine/run.sh - the experiment of issue 15 (docs/benchmarks.md,
# "The machine below the allocator"): tcmalloc, llama + oracle and glibc on
# one simulated machine whose physical memory background tenants fill more
# and more; per policy and pressure level, huge-page coverage, TLB misses
# per 1000 accesses (the TLB model, tlb.model=skylake), and the order-9
# unusable-free-space index over time. Not part of `make test`.
#
# usage: bench/machine/run.sh ALLOCSIM [OUT]
#
# Trace: `ALLOCSIM gen server-mix --events EVENTS --seed 1` (EVENTS
# default 1000000; 413 s of trace time), and with LONG=1 the first
# LONG_EVENTS (default 3000000; 184 s; 0 = all 18.3 M) events of
# data/redis-long.ast. Machine: os.phys_mem=MEM (default 256M; LONG_MEM,
# default 256M, for redis-long), THP always for both (`--thp always`: the
# Redis host had `madvise`, under which only llama's advised memory gets
# huge pages at all), defrag madvise (the Linux default), khugepaged with young_clear=YOUNG (default
# scan: a region must be touched between two wake-ups to be collapsed).
# Pressure level L (LEVELS, percent of MEM, default "0 30 50 70 85 95"):
# tenant_unmovable = L/4 % and tenant_cache = 3L/4 % of MEM, swinging
# +-20 % over a 60 s period, churning 10 per mille per 100 ms step. Every
# run: `ALLOCSIM run -q --no-check -p POLICY TRACE --param ...`, llama with
# --predictor oracle. Runs already in OUT/runs are reused; JOBS (default
# 2) run at once. Writes OUT/table.md (printed), OUT/*.dat and the plots
# OUT/machine-coverage.png, OUT/machine-tlb.png, OUT/machine-unusable.png
# (gnuplot, the style of reports/plot.c).
set -u
. "$(dirname "$0")/../lib.sh"
bench_init bench-machine "$@"
EVENTS=${EVENTS:-1000000}
MEM=${MEM:-256M}
LONG_MEM=${LONG_MEM:-256M}
YOUNG=${YOUNG:-scan}
LEVELS=${LEVELS:-"0 30 50 70 85 95"}
[ -s "$W/server-mix.ast" ] ||
    "$A" gen server-mix --events "$EVENTS" --seed 1 -q -o "$W/server-mix.ast" ||
    exit 1
traces=server-mix
if [ "${LONG:-0}" = 1 ]; then
    # the first LONG_EVENTS events of data/redis-long.ast (0: all of it),
    # through the text form: `cat`, cut after that many a/f/r lines, `import`
    n=${LONG_EVENTS:-3000000}
    if [ "$n" = 0 ]; then
        ln -sf "$SRC/data/redis-long.ast" "$W/redis-long.ast"
    elif [ ! -s "$W/redis-long.ast" ]; then
        "$A" cat "$SRC/data/redis-long.ast" |
            awk -v n="$n" '/^[afr] / { if (++k > n) exit } { print }' \
                >"$W/redis-long.txt" &&
            "$A" import -f text "$W/redis-long.txt" -o "$W/redis-long.ast" >/dev/null ||
            exit 1
        rm -f "$W/redis-long.txt"
    fi
    traces="$traces redis-long"
fi

jobs=$W/jobs.txt
: >"$jobs"
for t in $traces; do
    mem=$MEM
    [ "$t" = redis-long ] && mem=$LONG_MEM
    mem_bytes=$(numfmt --from=iec "$mem")
    for l in $LEVELS; do
        # 4 MiB multiples are not needed for tenants: bytes are rounded to
        # pages by the model
        un=$((mem_bytes * l / 400))
        ca=$((mem_bytes * l * 3 / 400))
        m="--param os.phys_mem=$mem --param os.tenant_unmovable=$un"
        m="$m --param os.tenant_cache=$ca --param os.tenant_swing=20"
        m="$m --param os.young_clear=$YOUNG --param tlb.model=skylake"
        m="$m --thp always"
        echo "$t.L$l.llama $A $W/$t.ast -p llama --predictor oracle $m" >>"$jobs"
        for p in tcmalloc glibc; do
            echo "$t.L$l.$p $A $W/$t.ast -p $p $m" >>"$jobs"
        done
    done
done
# shellcheck disable=SC2016
xargs -P "${JOBS:-2}" -L 1 bash -c 'bench_run_one "$@"' _ <"$jobs"

python3 - "$W" "$traces" "$LEVELS" <<'PY' | tee "$W/table.md"
import csv, json, os, sys
w, traces, levels = sys.argv[1], sys.argv[2].split(), sys.argv[3].split()
POL = [("tcmalloc", "tcmalloc"), ("llama", "llama + oracle"),
       ("glibc", "glibc")]

def load(t, l, p):
    f = os.path.join(w, "runs", f"{t}.L{l}.{p}", "summary.json")
    return json.load(open(f)) if os.path.exists(f) else None

for t in traces:
    print(f"\n#### {t}\n")
    print("| pressure % | policy | coverage | TLB huge share | L1 misses "
          "/1000 | walks /1000 | THP fallbacks | compact stalls | "
          "unusable_9 mean | unusable_9 max | peak resident MiB |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    rows = {p: [] for p, _ in POL}
    for l in levels:
        for p, label in POL:
            d = load(t, l, p)
            if not d:
                continue
            m, tl, ph = d["metrics"], d["tlb"], d["phys"]
            ui = ph["unusable_index_9"]
            print(f"| {l} | {label} | {m['hugepage_coverage_mean']:.3f} | "
                  f"{tl['huge_share']:.3f} | "
                  f"{tl['l1_misses_per_1000']:.1f} | "
                  f"{tl['walks_per_1000']:.2f} | "
                  f"{ph['thp_fault_fallbacks']} | {ph['compact_stalls']} | "
                  f"{ui['mean']:.3f} | {ui['max']:.3f} | "
                  f"{m['peak_resident_bytes'] / 1048576:.1f} |")
            rows[p].append((l, m["hugepage_coverage_mean"],
                            tl["walks_per_1000"], tl["l1_misses_per_1000"]))
    # one data block per policy (gnuplot index 0, 1, 2)
    with open(os.path.join(w, f"{t}-levels.dat"), "w") as f:
        for p, label in POL:
            f.write(f"# {label}: pressure_pct coverage walks_per_1000 "
                    "l1_misses_per_1000\n")
            for r in rows[p]:
                f.write(" ".join(str(x) for x in r) + "\n")
            f.write("\n\n")
    # unusable index over time at every level, tcmalloc's run (the index
    # is the machine's; each policy's run has its own machine)
    with open(os.path.join(w, f"{t}-unusable.dat"), "w") as f:
        for l in levels:
            s = os.path.join(w, "runs", f"{t}.L{l}.tcmalloc", "series.csv")
            if not os.path.exists(s):
                continue
            f.write(f"# pressure {l} %: t_s unusable_index_9 tenant_MiB\n")
            for r in csv.DictReader(open(s)):
                f.write(f"{int(r['t_ns']) / 1e9:.3f} {r['unusable_index_9']} "
                        f"{int(r['tenant_bytes']) / 1048576:.1f}\n")
            f.write("\n\n")
PY

# The plots: the palette and sizes of reports/plot.c (Okabe-Ito colours).
style="set encoding utf8
set linetype 1 lc rgb '#0072B2' lw 1.5 pt 7 ps 0.8
set linetype 2 lc rgb '#D55E00' lw 1.5 pt 5 ps 0.8
set linetype 3 lc rgb '#009E73' lw 1.5 pt 9 ps 0.9
set linetype 4 lc rgb '#CC79A7' lw 1.5 pt 11 ps 0.9
set linetype 5 lc rgb '#E69F00' lw 1.5 pt 13 ps 0.9
set linetype 6 lc rgb '#56B4E9' lw 1.5 pt 4 ps 0.8
set linetype cycle 6
set border 3 lw 0.8
set tics nomirror out scale 0.6
set grid ytics lc rgb '#d0d0d0' lw 0.5 dt 1
set key noenhanced Left reverse samplen 1.5 spacing 1.0
set terminal pngcairo size 1020,720 font 'DejaVu Sans,22' linewidth 3 noenhanced"
for t in $traces; do
    gnuplot <<GP || exit 1
$style
set output '$W/$t-machine-coverage.png'
set title '$t: huge-page coverage as tenants fill memory'
set xlabel 'background tenants, % of physical memory'
set xrange [0:100]
set xtics 20
set ylabel 'huge-page coverage (mean)'
set yrange [0:1.05]
set key bottom left
plot '$W/$t-levels.dat' index 0 using 1:2 with linespoints title 'tcmalloc', \
     '' index 1 using 1:2 with linespoints title 'llama + oracle', \
     '' index 2 using 1:2 with linespoints title 'glibc'
set output '$W/$t-machine-tlb.png'
set title '$t: TLB misses as tenants fill memory'
set ylabel 'page walks per 1000 accesses'
set logscale y
set yrange [*:*]
set key outside right top
plot '$W/$t-levels.dat' index 0 using 1:(\$3 > 0 ? \$3 : 0.001) with linespoints title 'tcmalloc', \
     '' index 1 using 1:(\$3 > 0 ? \$3 : 0.001) with linespoints title 'llama + oracle', \
     '' index 2 using 1:(\$3 > 0 ? \$3 : 0.001) with linespoints title 'glibc'
unset logscale y
set output '$W/$t-machine-unusable.png'
set title '$t: order-9 unusable free space index (tcmalloc runs)'
set xlabel 'trace time, s'
set xrange [*:*]
set xtics autofreq
set ylabel 'unusable index, order 9'
set yrange [0:1.05]
set key outside right top title 'tenants'
levels = '$LEVELS'
n = words(levels)
plot for [i=n:1:-1] '$W/$t-unusable.dat' index i-1 using 1:2 with lines lt i title word(levels, i).' %'
GP
done
ls "$W"/*.png
