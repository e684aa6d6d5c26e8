#!/usr/bin/env bash
# check_record_writes.sh BUILD ALLOCSIM SRC - write reports of a recorded
# program (`allocsim record --writes`, docs/recording.md "Write reports"),
# asserted range by range against the addresses record_target prints.
#
# record_target writes (tests/record_target.c) makes BIG (1 MiB) and MID
# (64 KiB) as glibc mmap chunks (address = page + 16: the chunk header, in
# the first page, is written by glibc), REC (32 KiB on the heap, written
# whole, freed) and CAL (calloc of 32 KiB: REC's block again); it writes
# one byte in page k (of the mapping) of BIG for k = 0, 5, 100, of MID for
# k = 3, sleeps 100 ms (ten scan periods), writes BIG's page 200 and frees
# everything. Page k of an object at p is, object-relative,
# [k * 4096 - (p % 4096), (k + 1) * 4096 - (p % 4096)) clipped to
# [0, size). So, exactly: BIG's reports are the pages {0, 5, 100} (a
# periodic scan during the sleep) and {0, 5, 100, 200} (just before its
# free); MID's every report is {0, 3}; REC's and CAL's are [0, 32768) (CAL's
# first right after its calloc); the 64-byte guard has none.
#
# Then: --writes off (no reports, no metadata), --writes-min above BIG,
# --writes-interval 0 (reports only at free: one per object), a program
# killed by SIGTERM (the exit scan reports its live block; `allocsim run`
# replays the trace), and --follow-forks (the child's own block in the
# child's trace). Skipped (77) when the recorder is not built.
set -euo pipefail
. "$(dirname "$0")/checklib.sh"
target=$B/traces/record/record_target
skip_unless_recorder "$target"

# rec NAME MODE [OPTIONS...]: record MODE into $T/NAME.ast, its output in
# $T/NAME.out and the trace's text in $T/NAME.txt
rec() {
  local name=$1 mode=$2
  shift 2
  "$A" record -q "$@" -o "$T/$name.ast" -- "$target" "$mode" >"$T/$name.out" ||
    die "record $mode $*: exit $?"
  "$A" cat "$T/$name.ast" >"$T/$name.txt" || die "cat $name: exit $?"
}

# The checker: the trace's text, the program's output, what to assert.
cat >"$T/check.py" <<'PY'
import sys
txt, out, what = sys.argv[1], sys.argv[2], sys.argv[3]
meta, allocs, frees, reports = {}, {}, {}, {}
order = []  # ("a"|"f"|"w", id, ...) in file order
for line in open(txt):
    f = line.split()
    if f[0] == "meta":
        meta[f[1]] = f[2] if len(f) > 2 else ""
    elif f[0] == "a":
        allocs[int(f[4])] = int(f[5])
        order.append(("a", int(f[4])))
    elif f[0] == "f":
        order.append(("f", int(f[4])))
    elif f[0] == "w":
        t, o, off, n = map(int, f[1:5])
        order.append(("w", o, t, off, n))
words = open(out).read().split()

def page_range(p, size, k):
    lo = max(0, k * 4096 - p % 4096)
    hi = min(size, (k + 1) * 4096 - p % 4096)
    return (lo, hi)

def pages(p, size, ks):
    return sorted(page_range(p, size, k) for k in ks)

def reports_of(o):
    """each report: the ranges of the consecutive w lines of one time"""
    rs, cur, cur_t = [], None, None
    for e in order:
        if e[0] == "w" and e[1] == o:
            if cur is None or e[2] != cur_t:
                cur = []
                rs.append(cur)
                cur_t = e[2]
            cur.append((e[3], e[3] + e[4]))
        else:
            cur, cur_t = None, None
    return [sorted(r) for r in rs]

def merged(r):
    out = []
    for lo, hi in sorted(r):
        if out and lo <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out

