#!/usr/bin/env bash
# check_reports_sweep: `allocsim sweep` end to end. A sweep killed (SIGKILL)
# in the middle leaves only whole runs, and rerun it does only what is
# missing and ends with the same files as an uninterrupted sweep (every
# summary apart from timing, every series, the tables and the figures'
# data). Progress shows on a terminal and not in a pipe; bad specs exit 2
# naming the spec and line.
# Arguments: BUILD_DIR ALLOCSIM SOURCE_DIR
set -u
. "$(dirname "$0")/checklib.sh"
trap 'kill -9 $bg 2>/dev/null; rm -rf "$T"' EXIT
bg=
cd "$T"
"$A" gen server-mix --events 30000 --seed 11 -o a.ast >/dev/null &&
"$A" gen server-mix --events 30000 --seed 12 -o b.ast >/dev/null || { echo "FAIL gen"; exit 1; }
# 2 traces x (bestfit: 3 grow_bytes x 2 thp + hoard: 2 thp) = 16 runs
cat > spec.json <<'JSON'
{
  "traces": ["a.ast", "b.ast"],
  "policies": ["bestfit", "hoard"],
  "params": {
    "bestfit.grow_bytes": {"from": 65536, "to": 262144, "times": 2},
    "os.thp": ["always", "never"]
  },
  "run_args": ["--no-check"]
}
JSON
check "sweep --list" 0 "" -- "$A" sweep spec.json --list -o u
[ "$(wc -l < out)" = 16 ] || { echo "FAIL --list: $(wc -l < out) runs, wanted 16"; fail=1; }
check "sweep" 0 "16 runs; report in u/index.html" -- "$A" sweep spec.json -o u -j 2
[ -s err ] && { echo "FAIL progress printed into a pipe:"; cat err; fail=1; }
[ "$(ls u/runs | wc -l)" = 16 ] || { echo "FAIL sweep: $(ls u/runs | wc -l) run dirs"; fail=1; }
for f in compare.csv compare.md compare.json index.html spec.json \
         sweep-bestfit.grow_bytes-jw1.png sweep-bestfit.grow_bytes-coverage.pdf \
         sweep-os.thp-mean-resident.svg frontier-bestfit.grow_bytes-a.ast.png; do
  [ -s "u/$f" ] || { echo "FAIL sweep: $f missing"; fail=1; }
done
# The jw1 figure's data holds, per thp mode, the mean and range over the
# two traces of each grow_bytes value, from the summaries.
python3 - <<'PY' || fail=1
import csv, json
rows = list(csv.DictReader(open("u/compare.csv")))
assert len(rows) == 16
pts = {}
for r in rows:
    if r["policy"] != "bestfit": continue
    s = json.load(open("u/" + r["run"] + "/summary.json"))
    key = (s["os"]["params"]["thp"], s["policy"]["params"]["grow_bytes"])
    pts.setdefault(key, []).append(s["metrics"]["fragmentation"]["jw1"])
blocks = [b for b in open("u/sweep-bestfit.grow_bytes-jw1.dat").read().split("\n\n\n") if b.strip()]
assert len(blocks) == 2, len(blocks)
for b in blocks:
    lines = b.strip().split("\n")
    thp = "always" if any("thp=always" in l for l in lines if l.startswith("#")) else "never"
    data = [l.split() for l in lines if not l.startswith("#")]
    assert [int(d[0]) for d in data] == [65536, 131072, 262144], data
    for d in data:
        v = pts[(thp, int(d[0]))]
        assert len(v) == 2 and int(d[4]) == 2
        assert abs(float(d[1]) - sum(v) / 2) < 1e-12 and float(d[2]) == min(v) and float(d[3]) == max(v)
print("ok   sweep figure data = mean, min, max of the summaries")
PY

# Decode once, replay many: the 8 runs of each trace went through one
# `allocsim run --config ...` process, and each gives what the same run
# alone gives (summary apart from timing and provenance, every CSV).
grep -q -- '"--config"' "u/runs/$(ls u/runs | head -1)/summary.json" ||
  { echo "FAIL sweep did not group the runs of a trace into one pass"; fail=1; }
