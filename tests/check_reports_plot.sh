#!/usr/bin/env bash
# check_reports_plot: `allocsim plot` over run directories written by
# `allocsim run`: every figure kind in PNG, SVG and PDF beside its .dat and
# .gp, tables whose figures are those of the summaries, byte-identical
# tables and data from one report to the next, scripts that render again
# by hand, and bad input (missing or damaged run directories) refused with
# exit 2 and a message naming the file.
# Arguments: BUILD_DIR ALLOCSIM SOURCE_DIR
set -u
. "$(dirname "$0")/checklib.sh"
"$A" gen server-mix --events 20000 --seed 5 -o "$T/mix.ast" >/dev/null || { echo "FAIL gen"; exit 1; }
mkdir -p "$T/runs"
"$A" run -q -p tcmalloc --predictor oracle "$T/mix.ast" -o "$T/runs/tc" >/dev/null &&
"$A" run -q -p bestfit "$T/mix.ast" -o "$T/runs/bf" >/dev/null || { echo "FAIL run"; exit 1; }

check "plot --help" 0 "usage: allocsim plot" -- "$A" plot --help
check "plot" 0 "report in $T/rep/index.html" -- "$A" plot "$T/runs/tc" "$T/runs/bf" -o "$T/rep"
for stem in memory-mix.ast coverage-mix.ast fragmentation-mix.ast \
            confusion-mix.ast-oracle filler-mix.ast-tcmalloc-oracle; do
  for ext in dat gp png svg pdf; do
    [ -s "$T/rep/$stem.$ext" ] || { echo "FAIL plot: $stem.$ext missing"; fail=1; }
  done
  head -c 4 "$T/rep/$stem.png" | od -c | grep -q 'P   N   G' || { echo "FAIL $stem.png is not a PNG"; fail=1; }
  head -c 4 "$T/rep/$stem.pdf" | grep -q '%PDF' || { echo "FAIL $stem.pdf is not a PDF"; fail=1; }
  grep -q '<svg' "$T/rep/$stem.svg" || { echo "FAIL $stem.svg is not an SVG"; fail=1; }
  grep -q "<img src=\"$stem.png\"" "$T/rep/index.html" || { echo "FAIL index.html lacks $stem"; fail=1; }
done
[ "$(ls "$T/rep"/*.log 2>/dev/null | wc -l)" = 0 ] || { echo "FAIL gnuplot logs left behind"; fail=1; }
grep -q "no lifetime CDF or size histogram: they are drawn from the trace" "$T/rep/index.html" ||
  { echo "FAIL index.html does not say why the trace figures are missing"; fail=1; }
for f in compare.csv compare.md compare.json timing.csv index.html; do
  [ -s "$T/rep/$f" ] || { echo "FAIL plot: $f missing"; fail=1; }
done

# The table holds the summaries' figures, names each run, and computes
# the waste reduction of bestfit against tcmalloc (the first run).
python3 - "$T" <<'PY' || fail=1
import csv, json, sys
T = sys.argv[1]
rows = list(csv.DictReader(open(f"{T}/rep/compare.csv")))
assert [r["run"] for r in rows] == [f"{T}/runs/tc", f"{T}/runs/bf"], rows
s = {k: json.load(open(f"{T}/runs/{k}/summary.json")) for k in ("tc", "bf")}
for r, k in zip(rows, ("tc", "bf")):
    m = s[k]["metrics"]
    assert r["policy"] == s[k]["policy"]["name"] and r["trace"] == "mix.ast"
    assert int(r["peak_resident_bytes"]) == m["peak_resident_bytes"]
    assert float(r["jw1"]) == m["fragmentation"]["jw1"], (r["jw1"], m)
    assert int(r["wasted_bytes"]) == m["mean_resident_bytes"] - m["mean_live_bytes"]
    assert "wall_s" not in r and "events_per_s" not in r
wt, wb = int(rows[0]["wasted_bytes"]), int(rows[1]["wasted_bytes"])
assert rows[0]["waste_reduction"] == "0" and rows[1]["baseline"] == f"{T}/runs/tc"
assert abs(float(rows[1]["waste_reduction"]) - (1 - wb / wt)) < 1e-12
assert rows[0]["predictor"] == "oracle" and rows[1]["predictor"] == "none"
j = json.load(open(f"{T}/rep/compare.json"))
assert j["rows"][0]["params"]["tcmalloc.page_size"] == "8192"
t = list(csv.DictReader(open(f"{T}/rep/timing.csv")))
assert float(t[0]["wall_s"]) == s["tc"]["timing"]["wall_s"] or abs(float(t[0]["wall_s"]) - s["tc"]["timing"]["wall_s"]) < 1e-6
# the memory figure's data is the series: live and resident of each run
d = [l.split() for l in open(f"{T}/rep/memory-mix.ast.dat") if l.strip() and not l.startswith("#")]
ser = list(csv.DictReader(open(f"{T}/runs/tc/series.csv")))
assert d[0] == [ser[0]["t_ns"], ser[0]["live_bytes"], ser[0]["resident_bytes"]]
assert len(d) == 2 * len(ser)
print("ok   table figures equal the summaries'")
PY

