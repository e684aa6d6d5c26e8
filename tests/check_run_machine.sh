#!/usr/bin/env bash
# check_run_machine: `allocsim run -p P1 A.ast -p P2 B.ast -o DIR` replays
# several traces on one simulated machine, interleaved by machine time.
#  1. With nothing shared (unlimited physical memory) every program's run
#     directory equals its run alone: every CSV byte for byte, summary.json
#     apart from "timing" and "provenance", the same result line. Three
#     programs: a generated trace (tcmalloc, oracle predictor), sqlite.ast
#     (glibc, the --config form) and a trace with real-memory samples
#     (llama, site predictor, --start 50ms).
#  2. Determinism: the same command twice, and with --threads 1 and 2,
#     writes the same files (summaries without timing and provenance).
#  3. The machine's figures on two hand-built traces: program A allocates
#     1000 bytes at its 1 ms and frees them at its 21 ms; program B
#     allocates 3000 bytes at its 5 ms and frees them at its 10 ms. With
#     B started at 10 ms both are live from 10 to 15 ms (peak live 4000,
#     two running); started at 30 ms they never overlap (peak 3000, one).
#     machine_series.csv's rows are checked one by one.
#  4. Usage errors (exit 2) for the ambiguous forms, and the one-trace
#     forms that must keep their meaning.
#  5. A shared physical memory of 4 MiB (1024 frames, two pageblocks):
#     program A (bestfit, os.thp=never) holds one 2,200,000-byte object
#     from 0 to 10 ms, 538 pages of 4 KiB, so both pageblocks have pages
#     in use; program B (tcmalloc, THP always) touches 100 KiB (25 pages)
#     of one 2 MiB region. Started at 1 ms, B's huge-page fault finds no
#     free order-9 block and falls back (1 fallback, 25 4 KiB faults, no
#     huge fault); started at 20 ms, after A gave its frames back, it gets
#     its huge page (1 huge fault, no 4 KiB fault). The machine's series
#     at 1 ms: 486 frames free in blocks 256+128+64+32+4+2, unusable index
#     1.000 and fragmentation index 1000 - (1000 + 486000/512) / 6 = 676
#     (mm/vmstat.c's integer formula); at 2 ms (B live, sampled before its
#     free) 461 frames = 256+128+64+8+4+1, 1000 - 1900/6 = 684.
# Arguments: BUILD_DIR ALLOCSIM SOURCE_DIR
set -u -o pipefail
. "$(dirname "$0")/checklib.sh"
"$A" gen server-mix --events 200000 --seed 5 -o "$T/g.ast" >/dev/null || { echo "FAIL gen"; exit 1; }
sampled_trace "$A" "$T/g.ast" "$T/s.ast" || { echo "FAIL import of the sampled trace"; exit 1; }

# same_run DIR1 DIR2 WHAT: two run directories hold the same figures
same_run() {
  local f ok=1
  for f in series.csv policy_series.csv confusion.csv histograms.csv; do
    cmp -s "$1/$f" "$2/$f" || { echo "FAIL $3: $f differs"; ok=0; }
  done
  [ "$(nosum "$1/summary.json")" = "$(nosum "$2/summary.json")" ] ||
    { echo "FAIL $3: summary.json differs"; diff <(nosum "$1/summary.json") <(nosum "$2/summary.json") | head; ok=0; }
  [ $ok = 1 ] || fail=1
}

# 1. the machine's programs = their runs alone
"$A" run -q -p tcmalloc --predictor oracle "$T/g.ast" --config glibc "$S/data/sqlite.ast" \
    --start 50ms -p llama --predictor site "$T/s.ast" -o "$T/m" 2>/dev/null | grep -v '^wrote' >"$T/m.out"
rc=$?
[ $rc = 0 ] || { echo "FAIL machine run: exit $rc"; fail=1; }
"$A" run -q -p tcmalloc --predictor oracle "$T/g.ast" -o "$T/a1" 2>/dev/null | grep -v '^wrote' >"$T/sep.out"
"$A" run -q -p glibc "$S/data/sqlite.ast" -o "$T/a2" 2>/dev/null | grep -v '^wrote' >>"$T/sep.out"
"$A" run -q -p llama --predictor site "$T/s.ast" -o "$T/a3" 2>/dev/null | grep -v '^wrote' >>"$T/sep.out"
before=$fail
same_run "$T/m/1-tcmalloc" "$T/a1" "1-tcmalloc"
same_run "$T/m/2-glibc" "$T/a2" "2-glibc"
same_run "$T/m/3-llama" "$T/a3" "3-llama"
if [ "$(grep -v '^machine:' "$T/m.out")" = "$(cat "$T/sep.out")" ]; then :; else
  echo "FAIL result lines differ"; diff <(grep -v '^machine:' "$T/m.out") "$T/sep.out"; fail=1; fi
