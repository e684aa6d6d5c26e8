#!/usr/bin/env bash
# check_record_memory.sh BUILD ALLOCSIM SRC - a real program recorded end to
# end with its real memory: record_target memory writes 60 MiB over ~300 ms;
# the trace holds RSS samples every 10 ms (nonzero, at least the blocks
# written before each, falling by them at exit; on one grid from the first, none lost: the periodic samples and
# the periods the drainer missed on a loaded machine,
# record.mem_periods_missed, add up to the time from the first to the last
# periodic one, as in test_traces_record), stack heights and the host's
# THP settings, and its text form imports back to the same bytes; `allocsim
# run` puts the real RSS in series.csv next to the simulated bytes,
# defaults the simulated THP mode to the host's (saying so in
# summary.json), warns that the trace is shorter than tcmalloc's periods
# (exactly those longer than the trace's own duration: tick_interval's 1 s
# only when the run took less, which a loaded machine can stretch it
# past); the memory figure of `allocsim plot` draws the real RSS.
# Skipped (exit 77, with a note) when the recorder is not built.
set -euo pipefail
. "$(dirname "$0")/checklib.sh"
target=$B/traces/record/record_target
skip_unless_recorder "$target"

"$A" record -q -o "$T/m.ast" -- "$target" memory || die "record exit $?"
"$A" cat "$T/m.ast" > "$T/m.txt"
python3 - "$T/m.txt" <<'PY' || die "samples"
import sys, urllib.parse
lines = open(sys.argv[1]).read().splitlines()
s = [l.split() for l in lines if l.startswith("s ")]
meta = dict(l.split(" ", 2)[1:] for l in lines if l.startswith("meta "))
assert len(s) >= 10, f"only {len(s)} samples"
t = [int(x[1]) for x in s]
rss = [int(x[2]) for x in s]
assert all(r > 0 for r in rss), "an RSS of 0"
# every 1 MiB block written before a sample (the trace's order) is
# resident at it, the last one allocated maybe still being written; the
# one at exit is below the highest by the most blocks a sample saw live
# (how many depends on when the drainer woke, not assumed to be 60)
live, most, under = set(), 0, []
for l in lines:
    f = l.split()
    if f[0] == "a" and f[5] == "1048576":
        live.add(f[4])
    elif f[0] == "f":
        live.discard(f[4])
    elif f[0] == "s":
        most = max(most, len(live))
        if live and int(f[2]) < (len(live) - 1) << 20:
            under.append((f[1], f[2], len(live)))
assert not under, f"(t, RSS, blocks live) short of the blocks: {under}"
assert 2 <= most <= 60 and rss[-1] + ((most - 2) << 20) <= max(rss), \
    f"RSS {min(rss)}..{max(rss)}, at exit {rss[-1]}, {most} blocks seen"
P = 10_000_000
assert urllib.parse.unquote(meta["mem_sampling"]) == \
    f"every {P} ns (smaps_rollup, else statm)", meta["mem_sampling"]
missed = int(meta.get("record.mem_periods_missed", 0))
# the first is the grid's origin, the last taken at exit; the k-th
# between is never before k - 1/2 periods (half a period: the clock's
# conversion and the readings' own cost)
early = [k for k in range(1, len(t) - 1) if 2 * (t[k] - t[0]) < (2 * k - 1) * P]
assert not early, f"samples {early} early for a {P} ns period"
# periodic + missed = the grid points up to the last periodic sample:
# 2 (last - first) / P is twice that, plus 0..2 for the last one's
# lateness, -1..1 for the offsets
more = 2 * (t[-2] - t[0]) // P - 2 * (len(t) - 2 + missed)
assert -1 <= more <= 2, (f"{len(t) - 2} periodic samples + {missed} missed "
                         f"periods for {(t[-2] - t[0]) / P:.2f} periods")
print(f"ok   {len(s)} samples, {missed} periods missed over "
      f"{(t[-2] - t[0]) / P:.2f}, RSS {min(rss) >> 20}..{max(rss) >> 20} MiB, "
      f"up to {most} blocks live at a sample")
PY
grep -q "^a .* [0-9][0-9]*$" "$T/m.txt" || die "no stack heights in cat"
# the text form carries heights and samples back to the same bytes
"$A" import -f text "$T/m.txt" -o "$T/m2.ast" || die "import exit $?"
cmp -s "$T/m.ast" "$T/m2.ast" || die "cat | import is not byte-identical"
enabled=$(sed -n 's/.*\[\(.*\)\].*/\1/p' /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null || true)
grep -q "^meta host.thp.enabled ${enabled:-unknown}$" "$T/m.txt" || die "host.thp.enabled"

"$A" run -q -p tcmalloc "$T/m.ast" -o "$T/run" 2> "$T/err" > /dev/null \
  || die "run exit $?"
grep -q "^allocsim run: warning: trace lasts .* s, shorter than periods" "$T/err" \
  || die "no short-trace warning: $(cat "$T/err")"
python3 - "$T/run" "${enabled:-unknown}" "$T/err" <<'PY' || die "run outputs"
import csv, json, re, sys
d, enabled = sys.argv[1], sys.argv[2]
err = open(sys.argv[3]).read()
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
# the warning names exactly the periods longer than the trace: among them
# tick_interval (1 s) when the recorded run took less than that
w = s["warnings"]["trace_shorter_than_periods"]
assert w in err, "the warning on stderr is not summary.json's"
dur = s["trace"]["duration_ns"]
assert w.startswith(f"trace lasts {dur / 1e9:.3g} s,"), (w, dur)
listed = dict(re.findall(r"([a-z_.]+) = ([0-9.]+) s", w))
assert listed and all(float(v) * 1e9 > dur for v in listed.values()), listed
assert ("tcmalloc.tick_interval" in listed) == (dur < 1e9), (dur, listed)
assert listed.get("tcmalloc.tick_interval", "1") == "1", listed
assert listed["tcmalloc.skip_subrelease_long"] == "300", listed
print(f"ok   series.csv real_rss_bytes in {len(filled)}/{len(rows)} rows; "
      f"{len(listed)} periods longer than the {dur / 1e9:.3f} s trace")
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
