#!/usr/bin/env bash
# check_hostile_engine: `allocsim run` on hostile and careless input, as the
# reproducers of the hostile-input issue found it: times at the end of
# 64-bit time, traces too sparse to simulate, malformed events, unbounded
# sampling and OS parameters, truncated traces, and run directories that
# must be replaced whole or not at all. Each case asserts the exit status,
# the message, and that no earlier file changed.
# Arguments: BUILD_DIR ALLOCSIM SOURCE_DIR
set -u
CHECK_TIMEOUT=120 # every check: a hang is a failure
. "$(dirname "$0")/checklib.sh"
text() { # text NAME LINES... : import a text trace to $T/NAME.ast
    local n=$1
    shift
    printf '%s\n' "meta program $n" "$@" >"$T/$n.txt"
    "$A" import --format text "$T/$n.txt" -o "$T/$n.ast" >/dev/null ||
        { bad "import $n"; return 1; }
}
json() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }
policies=$("$A" run --help | awk '/^policies/{p=1;next} /^predictors/{p=0} p && /^  [a-z]/ {print $1}')
[ -n "$policies" ] || { echo "FAIL no policies listed"; exit 1; }

# --- time at the end of uint64 (repro 03): no hang, for every policy.
# a 64 B object at 2^64-1; a second pair 5 ms before it.
text end "a 18446744073709551615 0 0 0 64 0 0"
text near "a 18446744073704551615 0 0 0 64 0 0" "a 18446744073709551615 0 0 1 64 0 0" \
    "f 18446744073709551615 0 0 0"
for p in $policies; do
    check "t=2^64-1, $p" 0 "1 events" -- "$A" run -q -p "$p" "$T/end.ast" -o "$T/end-$p"
    check "5 ms before 2^64-1, $p" 0 "3 events" -- "$A" run -q -p "$p" "$T/near.ast" -o "$T/near-$p"
done
# 1000 samples every 5 us plus the final one (the one due at 2^64-1 is off)
n=$(grep -vc '^t_ns' "$T/near-llama/series.csv")
[ "$n" = 1001 ] && ok "samples stop at the end of time (1001 rows)" || bad "near: $n rows, wanted 1001"

# A trace of 2 events 10^19 ns apart: refused with the rule, no run dir.
text sparse "a 0 0 0 0 64 0 0" "a 10000000000000000000 0 0 1 64 0 0"
for p in bestfit llama; do
    check "sparse trace refused, $p" 2 "needs more than 33554560 timer firings .* for 2 events" -- \
        "$A" run -q -p "$p" "$T/sparse.ast" -o "$T/sparse-$p"
    [ ! -e "$T/sparse-$p" ] && ok "no run dir after refusal, $p" || bad "sparse-$p exists"
done
check "sparse, llama ticks counted" 2 "timer firings" -- \
    "$A" run -q -p llama --thp never "$T/sparse.ast" -o "$T/sparse-ll"

# --- malformed events (repro 17): one treatment across all policies.
text a3 "a 10 0 0 0 64 3 0" "f 20 0 0 0"
for p in $policies; do
    check "alignment 3 refused, $p" 2 "a3.ast: event 0: alignment 3 is not a power of two" -- \
        "$A" run -q -p "$p" "$T/a3.ast" -o "$T/a3-$p"
    check "alignment 3 refused, --no-check $p" 2 "event 0: alignment 3" -- \
        "$A" run -q --no-check -p "$p" "$T/a3.ast" -o "$T/a3-$p"
    check "alignment 3 skipped, $p" 0 "" -- \
        "$A" run -q --skip-bad-events -p "$p" "$T/a3.ast" -o "$T/a3-$p"
    w=$(json "$T/a3-$p/summary.json" "d['warnings']['bad_events_skipped'], d['warnings']['double_free'], d['warnings']['policy_errors']")
    [ "$w" = "1 0 0" ] && ok "skipped and counted, $p" || bad "a3 $p warnings: $w"
done
text agiant "a 10 0 0 0 64 2147483648 0"
check "alignment 2 GiB refused" 2 "alignment 2147483648 is above 1 GiB" -- \
    "$A" run -q -p llama "$T/agiant.ast" -o "$T/agiant"
