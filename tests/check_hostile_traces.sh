#!/usr/bin/env bash
# check_hostile_traces.sh - the trace reader against mutated traces (issue
# 16), through `allocsim cat`, `info` and `run`: truncations at every chunk
# boundary and inside chunks, headers, index and trailer; bit flips; a chunk
# duplicated, two chunks swapped, a chunk spliced in from another trace;
# footers that point wrong (with their checksums recomputed, so only the
# layout checks can catch them). Every mutant must give either
#   - a clean error: exit 2 and "allocsim cat: FILE: offset N: expected ...",
#     and `run` into a directory of earlier results leaves it byte for byte
#     as it was; or
#   - a documented truncated replay (docs/trace-format.md): exit 0, a
#     "truncated" warning on stderr, and exactly the records of the whole
#     chunks before the damage (a prefix of the intact trace's text form);
# never a different or reordered record. Args: build dir, allocsim, source.
set -u
CHECK_TMP_IN_BUILD=1
. "$(dirname "$0")/checklib.sh"

# Two traces of 2000 events in chunks of 300 (7 chunks each), from
# different seeds: the second one donates chunks for splicing.
for s in 1 2; do
  "$A" gen server-mix --events 2000 --seed $s -o "$T/g$s.ast" || die "gen $s"
  "$A" cat "$T/g$s.ast" > "$T/g$s.txt" || die "cat $s"
  "$A" import --format text "$T/g$s.txt" --chunk-events 300 -o "$T/t$s.ast" \
    || die "import $s"
done
"$A" cat "$T/t1.ast" > "$T/full.txt" || die "cat t1"
# earlier results that a failed run must not touch
mkdir "$T/prev"
"$A" run --policy bestfit -q "$T/t1.ast" -o "$T/prev" > /dev/null || die "run t1"

python3 - "$A" "$T" <<'PY' || exit 1
import os, random, re, struct, subprocess, sys, hashlib

A, T = sys.argv[1], sys.argv[2]
def fnv32(b):
    h = 2166136261
    for x in b:
        h = ((h ^ x) * 16777619) & 0xffffffff
    return h

def layout(data):
    """(data_start, [(offset, bytes, events, allocs, first_object, t0, t1)],
    index_offset)"""
    meta = struct.unpack_from("<I", data, 16)[0]
    off, chunks = 24 + meta, []
    start = off
    while struct.unpack_from("<I", data, off)[0] == 0x4b484341:
        comp, raw, ev, al, fo, t0, t1 = struct.unpack_from("<IIIIQQQ", data, off + 4)
        chunks.append((off, 48 + comp, ev, al, fo, t0, t1))
        off += 48 + comp
    return start, chunks, off

def footer(start, chunks):
    """A correct footer (index + trailer) for chunks laid out from start."""
    idx = struct.pack("<II", 0x58444941, len(chunks))
    off = start
    for (_, nb, ev, al, fo, t0, t1), body in chunks:
        idx += struct.pack("<QQQQQQQ", off, nb, ev, fo, t0, t1, al)
        off += nb
    idx += struct.pack("<I", fnv32(idx))
    tr = struct.pack("<QI", off, len(idx))
    tr += struct.pack("<I", fnv32(tr)) + b"ASTREND\0"
    return idx + tr

full = open(os.path.join(T, "full.txt"), "rb").read().split(b"\n")[:-1]
t1 = open(os.path.join(T, "t1.ast"), "rb").read()
t2 = open(os.path.join(T, "t2.ast"), "rb").read()
start, ch, ioff = layout(t1)
start2, ch2, _ = layout(t2)
assert len(ch) == 7 and len(ch2) == 7, (len(ch), len(ch2))
body = lambda d, c: d[c[0]:c[0] + c[1]]
prev = {f: hashlib.sha1(open(os.path.join(T, "prev", f), "rb").read()).hexdigest()
        for f in sorted(os.listdir(os.path.join(T, "prev")))}
counts = {"error": 0, "truncated": 0}
runs = 0

def check(name, data, expect, whole=None):
    """expect: 'error', 'truncated' (whole = chunks replayed), or 'either'
    (bit flips: an error, or a replay that is a prefix of the intact one)."""
    global runs
    path = os.path.join(T, "m.ast")
    open(path, "wb").write(data)
    p = subprocess.run([A, "cat", path], capture_output=True)
    out = p.stdout.split(b"\n")[:-1]
    err = p.stderr.decode("utf-8", "replace")
    what = f"{name}: exit {p.returncode}, stderr {err.strip()!r}"
    if p.returncode == 2:
        if expect not in ("error", "either"):
            sys.exit(f"FAIL: {what}, expected a truncated replay")
        if not re.match(r"allocsim cat: .*m\.ast: offset \d+: expected ", err):
            sys.exit(f"FAIL: {what}: not 'FILE: offset N: expected'")
        counts["error"] += 1
        i = subprocess.run([A, "info", path], capture_output=True)
        if i.returncode != 2:
            sys.exit(f"FAIL: {name}: info exit {i.returncode}")
        if runs < 40 or name.startswith(("dup", "swap", "splice", "footer")):
            runs += 1
            r = subprocess.run([A, "run", "--policy", "bestfit", "-q", path,
                                "-o", os.path.join(T, "prev")], capture_output=True)
            if r.returncode != 2:
                sys.exit(f"FAIL: {name}: run exit {r.returncode}")
            now = {f: hashlib.sha1(open(os.path.join(T, "prev", f), "rb").read()).hexdigest()
                   for f in sorted(os.listdir(os.path.join(T, "prev")))}
            if now != prev:
                sys.exit(f"FAIL: {name}: run changed the earlier results")
        return
    if p.returncode != 0:
        sys.exit(f"FAIL: {what}")
    if expect == "error":
        sys.exit(f"FAIL: {what}, expected an error")
    if out != full[:len(out)]:
        sys.exit(f"FAIL: {what}: records differ from the intact trace")
    events = sum(1 for l in out if l[:2] in (b"a ", b"f ", b"r "))
    if "truncated" in err:
        counts["truncated"] += 1
        if whole is not None and events != sum(c[2] for c in ch[:whole]):
            sys.exit(f"FAIL: {what}: {events} events, expected the "
                     f"{sum(c[2] for c in ch[:whole])} of {whole} whole chunks")
    else:
        if expect == "truncated":
            sys.exit(f"FAIL: {what}: no truncation warning")
        if out != full:
            sys.exit(f"FAIL: {what}: a shorter replay without a warning")