real_rss_max_is "$T/m/3-llama/series.csv" 40 || { echo "FAIL 3-llama: real RSS not in series.csv"; fail=1; }
[ $fail = "$before" ] && echo "ok   three programs on one machine = their runs alone"
python3 - "$T/m/machine_summary.json" "$T/a1/summary.json" "$T/a2/summary.json" "$T/a3/summary.json" <<'PY' ||
import json, sys
m = json.load(open(sys.argv[1]))
alone = [json.load(open(p)) for p in sys.argv[2:]]
progs = m["programs"]
assert [p["dir"] for p in progs] == ["1-tcmalloc", "2-glibc", "3-llama"], progs
assert [p["start_ns"] for p in progs] == [0, 0, 50000000], progs
for p, a in zip(progs, alone):
    assert p["status"] == "ok" and p["events"] == a["trace"]["events"], (p, a["trace"])
    assert p["end_ns"] == p["start_ns"] + a["trace"]["duration_ns"], (p, a["trace"]["duration_ns"])
mm = m["machine"]
assert mm["programs"] == 3 and mm["peak_running"] == 3, mm
assert mm["duration_ns"] == max(p["end_ns"] for p in progs), mm
# the sum's peak is at most the sum of the peaks, at least the largest
peaks = [a["metrics"]["peak_resident_bytes"] for a in alone]
assert max(peaks) <= mm["peak_resident_bytes"] <= sum(peaks), (peaks, mm)
PY
{ echo "FAIL machine_summary.json"; fail=1; }

# 2. determinism: twice, and on one thread
"$A" run -q --threads 1 -p tcmalloc --predictor oracle "$T/g.ast" --config glibc "$S/data/sqlite.ast" \
    --start 50ms -p llama --predictor site "$T/s.ast" -o "$T/m2" >/dev/null 2>&1 || { echo "FAIL second machine run"; fail=1; }
"$A" run -q -p tcmalloc --predictor oracle "$T/g.ast" --config glibc "$S/data/sqlite.ast" \
    --start 50ms -p llama --predictor site "$T/s.ast" -o "$T/m3" >/dev/null 2>&1 || { echo "FAIL third machine run"; fail=1; }
before=$fail
for d in m2 m3; do
  cmp -s "$T/m/machine_series.csv" "$T/$d/machine_series.csv" || { echo "FAIL $d: machine_series.csv differs"; fail=1; }
  [ "$(nosum "$T/m/machine_summary.json")" = "$(nosum "$T/$d/machine_summary.json")" ] ||
    { echo "FAIL $d: machine_summary.json differs"; fail=1; }
  for p in 1-tcmalloc 2-glibc 3-llama; do same_run "$T/m/$p" "$T/$d/$p" "$d/$p"; done
done
[ $fail = "$before" ] && echo "ok   the same output twice, and with --threads 1"

# 3. the machine's figures, by hand
# tiny_trace NAME PROG: the events on stdin, behind one frame (/bin/PROG's
# main) and its stack, imported as $T/NAME.ast. @return the import's status.
tiny_trace() {
  { printf 'frame 1 0x401000 0x1000 /bin/%s main\nstack 1 1\n' "$2"; cat; } >"$T/$1.txt" &&
    "$A" import -f text "$T/$1.txt" -o "$T/$1.ast" >/dev/null
}
tiny_trace a a <<'TXT' || die "import of the tiny trace a"
a 1000000 1 0 0 1000 0 1
f 21000000 1 0 0
TXT
tiny_trace b b <<'TXT' || die "import of the tiny trace b"
a 5000000 1 0 0 3000 0 1
f 10000000 1 0 0
TXT
# machine_is DIR START_B PEAK_LIVE PEAK_RUNNING END_B DURATION ROWS: the
# machine's summary and its series (t_ns:running:live_bytes per row)
machine_is() {
  python3 - "$@" <<'PY'
import csv, json, sys
d, start, live, running, end, dur, rows = sys.argv[1:]
m = json.load(open(d + "/machine_summary.json"))
p, mm = m["programs"], m["machine"]
got = (p[0]["start_ns"], p[0]["end_ns"], p[1]["start_ns"], p[1]["end_ns"],
       mm["peak_live_bytes"], mm["peak_running"], mm["duration_ns"], mm["sample_interval_ns"])
want = (0, 20000000, int(start), int(end), int(live), int(running), int(dur), 5000000)
if got != want:
    sys.exit("summary %s, wanted %s" % (got, want))
r = [":".join((x["t_ns"], x["running"], x["live_bytes"])) for x in csv.DictReader(open(d + "/machine_series.csv"))]
if r != rows.split():
    sys.exit("series %s, wanted %s" % (r, rows.split()))
PY
}
"$A" run -q --sample-interval 5ms -p bestfit "$T/a.ast" --start 10ms -p glibc "$T/b.ast" -o "$T/t1" >/dev/null 2>&1 &&
  machine_is "$T/t1" 10000000 4000 2 15000000 20000000 \
    "0:0:0 5000000:1:1000 10000000:1:1000 15000000:2:4000 20000000:1:1000 20000000:1:0" &&
  echo "ok   B at 10 ms: both live from 10 to 15 ms" || { echo "FAIL B at 10 ms"; fail=1; }