def live_check():
    live = set()
    for e in order:
        if e[0] == "a":
            live.add(e[1])
        elif e[0] == "f":
            live.discard(e[1])
        else:
            assert e[1] in live, f"write for object {e[1]} while not live"
            assert e[4] > 0 and e[3] + e[4] <= allocs[e[1]], f"range {e}"

def ids(size):
    return [o for o, s in allocs.items() if s == size]

nw = sum(1 for e in order if e[0] == "w")
if what == "full":
    assert words[0] == "writes", words
    big, mid, recp, cal = map(int, words[1:5])
    assert big % 4096 == 16 and mid % 4096 == 16, \
        f"BIG {big:#x} / MID {mid:#x} are not glibc mmap chunks"
    assert cal == recp, "calloc did not get REC's block back"
    assert meta.get("record.writes") == "pagemap", meta.get("record.writes")
    assert meta.get("record.writes_min_bytes") == "8192"
    assert meta.get("record.writes_reports") == str(nw), (nw, meta)
    assert meta.get("record.writes_dropped") == "0"
    live_check()
    (b,), (m,), (g,) = ids(1 << 20), ids(64 << 10), ids(64)
    r_id, c_id = sorted(ids(32 << 10))
    rb = reports_of(b)
    want_all = merged(pages(big, 1 << 20, [0, 5, 100, 200]))
    want_sleep = merged(pages(big, 1 << 20, [0, 5, 100]))
    assert all(set(merged(r)) <= set(want_all) for r in rb), rb
    assert want_sleep in [merged(r) for r in rb], f"no scan in the sleep: {rb}"
    assert merged(rb[-1]) == want_all, f"BIG at free {rb[-1]}"
    i_free = order.index(("f", b))
    assert order[i_free - 1][:2] == ("w", b), "BIG's last report is not its free's"
    rm = reports_of(m)
    assert len(rm) >= 2 and all(merged(r) == pages(mid, 64 << 10, [0, 3])
                                for r in rm), rm
    for o in (r_id, c_id):
        ro = reports_of(o)
        assert ro and all(r == [(0, 32768)] for r in ro), (o, ro)
    first_after = order[order.index(("a", c_id)) + 1]
    assert first_after == ("w", c_id, first_after[2], 0, 32768), first_after
    assert not reports_of(g), "the 64-byte guard has reports"
    print(f"ok   {nw} write records: BIG {len(rb)} reports, MID {len(rm)}")
elif what == "off":
    assert nw == 0 and "record.writes" not in meta and \
        "record.writes_min_bytes" not in meta, (nw, meta)
    print("ok   --writes off: no reports, no metadata")
elif what == "min2m":
    assert nw == 0 and meta.get("record.writes_min_bytes") == "2097152"
    print("ok   --writes-min 2M: no object that large, no reports")
elif what == "nointerval":
    big, mid = map(int, words[1:3])
    live_check()
    (b,), (m,) = ids(1 << 20), ids(64 << 10)
    assert reports_of(b) == [pages(big, 1 << 20, [0, 5, 100, 200])] or \
        [merged(r) for r in reports_of(b)] == \
        [merged(pages(big, 1 << 20, [0, 5, 100, 200]))], reports_of(b)
    assert [merged(r) for r in reports_of(m)] == \
        [pages(mid, 64 << 10, [0, 3])], reports_of(m)
    print("ok   --writes-interval 0: one report per object, at its free")
elif what == "hold":
    hold = int(words[2])
    live_check()
    (h,) = ids(1 << 20)
    rh = reports_of(h)
    want = merged(pages(hold, 1 << 20, [0, 7]))
    assert rh and all(merged(r) == want for r in rh), (rh, want)
    assert meta.get("record.end") == "signal%2015" or \
        meta.get("record.end") == "signal 15", meta.get("record.end")
    print(f"ok   killed by SIGTERM: {len(rh)} reports of the live block")
