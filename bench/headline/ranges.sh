#!/usr/bin/env bash
# bench/headline/ranges.sh - how far the headline comparison (llama + oracle
# against tcmalloc) moves across the plausible values of every llama and
# tcmalloc parameter whose default no source fixes (the table "Parameters
# no source fixes: range of the headline" of docs/benchmarks.md). Not part
# of `make test`; rerun it after a policy changes.
#
# usage: bench/headline/ranges.sh ALLOCSIM [OUT]
#
# Traces: `ALLOCSIM gen server-mix --events 1000000 --seed 1` and
# data/redis-long.ast. Per trace one `ALLOCSIM run -q --no-check --threads
# ${THREADS:-2} --config ...` pass replays every configuration below (each
# written to OUT/TRACE/SPEC exactly as a run of its own); THP is the run's
# default (`always` for server-mix, the recording host's `madvise` for
# redis-long). Each row moves one parameter from its default: a llama
# parameter against default tcmalloc, a tcmalloc parameter against default
# llama + oracle. Columns: llama's peak and mean resident over tcmalloc's,
# and the waste reduction 1 - waste_llama/waste_tcmalloc (waste = mean
# resident - mean live). A trace whose OUT/TRACE/tcmalloc/summary.json
# exists is not replayed again. Prints markdown (also OUT/ranges.md).
set -u
. "$(dirname "$0")/../lib.sh"
bench_init bench-ranges "$@"
L=llama,predictor=oracle
# "POLICY PARAM VALUES DEFAULT": the rows of the table, in this order
ROWS='llama deadline_multiplier 1,2,4,8 2
llama open_blocks per_cpu,shared per_cpu
llama small_max 1K,4K,8K 8K
llama medium_max 1M,2M 2M
llama line_size 64,128,256 128
llama partial_min_lines 1,8,32 8
llama tick_interval 1ms,10ms,100ms 10ms
llama recycle_order nearest,longest nearest
llama recycle_open never,top,bottom never
llama block_size 4K,8K,16K 8K
tcmalloc small_align8 off,on off
tcmalloc small_object_depth+large_object_depth 247+15,2000+144,4000+288 2000+144
tcmalloc use_regions on,off on
tcmalloc hugecache_max_hugepages 10,524288 524288'

# the configuration of one row's value: SPEC on stdout
spec() { # POLICY PARAM VALUE
    local base=$L p=$2 v=$3 out
    [ "$1" = tcmalloc ] && base=tcmalloc
    out=$base
    while [ -n "$p" ]; do
        out="$out,$1.${p%%+*}=${v%%+*}"
        [ "$p" = "${p#*+}" ] && break
        p=${p#*+} v=${v#*+}
    done
    echo "$out"
}

cfg=(--config tcmalloc --config "$L")
while read -r pol par vals dflt; do
    for v in ${vals//,/ }; do
        [ "$v" = "$dflt" ] || cfg+=(--config "$(spec "$pol" "$par" "$v")")
    done
done <<<"$ROWS"

[ -s "$W/server-mix-s1.ast" ] ||
    "$A" gen server-mix --events 1000000 --seed 1 -q \
        -o "$W/server-mix-s1.ast" || exit 1
ln -sf "$SRC/data/redis-long.ast" "$W/redis-long.ast"
for t in server-mix-s1 redis-long; do
    [ -s "$W/$t/tcmalloc/summary.json" ] && continue
    "$A" run -q --no-check --threads "${THREADS:-2}" "${cfg[@]}" \
        "$W/$t.ast" -o "$W/$t" 2>"$W/$t.stderr" ||
        { echo "$0: $t failed (see $W/$t.stderr)" >&2; exit 1; }
done

rows_file=$W/rows.txt
while read -r pol par vals dflt; do
    for v in ${vals//,/ }; do
        if [ "$v" = "$dflt" ]; then
            echo "$pol $par $v 1 tcmalloc $L"
        elif [ "$pol" = llama ]; then
            echo "$pol $par $v 0 tcmalloc $(spec "$pol" "$par" "$v")"
        else
            echo "$pol $par $v 0 $(spec "$pol" "$par" "$v") $L"
        fi
    done
done <<<"$ROWS" >"$rows_file"

python3 - "$W" "$rows_file" <<'PY' | tee "$W/ranges.md"
import json, os, sys
w = sys.argv[1]

def figs(t, spec):
    m = json.load(open(os.path.join(w, t, spec, "summary.json")))["metrics"]
    return (m["peak_resident_bytes"], m["mean_resident_bytes"],
            m["mean_resident_bytes"] - m["mean_live_bytes"])

print("| parameter | value | server-mix s1: llama peak ÷ tcmalloc | "
      "mean ÷ tcmalloc | waste reduction | redis-long: llama peak ÷ "
      "tcmalloc | mean ÷ tcmalloc | waste reduction |")
print("|---|---|---|---|---|---|---|---|")
for line in open(sys.argv[2]):
    pol, par, v, dflt, tc, ll = line.split()
    cells = []
    for t in ("server-mix-s1", "redis-long"):
        lp, lm, lw = figs(t, ll)
        tp, tm, tw = figs(t, tc)
        cells += [f"{lp / tp:.3f}", f"{lm / tm:.3f}", f"{1 - lw / tw:+.3f}"]
    name = ", ".join(f"{pol}.{p}" for p in par.split("+"))
    val = v.replace("+", ", ") + (" (default)" if dflt == "1" else "")
    print(f"| {name} | {val} | " + " | ".join(cells) + " |")
PY