"$A" run -q --sample-interval 5ms -p bestfit "$T/a.ast" --start 30ms -p glibc "$T/b.ast" -o "$T/t2" >/dev/null 2>&1 &&
  machine_is "$T/t2" 30000000 3000 1 35000000 35000000 \
    "0:0:0 5000000:1:1000 10000000:1:1000 15000000:1:1000 20000000:1:1000 25000000:0:0 30000000:0:0 35000000:1:3000 35000000:1:0" &&
  echo "ok   B at 30 ms: never together" || { echo "FAIL B at 30 ms"; fail=1; }

# 4. usage
check "a TRACE without a policy" 2 "TRACE .*b.ast has no --policy" -- "$A" run -p bestfit "$T/a.ast" "$T/b.ast" -o "$T/u"
check "two policies for one TRACE" 2 "has 2 --policy/--config before it" -- "$A" run -p bestfit -p glibc "$T/a.ast" "$T/b.ast" -o "$T/u"
check "policy and config for one TRACE" 2 "has 2 --policy/--config before it" -- "$A" run -p bestfit --config glibc "$T/a.ast" -p glibc "$T/b.ast" -o "$T/u"
check "two configs for one TRACE" 2 "has 2 --policy/--config" -- "$A" run --config bestfit --config glibc "$T/a.ast" --config tcmalloc "$T/b.ast" -o "$T/u"
check "a policy after the last TRACE" 2 "policy after the last TRACE .*belongs to no program" -- "$A" run -p bestfit "$T/a.ast" "$T/b.ast" -p glibc -o "$T/u"
check "a param after the last TRACE" 2 "param after the last TRACE" -- "$A" run -p bestfit "$T/a.ast" -p glibc "$T/b.ast" -P glibc.mmap_threshold=1M -o "$T/u"
check "a predictor twice" 2 "--predictor is given 2 times" -- "$A" run -p bestfit --predictor site --predictor oracle "$T/a.ast" -p glibc "$T/b.ast" -o "$T/u"
check "start twice" 2 "--start is given 2 times" -- "$A" run -p bestfit "$T/a.ast" --start 1s --start 2s -p glibc "$T/b.ast" -o "$T/u"
check "start with one TRACE" 2 "--start places a program on a machine" -- "$A" run --start 1s -p bestfit "$T/a.ast" -o "$T/u"
check "predictor-save with several" 2 "does not mix with several TRACEs" -- "$A" run --predictor-save "$T/p" -p bestfit "$T/a.ast" -p glibc "$T/b.ast" -o "$T/u"
check "standard input twice" 2 "standard input .* only once" -- "$A" run -p bestfit - -p glibc - -o "$T/u"
check "a bad start" 2 "--start" -- "$A" run -p bestfit "$T/a.ast" --start 5 -p glibc "$T/b.ast" -o "$T/u"
# one program that fails (an unknown policy) fails alone
"$A" run -q -p bestfit "$T/a.ast" -p nope "$T/b.ast" -o "$T/bad" >"$T/out" 2>"$T/err"
rc=$?
if [ $rc = 2 ] && grep -q "unknown policy 'nope'" "$T/err" && [ -s "$T/bad/1-bestfit/summary.json" ] &&
   [ ! -e "$T/bad/2-nope" ] && grep -q '"status":.*"' "$T/bad/machine_summary.json"; then
  echo "ok   a bad program fails alone"
else echo "FAIL a bad program: exit $rc"; cat "$T/err"; ls "$T/bad"; fail=1; fi
# one TRACE keeps today's meaning: the last --policy wins; options after it
check "one TRACE, two policies" 0 "^glibc: 2 events" -- "$A" run -q -p bestfit -p glibc "$T/a.ast" -o "$T/u1"
check "one TRACE, options after it" 0 "^bestfit: 2 events" -- "$A" run -q "$T/a.ast" -p bestfit -o "$T/u2"