elif what == "child":
    child = int(words[1])
    live_check()
    (c,) = ids(256 << 10)
    rc = reports_of(c)
    assert rc and all(merged(r) == merged(pages(child, 256 << 10, [0, 2]))
                      for r in rc), rc
    assert meta.get("record.writes") == "pagemap"
    print(f"ok   --follow-forks: the child's block, {len(rc)} reports")
elif what == "parent":
    parent = int(words[-1])
    (p,) = ids(1 << 20)
    rp = reports_of(p)
    assert rp and all(merged(r) == merged(pages(parent, 1 << 20, [0, 1]))
                      for r in rp), rp
    assert not ids(256 << 10), "the child's block in the parent's trace"
    print(f"ok   --follow-forks: the parent's block, {len(rp)} reports")
PY

rec full writes
python3 "$T/check.py" "$T/full.txt" "$T/full.out" full || die "write reports"
"$A" run -q -p tcmalloc "$T/full.ast" -o "$T/run" >/dev/null 2>"$T/err" ||
  die "run of the recorded trace: exit $? $(cat "$T/err")"
# the replay applies every report (os.writes=auto: recorded)
python3 - "$T/full.txt" "$T/run/summary.json" <<'PY' || die "replay of the reports"
import json, sys
w = [list(map(int, l.split()[1:5])) for l in open(sys.argv[1]) if l.startswith("w ")]
s = json.load(open(sys.argv[2]))
got = s["os"]["writes"]
assert got["mode"] == "recorded" and got["min_bytes"] == 8192, got
assert got["reports"] == len(w), (got, len(w))
assert got["reported_bytes"] == sum(x[3] for x in w), got
PY
ok "allocsim run replays the trace, every report applied"

rec off writes --writes off
python3 "$T/check.py" "$T/off.txt" "$T/off.out" off || die "--writes off"
rec min2m writes --writes-min 2M
python3 "$T/check.py" "$T/min2m.txt" "$T/min2m.out" min2m || die "--writes-min"
rec noint writes --writes-interval 0
python3 "$T/check.py" "$T/noint.txt" "$T/noint.out" nointerval ||
  die "--writes-interval 0"

# killed by SIGTERM while its block is live
mkfifo "$T/fifo"
"$A" record -q -o "$T/hold.ast" -- "$target" writes-hold >"$T/fifo" 2>"$T/err" &
recpid=$!
exec 3<"$T/fifo"
read -r word pid hold <&3
[[ $word == ready ]] || die "expected 'ready PID ADDR', got '$word $pid'"
sleep 0.1
kill -TERM "$pid"
set +e
wait "$recpid"
rc=$?
set -e
exec 3<&-
[[ $rc == 143 ]] || die "writes-hold: exit $rc, wanted 143: $(cat "$T/err")"
echo "ready $pid $hold" >"$T/hold.out"
"$A" cat "$T/hold.ast" >"$T/hold.txt" || die "cat of the killed trace"
python3 "$T/check.py" "$T/hold.txt" "$T/hold.out" hold || die "killed"
"$A" run -q -p glibc "$T/hold.ast" -o "$T/run2" >/dev/null 2>"$T/err" ||
  die "run of the killed trace: exit $? $(cat "$T/err")"
ok "allocsim run replays the killed trace"

# --follow-forks: each process reports its own blocks
"$A" record -q --follow-forks -o "$T/fk.ast" -- "$target" writes-fork \
  >"$T/fk.out" || die "record --follow-forks: exit $?"
[[ -f $T/fk.fork1.ast ]] || die "no fork trace"
"$A" cat "$T/fk.ast" >"$T/fk.txt"
"$A" cat "$T/fk.fork1.ast" >"$T/fk1.txt"
grep '^child ' "$T/fk.out" >"$T/child.out" || die "no child line"
grep '^parent ' "$T/fk.out" >"$T/parent.out" || die "no parent line"
python3 "$T/check.py" "$T/fk1.txt" "$T/child.out" child || die "child"
python3 "$T/check.py" "$T/fk.txt" "$T/parent.out" parent || die "parent"
exit $fail