# A second report from the same runs: tables and data identical; the
# parent directory stands for its run directories (sorted: bf, tc).
check "plot again" 0 "" -- "$A" plot "$T/runs/tc" "$T/runs/bf" -o "$T/rep2"
for f in compare.csv compare.md compare.json memory-mix.ast.dat memory-mix.ast.gp \
         fragmentation-mix.ast.dat confusion-mix.ast-oracle.dat filler-mix.ast-tcmalloc-oracle.gp; do
  cmp -s "$T/rep/$f" "$T/rep2/$f" || { echo "FAIL determinism: $f differs"; fail=1; }
done
check "plot a parent dir" 0 "" -- "$A" plot "$T/runs" -o "$T/rep3"
[ "$(cut -d, -f1 "$T/rep3/compare.csv" | tail -n +2 | tr '\n' ' ')" = "$T/runs/bf $T/runs/tc " ] ||
  { echo "FAIL parent dir: runs not bf, tc"; cat "$T/rep3/compare.csv"; fail=1; }

# A script renders again by hand, in its directory.
rm "$T/rep/memory-mix.ast.png"
(cd "$T/rep" && gnuplot memory-mix.ast.gp) && [ -s "$T/rep/memory-mix.ast.png" ] &&
  echo "ok   gnuplot NAME.gp renders again" || { echo "FAIL re-render"; fail=1; }
check "--no-render" 0 "" -- "$A" plot "$T/runs/bf" --no-render -o "$T/rep4"
[ -s "$T/rep4/memory-mix.ast.gp" ] && [ ! -e "$T/rep4/memory-mix.ast.png" ] ||
  { echo "FAIL --no-render"; fail=1; }

# Bad input.
check "no -o" 2 "-o DIR is required" -- "$A" plot "$T/runs/tc"
check "no run dir" 2 "no run directory given" -- "$A" plot -o "$T/x"
check "missing dir" 2 "$T/none: not a run directory" -- "$A" plot "$T/none" -o "$T/x"
check "unknown option" 2 "unknown option '--bogus'" -- "$A" plot --bogus "$T/runs/tc" -o "$T/x"
mkdir -p "$T/bad1" && echo '{"policy": {"name": ' > "$T/bad1/summary.json"
check "damaged summary" 2 "$T/bad1/summary.json: offset [0-9]+: not valid JSON" -- "$A" plot "$T/bad1" -o "$T/x"
mkdir -p "$T/bad2" && echo '{"metrics": {}}' > "$T/bad2/summary.json"
check "not a summary" 2 "$T/bad2/summary.json: no policy.name" -- "$A" plot "$T/bad2" -o "$T/x"
cp -r "$T/runs/bf" "$T/bad3" && echo "1,2" >> "$T/bad3/series.csv"
n=$(wc -l < "$T/bad3/series.csv")
check "damaged series" 2 "$T/bad3/series.csv: line $n: 2 fields, the header has 15" -- "$A" plot "$T/bad3" -o "$T/x3"
[ ! -e "$T/x3/memory-mix.ast.dat" ] && [ -z "$(ls "$T/x3" | grep '\.tmp$')" ] ||
  { echo "FAIL damaged series left files behind"; ls "$T/x3"; fail=1; }
check "baseline not among runs" 2 "baseline policy 'llama' is not among the runs" -- "$A" plot "$T/runs/bf" --baseline llama -o "$T/x"
check "baseline" 0 "" -- "$A" plot "$T/runs/tc" "$T/runs/bf" --baseline bestfit -o "$T/rep5"
grep -q ",$T/runs/bf,0,0$" "$T/rep5/compare.csv" || { echo "FAIL --baseline: bestfit is not its own baseline"; fail=1; }

# Fewer bytes resident than live: two 1 MiB objects of which the recorded
# write reports say one page each was written (docs/simos.md, "Written
# pages"), replayed by glibc (mmapped chunks: only the written pages
# resident), so every Johnstone-Wilson overhead is below 0 (about -0.99).
# The fragmentation figure draws the bars below its axis at 0 instead of
# gnuplot refusing a plot whose every point lies outside [0:*].
cat >"$T/neg.txt" <<'EOF'
meta record.writes pagemap
meta record.writes_min_bytes 8192
a 1000 0 0 0 1048576 0 0 0
w 2000 0 0 4096
a 3000 0 0 1 1048576 0 0 0
w 4000 1 0 4096
f 9000 0 0 0
f 9500 0 0 1
EOF
"$A" import -f text "$T/neg.txt" -o "$T/neg.ast" >/dev/null &&
  "$A" run -q -p glibc "$T/neg.ast" -o "$T/runs/neg" >/dev/null 2>&1 || { echo "FAIL negative: run"; fail=1; }
python3 - "$T/runs/neg/summary.json" <<'PY' || { echo "FAIL negative: overheads not all below 0"; fail=1; }
import json, sys
f = json.load(open(sys.argv[1]))["metrics"]["fragmentation"]
assert all(-1 < f[k] < -0.9 for k in ("jw1", "jw2", "jw3", "jw4")), f
PY
check "plot of negative overheads" 0 "report in $T/neg-rep/index.html" -- "$A" plot "$T/runs/neg" -o "$T/neg-rep"
head -c 4 "$T/neg-rep/fragmentation-neg.ast.png" 2>/dev/null | od -c | grep -q 'P   N   G' ||
  { echo "FAIL negative: no fragmentation figure"; fail=1; }
exit $fail