# 5. one program's 4 KiB pages make another's huge-page fault fall back
tiny_trace fa a <<'TXT' || die "import of the fragmenting trace fa"
a 0 1 0 0 2200000 0 1
f 10000000 1 0 0
TXT
tiny_trace fb b <<'TXT' || die "import of the fragmenting trace fb"
a 0 1 0 0 102400 0 1
f 1000000 1 0 0
TXT
# faults DIR START WANT: B's start, then per program huge_faults,
# page_faults, thp_fault_fallbacks, and the machine's sum of fallbacks
faults() {
  python3 - "$@" <<'PY'
import json, sys
d = json.load(open(sys.argv[1] + "/machine_summary.json"))
got = " ".join(["%d" % d["programs"][1]["start_ns"]] +
               ["%d,%d,%d" % (p["huge_faults"], p["page_faults"], p["thp_fault_fallbacks"]) for p in d["programs"]] +
               ["%d" % d["phys"]["thp_fault_fallbacks"], ",".join(map(str, d["phys"]["free_blocks"]))])
if got != sys.argv[2]:
    sys.exit("got %s, wanted %s" % (got, sys.argv[2]))
PY
}
"$A" run -q --sample-interval 1ms -P os.phys_mem=4M -P os.thp=never -p bestfit "$T/fa.ast" \
    --start 1ms -p tcmalloc "$T/fb.ast" -o "$T/f1" >/dev/null 2>&1 &&
  faults "$T/f1" "1000000 0,538,0 0,25,1 1 0,0,0,0,0,0,0,0,0,0,1" &&
  [ "$(cut -d, -f1,2,8-11 "$T/f1/machine_series.csv" | sed -n 3,4p | tr '\n' ' ')" = \
    "1000000,1,1990656,0,1.000,0.676 2000000,2,1888256,0,1.000,0.684 " ] &&
  grep -q '"thp":.*"never"' "$T/f1/1-bestfit/summary.json" && grep -q '"thp":.*"always"' "$T/f1/2-tcmalloc/summary.json" &&
  [ "$(grep -c '"phys_mem":.*4194304' "$T"/f1/*/summary.json | grep -c ':1$')" = 2 ] &&
  echo "ok   A's 4 KiB pages make B's huge-page fault fall back" ||
  { echo "FAIL fragmentation by another program"; cat "$T/f1/machine_series.csv" 2>/dev/null | head -5; fail=1; }
"$A" run -q -P os.phys_mem=4M -P os.thp=never -p bestfit "$T/fa.ast" \
    --start 20ms -p tcmalloc "$T/fb.ast" -o "$T/f2" >/dev/null 2>&1 &&
  faults "$T/f2" "20000000 0,538,0 1,0,0 0 0,0,0,0,0,0,0,0,0,0,1" &&
  echo "ok   after A has ended, B gets its huge page" || { echo "FAIL B after A"; fail=1; }
# the same machine with tenants, twice (one thread, then the default)
for th in 1 2; do
  "$A" run -q --threads $th -P os.phys_mem=64M -P os.tenant_cache=24M -P os.tenant_unmovable=8M \
      -p tcmalloc "$S/data/sqlite.ast" --start 20ms -p glibc "$S/data/sqlite.ast" -o "$T/d$th" >/dev/null 2>&1 ||
    { echo "FAIL tenants run $th"; fail=1; }
done
before=$fail
cmp -s "$T/d1/machine_series.csv" "$T/d2/machine_series.csv" || { echo "FAIL tenants: machine_series.csv differs"; fail=1; }
[ "$(nosum "$T/d1/machine_summary.json")" = "$(nosum "$T/d2/machine_summary.json")" ] ||
  { echo "FAIL tenants: machine_summary.json differs"; fail=1; }
for p in 1-tcmalloc 2-glibc; do same_run "$T/d1/$p" "$T/d2/$p" "tenants $p"; done
grep -q '"tenant_cache_bytes":.*25165824' "$T/d1/machine_summary.json" || { echo "FAIL tenants: no page cache"; fail=1; }
[ $fail = "$before" ] && echo "ok   a machine with tenants: the same output twice"
check "machine parameters that differ" 2 "the machine has one physical memory" -- \
  "$A" run -P os.phys_mem=4M -p bestfit "$T/fa.ast" -P os.phys_mem=8M -p tcmalloc "$T/fb.ast" -o "$T/u"
check "a machine too small" 1 "physical memory exhausted" -- \
  "$A" run -q -P os.phys_mem=4M -P os.thp=never -p bestfit "$T/fa.ast" -p bestfit -P os.thp=never "$T/fa.ast" -o "$T/u3"
exit $fail
