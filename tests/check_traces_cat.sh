#!/usr/bin/env bash
# check_traces_cat.sh - `allocsim cat` decodes a span of events at a time
# (on a thread of its own when there are two CPUs) and formats them in one
# loop; this checks what that must not change. A chunk whose second event
# is bad (its time past the chunk header's last) still prints the first
# event, computed by hand, before the error (exit 2), as one record at a
# time did: a span that meets an error is read again record by record.
# Events of every kind and width (realloc, stack heights, 64-bit times and
# sizes, definitions between events, samples) survive text -> trace ->
# text byte for byte, across several spans.
# Args: build dir, allocsim binary, source dir.
set -u
CHECK_TMP_IN_BUILD=1
. "$(dirname "$0")/checklib.sh"

# One v3 chunk (docs/trace-format.md, "Version 3"): time code 0 (deltas),
# columns time (base 0, width 1), thread, cpu, back (width 0), size (base
# 8, width 1), align, stack, height (width 0); tags 01 01; time deltas
# 0, 3 from the header's first t (5); sizes 8+0, 8+1. The header says t = 5..7, so the second event (t = 8)
# is bad. No footer: the file is read by scanning.
python3 - "$T/bad.raw" <<'PY'
import sys
raw = bytes([0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08, 0x01,
             0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x01, 0x01,
             0x00, 0x03, 0x00, 0x01])
open(sys.argv[1], "wb").write(raw)
PY
zstd -q -f "$T/bad.raw" -o "$T/bad.zst" || die "zstd"
python3 - "$T/bad.raw" "$T/bad.zst" "$T/bad.ast" <<'PY'
import struct, sys
def fnv(b):
    h = 2166136261
    for c in b:
        h = ((h ^ c) * 16777619) & 0xffffffff
    return h
raw = open(sys.argv[1], "rb").read()
z = open(sys.argv[2], "rb").read()
head = b"ASTRACE\0" + struct.pack("<IIII", 3, 0, 4, 0)
head += struct.pack("<I", fnv(head))
ch = struct.pack("<IIIIIQQQ", 0x4b484341, len(z), len(raw), 2, 2, 0, 5, 7)
ch += struct.pack("<I", fnv(ch))
open(sys.argv[3], "wb").write(head + ch + z)
PY
"$A" cat "$T/bad.ast" > "$T/out" 2> "$T/err"
rc=$?
[ $rc = 2 ] || die "bad chunk: exit $rc, wanted 2"
printf 'a 5 0 0 0 8 0 0\n' | cmp -s - "$T/out" ||
  die "bad chunk: stdout is not the first event: $(cat "$T/out")"
grep -q "chunk 0, record 1: expected a time in \[5, 7\]" "$T/err" ||
  die "bad chunk: message: $(cat "$T/err")"
echo "ok   a bad second event: the first printed, then the error"

# Round trip through more than one span (4096 events) with definitions
# and samples between events.
python3 - "$T/many.txt" <<'PY'
import sys
out = ["meta program check_traces_cat", "frame 1 0x1000 0x10 /bin/x f",
       "stack 1 1"]
t, nid, live = 18446744073709551000 - 20000, 0, []
for i in range(10000):
    t += i % 3
    if i % 997 == 5:
        k = i // 997 + 2
        out.append("frame %d 0x%x 0x0 - sym%%20%d" % (k, 0x2000 + i, i))
        out.append("stack %d %d 1" % (k, k))
    if i % 1500 == 7:
        out.append("s %d %d -" % (t, 4096 * i))
    stk = 1 + (i // 997 if i >= 5 else 0)
    if live and i % 4 == 1:
        out.append("f %d %d %d %d" % (t, i % 5, i % 2, live.pop(0)))
    elif live and i % 9 == 2:
        old = live.pop()
        out.append("r %d %d %d %d %d %d 0 %d %d" % (t, i % 5, 3, old, nid,
                   (1 << 63) + i, stk, 1 + i % 3 * 4096))
        live.append(nid); nid += 1
    else:
        h = " %d" % (64 * i) if i % 2 else ""
        out.append("a %d %d %d %d %d %d %d%s" % (t, 4294967295 if i == 8 else i % 5,
                   i % 2, nid, i * 7, 4096 if i % 11 == 0 else 0, stk, h))
        live.append(nid); nid += 1
open(sys.argv[1], "w").write("\n".join(out) + "\n")
PY
"$A" import --format text "$T/many.txt" -o "$T/many.ast" || die "import exit $?"
"$A" cat "$T/many.ast" > "$T/back.txt" || die "cat exit $?"
cmp -s "$T/many.txt" "$T/back.txt" || {
  diff "$T/many.txt" "$T/back.txt" | head -5; die "text -> trace -> text differs"; }
echo "ok   10,000 records with definitions and samples: text -> trace -> text identical"