# a request above 1 TiB fails as malloc would: counted, not fatal
text huge "a 10 0 0 0 1099511627777 0 0" "f 20 0 0 0"
for p in $policies; do
    check "1 TiB + 1 request, $p" 0 "" -- "$A" run -q -p "$p" "$T/huge.ast" -o "$T/huge-$p"
    w=$(json "$T/huge-$p/summary.json" "d['warnings']['too_large'], d['metrics']['peak_mapped_bytes']")
    [ "$w" = "1 0" ] && ok "too_large counted, nothing mapped, $p" || bad "huge $p: $w"
done

# --- unbounded sampling and OS parameters (repro 09).
"$A" gen server-mix --events 200000 -o "$T/t.ast" >/dev/null || { bad "gen"; exit 1; }
check "--sample-interval 1ns refused" 2 "sample-interval.*1ns" -- \
    "$A" run -q -p bestfit --sample-interval 1ns "$T/t.ast" -o "$T/si"
check "row cap refuses 1us sampling" 2 "takes [0-9]+ rows, more than the row cap of 1000000" -- \
    "$A" run -q -p bestfit --sample-interval 1us "$T/t.ast" -o "$T/si"
[ ! -e "$T/si" ] && ok "nothing written over the cap" || bad "si exists"
check "--max-rows lowers the cap" 2 "row cap of 100;" -- \
    "$A" run -q -p bestfit --sample-interval 10ms --max-rows 100 "$T/t.ast" -o "$T/si"
check "10ms sampling under the default cap" 0 "" -- \
    "$A" run -q -p bestfit --sample-interval 10ms "$T/t.ast" -o "$T/si"
dur=$(json "$T/si/summary.json" "d['trace']['duration_ns']")
rows=$(grep -vc '^t_ns' "$T/si/series.csv")
[ "$rows" = $((dur / 10000000 + 2)) ] && ok "rows = span/interval + 2 ($rows)" || bad "rows $rows for span $dur"
check "os.scan_interval=1 refused" 2 "os.scan_interval=1': os.scan_interval must be a duration with a unit .* from 1ms to 1000000s" -- \
    "$A" run -q -p bestfit -P os.scan_interval=1 "$T/t.ast" -o "$T/os"
check "os.scan_regions=1e9 refused" 2 "os.scan_regions=1000000000': os.scan_regions must be a whole number .* from 1 to 67108864" -- \
    "$A" run -q -p bestfit -P os.scan_regions=1000000000 "$T/t.ast" -o "$T/os"

# --- truncated traces (repro 13): exit 3 unless --allow-truncated; marked.
sz=$(stat -c %s "$T/t.ast")
head -c $((sz / 2)) "$T/t.ast" >"$T/cut.ast"
head -c 419 "$T/t.ast" >"$T/hdr.ast"
check "truncated trace: exit 3" 3 "truncated trace.*exit status 3 unless --allow-truncated" -- \
    "$A" run -q -p tcmalloc "$T/cut.ast" -o "$T/cut"
[ "$(json "$T/cut/summary.json" "d['trace']['truncated']")" = True ] && ok "summary marks truncation" ||
    bad "summary lacks truncated"
head -1 "$T/cut/series.csv" | grep -q '^# truncated trace: ' && ok "series.csv marked in its first line" ||
    bad "series.csv not marked: $(head -1 "$T/cut/series.csv")"
check "truncated trace, --allow-truncated" 0 "warning: .*truncated" -- \
    "$A" run -q -p tcmalloc --allow-truncated "$T/cut.ast" -o "$T/cut2"
check "header-only trace: exit 3" 3 "0 whole chunks" -- "$A" run -q -p tcmalloc "$T/hdr.ast" -o "$T/hdr"
[ "$(json "$T/hdr/summary.json" "d['trace']['events']")" = 0 ] && ok "header-only: 0 events" || bad "hdr events"
check "whole trace: exit 0, not marked" 0 "" -- "$A" run -q -p tcmalloc "$T/t.ast" -o "$T/whole"
head -1 "$T/whole/series.csv" | grep -q '^t_ns,' && ok "whole trace: series.csv starts with its header" ||
    bad "whole series.csv first line"