# --- truncations ------------------------------------------------------------
check("cut in file header", t1[:start - 3], "error")
check("cut after file header", t1[:start], "truncated", 0)
for k, c in enumerate(ch):
    for d, label in ((0, "at boundary"), (1, "header byte 1"), (24, "mid header"),
                     (48, "after header"), (c[1] // 2, "mid chunk"),
                     (c[1] - 1, "last byte missing")):
        check(f"cut chunk {k} {label}", t1[:c[0] + d], "truncated", k)
for d, label in ((0, "at index"), (8, "in index"), (len(t1) - ioff - 24, "at trailer"),
                 (len(t1) - ioff - 12, "mid trailer"), (len(t1) - ioff - 1, "last byte")):
    check(f"cut footer {label}", t1[:ioff + d], "truncated", 7)

# --- bit flips ----------------------------------------------------------------
rng = random.Random(16)
positions = sorted(set([rng.randrange(len(t1)) for _ in range(150)] +
                       list(range(len(t1) - 24, len(t1))) + list(range(start, start + 48))))
for pos in positions:
    m = bytearray(t1)
    m[pos] ^= 1 << rng.randrange(8)
    check(f"flip byte {pos}", bytes(m), "either")

# --- duplicated, swapped, spliced chunks ---------------------------------------
foot = t1[ioff:]
for k, c in enumerate(ch):
    # duplicated, the footer as it was
    check(f"dup chunk {k}", t1[:c[0] + c[1]] + body(t1, c) + t1[c[0] + c[1]:], "error")
    # duplicated, footer rebuilt to list the copy (a consistent-looking file)
    seq = ch[:k + 1] + [c] + ch[k + 1:]
    data = t1[:start] + b"".join(body(t1, x) for x in seq)
    check(f"dup chunk {k} footer rebuilt",
          data + footer(start, [(x, None) for x in seq]), "error")
    # duplicated in a file without a footer (a killed recorder's file)
    check(f"dup chunk {k} no footer", data, "error")
    # spliced from the other trace in place of chunk k
    if 0 < k:
        seq2 = [body(t1, x) for x in ch]
        seq2[k] = body(t2, ch2[k])
        data = t1[:start] + b"".join(seq2)
        check(f"splice chunk {k}", data + foot, "error")
        check(f"splice chunk {k} no footer", data, "error")
for k in range(len(ch) - 1):
    seq = [body(t1, x) for x in ch]
    seq[k], seq[k + 1] = seq[k + 1], seq[k]
    data = t1[:start] + b"".join(seq)
    check(f"swap chunks {k},{k+1}", data + foot, "error")
    check(f"swap chunks {k},{k+1} no footer", data, "error")
    infos = ch[:k] + [ch[k + 1], ch[k]] + ch[k + 2:]
    check(f"swap chunks {k},{k+1} footer rebuilt",
          data + footer(start, [(x, None) for x in infos]), "error")

# --- footers that point wrong (checksums recomputed) ----------------------------
def with_trailer(data, ioff_, ibytes):
    tr = struct.pack("<QI", ioff_, ibytes)
    return data + tr + struct.pack("<I", fnv32(tr)) + b"ASTREND\0"
ibytes = len(t1) - 24 - ioff
check("footer index offset - 56", with_trailer(t1[:len(t1) - 24], ioff - 56, ibytes), "error")
check("footer index offset + 1", with_trailer(t1[:len(t1) - 24], ioff + 1, ibytes), "error")
check("footer index bytes - 56", with_trailer(t1[:len(t1) - 24], ioff, ibytes - 56), "error")
# an index entry moved to another chunk's offset, index checksum recomputed
idx = bytearray(t1[ioff:ioff + ibytes])
struct.pack_into("<Q", idx, 8 + 56 * 2, ch[3][0])
struct.pack_into("<I", idx, len(idx) - 4, fnv32(bytes(idx[:-4])))
check("footer entry 2 points at chunk 3", t1[:ioff] + bytes(idx) + t1[ioff + ibytes:], "error")
# the other trace's footer (its index describes other chunks)
_, _, ioff2 = layout(t2)
f2 = t2[ioff2:len(t2) - 24]
check("footer of another trace", with_trailer(t1[:ioff] + f2, ioff, len(f2)), "error")
# a footer listing one chunk fewer (the last chunk dropped from the index)
check("footer drops last chunk",
      t1[:ioff] + footer(start, [(x, None) for x in ch[:-1]]), "error")
print(f"mutants: {counts['error']} errors, {counts['truncated']} truncated "
      f"replays, {runs} runs left earlier results unchanged")
PY
echo ok