n_same=0
while IFS=$'\t' read -r dir cmd; do
  case $dir in */a.ast_bestfit_none_131072_never_*|*/b.ast_hoard_none_always_*|*/a.ast_hoard_none_never_*) ;; *) continue;; esac
  cmd=${cmd#allocsim run }
  cmd=${cmd% -o *}
  # shellcheck disable=SC2086
  "$A" run -q $cmd -o alone >/dev/null 2>&1 || { echo "FAIL alone: $cmd"; fail=1; }
  d=u/${dir#u/}
  for f in $(cd alone && ls *.csv); do
    cmp -s "alone/$f" "$d/$f" || { echo "FAIL $f of $dir differs from the run alone"; fail=1; }
  done
  cmp -s <(nosum alone/summary.json) <(nosum "$d/summary.json") &&
    n_same=$((n_same + 1)) || { echo "FAIL summary of $dir differs from the run alone"; fail=1; }
  rm -rf alone
done < <("$A" sweep spec.json --list -o u)
[ $n_same = 3 ] && echo "ok   3 grouped runs identical to the same runs alone" ||
  { echo "FAIL compared $n_same grouped runs with runs alone, wanted 3"; fail=1; }

# Kill a sweep after a few runs, then finish it.
"$A" sweep spec.json -o k -j 1 >/dev/null 2>&1 & bg=$!
for i in $(seq 1 600); do
  n=$(ls k/runs/*/summary.json 2>/dev/null | wc -l)
  [ "$n" -ge 4 ] && break
  sleep 0.05
done
kill -9 $bg; wait $bg 2>/dev/null; bg=
sleep 0.2
done_k=$(ls k/runs/*/summary.json 2>/dev/null | wc -l)
if [ "$done_k" -ge 4 ] && [ "$done_k" -lt 16 ]; then echo "ok   killed after $done_k of 16 runs"
else echo "FAIL kill: $done_k runs finished"; fail=1; fi
for d in k/runs/*; do
  case $d in *.tmp.*|*.log) continue;; esac
  [ -s "$d/summary.json" ] || { echo "FAIL a half run under its final name: $d"; fail=1; }
done
check "resume" 0 "16 runs" -- "$A" sweep spec.json -o k -j 2
[ -z "$(ls k/runs | grep -E '\.tmp\.|\.log$')" ] || { echo "FAIL temporaries left after resume"; ls k/runs; fail=1; }
[ "$(ls u/runs)" = "$(ls k/runs)" ] || { echo "FAIL resumed sweep has other runs"; fail=1; }
for d in u/runs/*; do
  r=${d#u/}
  cmp -s <(nosum "u/$r/summary.json") <(nosum "k/$r/summary.json") &&
    cmp -s "u/$r/series.csv" "k/$r/series.csv" || { echo "FAIL $r differs after resume"; fail=1; }
done
for f in compare.csv compare.md compare.json $(cd u && ls *.dat *.gp); do
  cmp -s "u/$f" "k/$f" || { echo "FAIL $f differs after resume"; fail=1; }
done
[ $fail = 0 ] && echo "ok   resumed sweep identical to the uninterrupted one"

# Progress on a terminal: done/total, failures, ETA (counted when a
# process ends: here one per trace).
rm -rf k/runs/*_hoard*
script -qec "'$A' sweep spec.json -o k -j 1" /dev/null > tty.txt 2>&1
grep -q "sweep: 16/16 done, 0 failed" tty.txt && grep -q "ETA" tty.txt &&
  echo "ok   progress on a terminal" || { echo "FAIL no progress on a terminal:"; cat tty.txt; fail=1; }
# What a person sees last: render the terminal line as a terminal would
# (\r returns to column 0 and overwrites, ESC[K clears to the end), so a
# shorter final line must not keep a stale ", ETA" from a longer one.
python3 - tty.txt <<'PY' && echo "ok   final progress line clean" || fail=1
import sys
t = open(sys.argv[1], encoding="utf-8", errors="replace", newline="").read()
seen, row, col = [], [], 0
i = 0
while i < len(t):
    if t.startswith("\x1b[K", i):
        del row[col:]; i += 3; continue
    c = t[i]; i += 1
    if c == "\r": col = 0
    elif c == "\n": seen.append("".join(row)); row, col = [], 0
    else:
        if col < len(row): row[col] = c
        else: row.append(c)
        col += 1
last = [l for l in seen if "sweep:" in l][-1]
if last.rstrip() != "sweep: 16/16 done, 0 failed":
    print("FAIL final progress line as shown:", repr(last)); sys.exit(1)
PY

# Bad specs and usage.
printf '{"traces": ["a.ast"],\n "policies": ["bestfit"],\n "params": {"bestfit.grow_bytes": {"from": 1}}}\n' > bad1.json
check "bad range" 2 "bad1.json: line 3: \"bestfit.grow_bytes\": a range needs from, to" -- "$A" sweep bad1.json -o x
printf '{"traces": ["a.ast"],\n "policies": ["bestfit",\n' > bad2.json
check "not JSON" 2 "bad2.json: line 3 \(offset [0-9]+\): not valid JSON" -- "$A" sweep bad2.json -o x
printf '{"traces": ["a.ast"], "policies": ["nope"]}' > bad3.json
check "unknown policy" 2 "bad3.json: unknown policy 'nope'; valid: .*bestfit" -- "$A" sweep bad3.json -o x
printf '{"traces": ["none.ast"], "policies": ["bestfit"]}' > bad4.json
check "missing trace" 2 "bad4.json: trace none.ast: cannot read it" -- "$A" sweep bad4.json -o x
check "missing spec" 2 "nospec.json: cannot open" -- "$A" sweep nospec.json -o x
check "no -o" 2 "-o DIR is required" -- "$A" sweep spec.json
printf '{"traces": ["a.ast"], "policies": ["bestfit"], "params": {"bestfit.nope": [1, 2]}}' > bad5.json
check "every run refused" 2 "2 of 2 runs failed" -- "$A" sweep bad5.json -o x5 -j 2
grep -q "bestfit has no parameter 'nope'" x5/runs/*.log || { echo "FAIL run log"; fail=1; }
exit $fail