# --- run directories written whole (repro 14).
snap() { (cd "$1" && find . -type f -exec md5sum {} + | sort) >"$2"; }
"$A" run -q -p bestfit "$T/t.ast" -o "$T/keep" >/dev/null || bad "run keep"
snap "$T/keep" "$T/keep.before"
# a run that fails writing series.csv (file size limit) leaves the old run
(ulimit -f 100; trap '' XFSZ; "$A" run -q -p tcmalloc --sample-interval 1ms "$T/t.ast" -o "$T/keep") \
    >/dev/null 2>"$T/err"
rc=$?
[ "$rc" = 1 ] && ok "write failure: exit 1" || { bad "write failure exit $rc"; cat "$T/err"; }
snap "$T/keep" "$T/keep.after"
cmp -s "$T/keep.before" "$T/keep.after" && ok "write failure: earlier run dir untouched" ||
    bad "earlier run dir changed"
# a failing run (bad input) leaves it too
python3 -c "
import sys; d = bytearray(open(sys.argv[1], 'rb').read()); d[len(d) // 2] ^= 0x10
open(sys.argv[2], 'wb').write(d)" "$T/t.ast" "$T/flip.ast"
check "bit flip over a run dir" 2 "flip.ast: offset" -- "$A" run -q -p llama "$T/flip.ast" -o "$T/keep"
snap "$T/keep" "$T/keep.after"
cmp -s "$T/keep.before" "$T/keep.after" && ok "bad input: earlier run dir untouched" || bad "changed by bit flip"
# a run killed at any moment leaves either the earlier run or the whole new
# one, never a mix (whichever moment the kill lands)
"$A" run -q -p tcmalloc --sample-interval 1ms "$T/t.ast" -o "$T/keep" >/dev/null 2>&1 &
pid=$!
sleep 0.3
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
snap "$T/keep" "$T/keep.after"
if cmp -s "$T/keep.before" "$T/keep.after"; then
    ok "killed run: earlier run dir untouched"
elif [ "$(json "$T/keep/summary.json" "d['policy']['name']")" = tcmalloc ] &&
    [ "$(ls "$T/keep" | tr '\n' ' ')" = "confusion.csv histograms.csv policy_series.csv series.csv summary.json " ]; then
    ok "killed run: finished before the kill, whole new run in place"
else
    bad "killed run left a mix: $(ls -l "$T/keep")"
fi
rm -rf "$T"/keep.allocsim-*
"$A" run -q -p bestfit "$T/t.ast" -o "$T/keep" >/dev/null || bad "run keep again"
snap "$T/keep" "$T/keep.before"
# a good run replaces it as a whole
check "replace an earlier run dir" 0 "" -- "$A" run -q -p hoard "$T/t.ast" -o "$T/keep"
[ "$(json "$T/keep/summary.json" "d['policy']['name']")" = hoard ] && ok "replaced by the new run" ||
    bad "not replaced"
ls "$T" | grep -q 'allocsim-' && bad "temporary directories left: $(ls "$T" | grep allocsim-)" ||
    ok "no temporary directory left beside"
# never remove an unrelated directory, a file, or through a symlink
mkdir "$T/mine" && echo notes >"$T/mine/notes.txt"
check "unrelated directory refused" 2 "mine: is not an earlier run directory .*notes.txt" -- \
    "$A" run -q -p bestfit "$T/t.ast" -o "$T/mine"
[ "$(cat "$T/mine/notes.txt")" = notes ] && [ "$(ls "$T/mine")" = notes.txt ] && ok "unrelated directory untouched" ||
    bad "mine changed"
cp -r "$T/whole" "$T/mixed" && echo plot >"$T/mixed/plot.png"
check "run dir with a foreign file refused" 2 "holds 'plot.png'" -- \
    "$A" run -q -p bestfit "$T/t.ast" -o "$T/mixed"
echo data >"$T/afile"
check "a file as -o refused" 2 "afile: exists and is not a directory" -- \
    "$A" run -q -p bestfit "$T/t.ast" -o "$T/afile"
[ "$(cat "$T/afile")" = data ] && ok "file untouched" || bad "afile changed"
ln -s "$T/whole" "$T/link"
check "a symlink as -o refused" 2 "link: is a symbolic link" -- \
    "$A" run -q -p bestfit "$T/t.ast" -o "$T/link"
mkdir "$T/empty"
check "an empty directory is used" 0 "" -- "$A" run -q -p bestfit "$T/t.ast" -o "$T/empty"
[ -s "$T/empty/summary.json" ] && ok "empty directory filled" || bad "empty not filled"
exit $fail
