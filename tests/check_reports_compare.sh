#!/usr/bin/env bash
# check_reports_compare: `allocsim compare` runs each (trace, policy) as an
# `allocsim run` subprocess, in parallel, with the same result as running
# it by hand; a rerun reuses finished runs and gives the same tables; a
# failed run leaves its log and no half result, the others still report;
# per-policy parameters reach only their policy; bad usage exits 2.
# Arguments: BUILD_DIR ALLOCSIM SOURCE_DIR
set -u
. "$(dirname "$0")/checklib.sh"
"$A" gen server-mix --events 20000 --seed 7 -o "$T/a.ast" >/dev/null &&
"$A" gen larson --events 20000 --seed 8 -o "$T/b.ast" >/dev/null || { echo "FAIL gen"; exit 1; }

check "compare --help" 0 "usage: allocsim compare" -- "$A" compare --help
check "compare" 0 "4 runs; report in $T/c/index.html" -- \
  "$A" compare "$T/a.ast" "$T/b.ast" --policies tcmalloc,bestfit -P bestfit.grow_bytes=256K -o "$T/c" -j 2
for r in a.ast/tcmalloc a.ast/bestfit b.ast/tcmalloc b.ast/bestfit; do
  [ -s "$(echo "$T/c/runs/$r"-*/summary.json)" ] || { echo "FAIL compare: runs/$r-HASH missing"; fail=1; }
done
run() { echo "$T/$1/runs/$2"-*; }  # run DIR TRACE/POLICY: its directory
[ -z "$(find "$T/c" -name '*.tmp*' -o -name '*.log')" ] || { echo "FAIL temporaries left"; find "$T/c"; fail=1; }
[ "$(tail -n +2 "$T/c/compare.csv" | wc -l)" = 4 ] || { echo "FAIL compare.csv rows"; fail=1; }
for f in memory-a.ast.png memory-b.ast.pdf fragmentation-b.ast.svg filler-a.ast-tcmalloc.png \
         lifetime-a.ast.png lifetime-b.ast.svg sizes-a.ast.pdf sizes-b.ast.gp index.html; do
  [ -s "$T/c/$f" ] || { echo "FAIL compare: $f missing"; fail=1; }
done
# The trace figures agree with `allocsim info`: every object, the bytes
# requested, the objects and bytes live at the end (never freed).
"$A" info "$T/a.ast" > "$T/info.txt"
objs=$(awk '$1 == "objects" {print $2}' "$T/info.txt")
req=$(awk '$1 == "requested" {print $3}' "$T/info.txt")
endb=$(awk '$1 == "live" && $2 == "at" {print $4}' "$T/info.txt")
endo=$(awk '$1 == "live" && $2 == "at" {print $6}' "$T/info.txt")
grep -q "^# allocations $objs ($req bytes); never freed $endo ($endb bytes)$" "$T/c/lifetime-a.ast.dat" &&
  echo "ok   lifetime figure counts equal allocsim info's" ||
  { echo "FAIL lifetime-a.ast.dat vs info ($objs $req $endo $endb):"; head -3 "$T/c/lifetime-a.ast.dat"; fail=1; }
# The same run by hand gives the same summary (apart from timing).
"$A" run -q -p bestfit --predictor none -P bestfit.grow_bytes=256K "$T/a.ast" -o "$T/byhand" >/dev/null
if diff <(nosum "$T/byhand/summary.json") <(nosum "$(run c a.ast/bestfit)/summary.json") >/dev/null &&
   cmp -s "$T/byhand/series.csv" "$(run c a.ast/bestfit)/series.csv"; then
  echo "ok   a compare run equals the run by hand"
else echo "FAIL compare run differs from allocsim run"; fail=1; fi
# bestfit.grow_bytes reached bestfit only (tcmalloc would reject it).
grep -q '"grow_bytes":[[:space:]]*262144' "$(run c b.ast/bestfit)/summary.json" ||
  { echo "FAIL bestfit.grow_bytes not applied"; fail=1; }

# A rerun reuses every run (summaries untouched) and writes the same tables.
cp "$T/c/compare.csv" "$T/c1.csv"; cp "$T/c/compare.json" "$T/c1.json"
touch -d '2001-01-01' "$(run c a.ast/tcmalloc)/summary.json"
check "compare again" 0 "4 runs" -- \
  "$A" compare "$T/a.ast" "$T/b.ast" --policies tcmalloc,bestfit -P bestfit.grow_bytes=256K -o "$T/c" -j 2
[ "$(stat -c %Y "$(run c a.ast/tcmalloc)/summary.json")" = "$(date -d 2001-01-01 +%s)" ] ||
  { echo "FAIL rerun replayed a finished run"; fail=1; }
cmp -s "$T/c1.csv" "$T/c/compare.csv" && cmp -s "$T/c1.json" "$T/c/compare.json" &&
  echo "ok   rerun: same tables" || { echo "FAIL rerun: tables differ"; fail=1; }

# Other options make other runs: nothing of the first compare is reused.
check "compare with another predictor" 0 "4 runs" -- \
  "$A" compare "$T/a.ast" "$T/b.ast" --policies tcmalloc,bestfit -P bestfit.grow_bytes=256K --predictor oracle -o "$T/c" -j 2
[ "$(ls -d "$T"/c/runs/a.ast/tcmalloc-* | wc -l)" = 2 ] &&
  [ "$(grep -l '"name":[[:space:]]*"oracle"' "$T"/c/runs/a.ast/tcmalloc-*/summary.json | wc -l)" = 1 ] &&
  echo "ok   another predictor: new runs beside the old" || { echo "FAIL another predictor reused a run"; ls -R "$T/c/runs"; fail=1; }

# One failing run: the others still report; exit 1; its log is kept.
check "a failing run" 1 "1 of 2 runs failed" -- \
  "$A" compare "$T/a.ast" --policies tcmalloc,bestfit -P tcmalloc.nope=1 -o "$T/f" -j 2
grep -q "tcmalloc has no parameter 'nope'" "$T"/f/runs/a.ast/tcmalloc-*.log || { echo "FAIL failed run's log"; fail=1; }
[ -z "$(ls -d "$T"/f/runs/a.ast/tcmalloc-* | grep -v '\.log$')" ] && [ -s "$(run f a.ast/bestfit)/summary.json" ] &&
  [ "$(tail -n +2 "$T/f/compare.csv" | wc -l)" = 1 ] || { echo "FAIL partial compare"; ls -R "$T/f"; fail=1; }
check "every run fails on usage" 2 "2 of 2 runs failed" -- \
  "$A" compare "$T/a.ast" --policies tcmalloc,bestfit -P os.nope=1 -o "$T/g" -j 1

check "unknown policy" 2 "unknown policy 'nope'; valid: .*bestfit" -- "$A" compare "$T/a.ast" --policies bestfit,nope -o "$T/x"
check "no policies" 2 "--policies is required" -- "$A" compare "$T/a.ast" -o "$T/x"
check "no trace" 2 "no trace given" -- "$A" compare --policies bestfit -o "$T/x"
check "missing trace" 2 "$T/none.ast: cannot read the trace" -- "$A" compare "$T/none.ast" --policies bestfit -o "$T/x"
check "bad -j" 2 "--jobs '0': must be a whole number" -- "$A" compare "$T/a.ast" --policies bestfit -o "$T/x" -j 0
exit $fail
