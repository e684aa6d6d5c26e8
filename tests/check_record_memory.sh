#!/usr/bin/env bash
# check_record_memory.sh BUILD ALLOCSIM SRC - a real program recorded end to
# end with its real memory: record_target memory writes 60 MiB over ~300 ms;
# the trace holds RSS samples about every 10 ms (nonzero, growing by the
# blocks written), stack heights and the host's THP settings, and its text
# form imports back to the same bytes; `allocsim
# run` puts the real RSS in series.csv next to the simulated bytes,
# defaults the simulated THP mode to the host's (saying so in
# summary.json), warns that the trace is shorter than tcmalloc's periods;
# the memory figure of `allocsim plot` draws the real RSS.
# Skipped (exit 77, with a note) when the recorder is not built.
set -euo pipefail
. "$(dirname "$0")/checklib.sh"
target=$B/traces/record/record_target
skip_unless_recorder "$target"

"$A" record -q -o "$T/m.ast" -- "$target" memory || die "record exit $?"
"$A" cat "$T/m.ast" > "$T/m.txt"
python3 - "$T/m.txt" <<'PY' || die "samples"
import sys
s = [l.split() for l in open(sys.argv[1]) if l.startswith("s ")]
assert len(s) >= 10, f"only {len(s)} samples"
t = [int(x[1]) for x in s]
rss = [int(x[2]) for x in s]
assert all(r > 0 for r in rss), "an RSS of 0"
assert max(rss) - min(rss) >= 50 << 20, f"RSS range {min(rss)}..{max(rss)}"
gaps = sorted(b - a for a, b in zip(t, t[1:-1]))  # the last: at exit
med = gaps[len(gaps) // 2]
assert 9_000_000 <= med <= 20_000_000, f"median gap {med} ns"
print(f"ok   {len(s)} samples, median gap {med / 1e6:.2f} ms, "
      f"RSS {min(rss) >> 20}..{max(rss) >> 20} MiB")
PY
grep -q "^a .* [0-9][0-9]*$" "$T/m.txt" || die "no stack heights in cat"
# the text form carries heights and samples back to the same bytes
"$A" import -f text "$T/m.txt" -o "$T/m2.ast" || die "import exit $?"
cmp -s "$T/m.ast" "$T/m2.ast" || die "cat | import is not byte-identical"
enabled=$(sed -n 's/.*\[\(.*\)\].*/\1/p' /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null || true)
grep -q "^meta host.thp.enabled ${enabled:-unknown}$" "$T/m.txt" || die "host.thp.enabled"

"$A" run -q -p tcmalloc "$T/m.ast" -o "$T/run" 2> "$T/err" > /dev/null \
  || die "run exit $?"
grep -q "warning: trace lasts .* tcmalloc.tick_interval = 1 s" "$T/err" \
  || die "no short-trace warning: $(cat "$T/err")"
python3 - "$T/run" "${enabled:-unknown}" <<'PY' || die "run outputs"
import csv, json, sys
d, enabled = sys.argv[1], sys.argv[2]
rows = list(csv.DictReader(open(d + "/series.csv")))
real = [r["real_rss_bytes"] for r in rows]
assert "real_huge_bytes" in rows[0], "no real_huge_bytes column"
filled = [int(v) for v in real if v]
assert len(filled) >= 0.9 * len(rows), f"{len(filled)} of {len(rows)} rows"
assert max(filled) >= 50 << 20, f"real RSS peak {max(filled)}"
s = json.load(open(d + "/summary.json"))
rm = s["trace"]["real_memory"]
assert rm["samples"] >= 10 and rm["peak_rss_bytes"] == max(
    rm["peak_rss_bytes"], max(filled))
if enabled in ("always", "madvise", "never"):
    assert s["os"]["params"]["thp"] == enabled, s["os"]["params"]
    assert s["os"]["param_sources"]["thp"] == "recording host"
assert "tcmalloc.tick_interval" in s["warnings"]["trace_shorter_than_periods"]
print(f"ok   series.csv real_rss_bytes in {len(filled)}/{len(rows)} rows")
PY
"$A" plot "$T/run" -o "$T/plot" > /dev/null 2>&1 || die "plot exit $?"
grep -q "^# real RSS of the recorded program" "$T/plot/memory-m.ast.dat" || die "no real RSS block"
grep -q "real RSS (recorded)" "$T/plot/memory-m.ast.gp" || die "no real RSS line"
echo "ok: recorded real memory reaches series.csv and the figure"

# The sampler's CPU budget: asked for a reading every microsecond, it
# spaces its full (smaps_rollup) readings by 20 times their CPU cost in the
# process's CPU time (a reading is an open, a page-table walk and a close:
# well over 1 us), and says how far apart in record.mem_interval_max_ns.
"$A" record -q --mem-interval 1us -o "$T/b.ast" -- "$target" memory ||
  die "record --mem-interval 1us exit $?"
max=$("$A" info "$T/b.ast" | sed -n 's/.*record.mem_interval_max_ns = //p')
[[ -n $max && $max -ge 20000 ]] || die "mem_interval_max_ns '$max' (wanted >= 20000)"
n=$("$A" info "$T/b.ast" | awk '/^memory samples/ {print $3}')
[[ -n $n ]] && (( n > 0 && n < 100000 )) || die "samples '$n' at a 1 us period: the budget did not hold"
echo "ok   full readings at a 1 us period: up to $max ns apart ($n samples)"
