#!/usr/bin/env bash
# check_run_writes.sh BUILD ALLOCSIM SRC - `allocsim run` on a trace with
# write reports (os.writes; docs/simos.md, "Written pages") from the
# command line. The engine's figures are asserted exactly in
# tests/unit/test_sim_engine.c ("write reports: ..."); here:
#   - by default (auto) a trace whose header says record.writes=pagemap
#     replays its reports: summary.json has os.params.writes "auto" and
#     os.writes {mode recorded, min_bytes 8192, reports 2, reported_bytes
#     12288}, and a lower peak resident than --param os.writes=alloc
#     (which writes the 1 MiB object whole and has no os.writes block);
#   - run --config (both modes in one pass) and run -p (two programs on one
#     machine) write the same summaries as the runs alone;
#   - a report on a freed object exits 2 naming the file and the record;
#   - os.writes=recorded on a trace without reports (data/sqlite.ast)
#     exits 2; os.writes=bogus exits 2 naming the choices.
set -uo pipefail
. "$(dirname "$0")/checklib.sh"
cat >"$T/w.txt" <<'TXT'
meta record.writes pagemap
meta record.writes_min_bytes 8192
a 0 0 0 0 1048576 0 0
a 1000 0 0 1 100 0 0
w 10000 0 0 8192
w 20000 0 524288 4096
f 25000 0 0 1
f 30000 0 0 0
TXT
"$A" import -f text "$T/w.txt" -o "$T/w.ast" >/dev/null || die "import"
for m in auto alloc; do
  "$A" run -q -p glibc --param os.thp=never --param "os.writes=$m" \
    "$T/w.ast" -o "$T/$m" >/dev/null 2>"$T/$m.err" ||
    die "run os.writes=$m: $(cat "$T/$m.err")"
done
get() { # DIR PATH...: the summary's value at the path, or "absent"
  python3 -c '
import json, sys
d = json.load(open(sys.argv[1] + "/summary.json"))
for k in sys.argv[2:]:
    if not isinstance(d, dict) or k not in d:
        print("absent"); sys.exit()
    d = d[k]
print(json.dumps(d, sort_keys=True))' "$@"
}
want='{"min_bytes": 8192, "mode": "recorded", "reported_bytes": 12288, "reports": 2}'
[[ $(get "$T/auto" os writes) == "$want" ]] && ok "auto replays the reports" ||
  bad "os.writes block: $(get "$T/auto" os writes)"
[[ $(get "$T/auto" os params writes) == '"auto"' ]] && ok "os.params.writes" ||
  bad "os.params.writes: $(get "$T/auto" os params writes)"
[[ $(get "$T/alloc" os writes) == absent ]] && ok "alloc: no os.writes block" ||
  bad "alloc has os.writes"
pa=$(get "$T/auto" metrics peak_resident_bytes)
pw=$(get "$T/alloc" metrics peak_resident_bytes)
((pa < 65536 && pw >= 1048576)) && ok "peak resident: recorded $pa, alloc $pw" ||
  bad "peak resident: recorded $pa, alloc $pw"

# several configurations in one pass, and two programs on one machine
"$A" run -q --param os.thp=never --config 'glibc,os.writes=auto' \
  --config 'glibc,os.writes=alloc' "$T/w.ast" -o "$T/cfg" >/dev/null \
  2>"$T/cfg.err" || bad "run --config: $(cat "$T/cfg.err")"
for m in auto alloc; do
  [[ $(nosum "$T/cfg/glibc,os.writes=$m/summary.json") == "$(nosum "$T/$m/summary.json")" ]] &&
    ok "--config $m: same summary" || bad "--config $m: summary differs"
done
"$A" run -q --param os.thp=never -p glibc "$T/w.ast" -p glibc \
  --param os.writes=alloc "$T/w.ast" -o "$T/mach" >/dev/null 2>"$T/m.err" ||
  bad "run -p: $(cat "$T/m.err")"
k=1
for m in auto alloc; do
  d=$(ls -d "$T/mach/$k-"* 2>/dev/null | head -1)
  [[ -n $d && $(get "$d" metrics peak_resident_bytes) == "$(get "$T/$m" metrics peak_resident_bytes)" &&
    $(get "$d" os writes) == "$(get "$T/$m" os writes)" ]] &&
    ok "run -p program $k ($m): same figures" ||
    bad "run -p program $k ($m): $d: $(ls "$T/mach")"
  k=$((k + 1))
done

# a report on a freed object
sed 's/^f 25000 0 0 1$/f 5000 0 0 0\nw 6000 0 0 4096\nf 25000 0 0 1/; /^w 10000/d; /^w 20000/d; /^f 30000/d' \
  "$T/w.txt" >"$T/bad.txt"
"$A" import -f text "$T/bad.txt" -o "$T/bad.ast" >/dev/null || die "import bad"
check "report on a freed object" 2 \
  "^allocsim run: .*/bad.ast: write record 0 \(before event 3\): object 0 is not live$" \
  -- "$A" run -q -p glibc "$T/bad.ast" -o "$T/badrun"
check "recorded without reports" 2 \
  "sqlite.ast: os.writes=recorded, but the trace has no write reports" \
  -- "$A" run -q -p glibc --param os.writes=recorded "$S/data/sqlite.ast" -o "$T/r2"
check "bad mode" 2 "os.writes must be one of auto, alloc, recorded" \
  -- "$A" run -q -p glibc --param os.writes=bogus "$T/w.ast" -o "$T/r3"
exit $fail
