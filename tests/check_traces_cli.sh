#!/usr/bin/env bash
# check_traces_cli.sh - `allocsim cat`, `import --format text` and `info`
# from the command line: text -> trace -> text is byte-identical, a bad line
# gives "FILE:LINE: expected" with exit 2 and leaves no output file, write
# reports round-trip through cat, import and convert, an
# unknown format lists the formats, a corrupt trace exits 2 naming the
# offset, a truncated one warns and exits 0, --help exits 0.
# Args: build dir, allocsim binary, source dir.
set -u
CHECK_TMP_IN_BUILD=1
. "$(dirname "$0")/checklib.sh"

for c in cat info import; do
  "$A" $c --help > /dev/null || die "$c --help exit $?"
done

# the fixture's text form, known by hand (see tests/unit/test_traces_format.c)
cat > "$T/fix.txt" <<'TXT'
meta k v
frame 1 0x4005d0 0x5d0 /bin/a%20b main
stack 1 1
a 10 1 2 0 16 0 1
a 10 1 2 1 32 64 1
f 15 0 3 0
r 20 0 3 1 2 100 0 0
TXT
"$A" import --format text "$T/fix.txt" -o "$T/fix.ast" || die "import exit $?"
"$A" cat "$T/fix.ast" > "$T/back.txt" || die "cat exit $?"
cmp -s "$T/fix.txt" "$T/back.txt" || die "text -> trace -> text differs"
# again through a trace with one event per chunk
"$A" import --format text "$T/back.txt" -o "$T/one.ast" --chunk-events 1 \
  || die "import --chunk-events 1"
"$A" cat "$T/one.ast" | cmp -s - "$T/fix.txt" || die "1-event chunks differ"
# numbers at every digit-count boundary and at 2^64-1 print back exactly
cat > "$T/num.txt" <<'TXT'
a 9 9 10 0 99 4096 0
a 100 99 100 1 1000 65536 0
r 1009 999 1000 0 2 10000000000 0 0
f 12345678901234567890 4294967295 4294967295 1
f 18446744073709551615 10 99 2
TXT
"$A" import --format text "$T/num.txt" -o "$T/num.ast" || die "import num exit $?"
"$A" cat "$T/num.ast" | cmp -s - "$T/num.txt" || die "numbers differ after text -> trace -> text"

"$A" info "$T/fix.ast" > "$T/info.txt" || die "info exit $?"
grep -q "^events            4 (2 allocs, 1 frees, 1 reallocs)$" "$T/info.txt" \
  || die "info events: $(cat "$T/info.txt")"
grep -q "^peak live bytes   100 " "$T/info.txt" || die "info peak bytes"
grep -q "^peak live objects 2$" "$T/info.txt" || die "info peak objects"
"$A" info --json "$T/fix.ast" | grep -q '"peak_live_bytes": 100,' \
  || die "info --json"

# format v2: stack heights (printed when known) and real-memory samples
# round-trip through cat and the text importer, and info reports them
cat > "$T/v2.txt" <<'TXT'
meta host.thp.enabled madvise
s 5 1048576 -
a 10 0 0 0 16 0 0 4096
a 10 0 0 1 32 0 0 4096
s 10 2097152 0
r 20 0 0 0 2 64 0 0 512
f 30 0 0 1
a 30 0 0 3 8 0 0
s 40 - 2097152
s 45 - - mi 135168 1 0 2 270336 0 0 3408 131760 131760
TXT
"$A" import --format text "$T/v2.txt" -o "$T/v2.ast" || die "import v2 exit $?"
"$A" cat "$T/v2.ast" | cmp -s - "$T/v2.txt" || die "v2 text -> trace -> text differs"
"$A" info "$T/v2.ast" > "$T/info2.txt" || die "info v2 exit $?"
grep -q "^format            allocsim trace v3," "$T/info2.txt" || die "info v3 version"
grep -q "^stack heights     3 allocations, largest 4096 bytes$" "$T/info2.txt" \
  || die "info heights: $(cat "$T/info2.txt")"
grep -q "^memory samples    4 (t 5..45, " "$T/info2.txt" || die "info samples"
# mallinfo2: arena 135168 + hblkhd 270336; in use 3408 + 270336
grep -q "^peak mallinfo2    405504 bytes arena+hblkhd (arena 135168, hblkhd 270336, in use 273744; 1 samples)$" \
  "$T/info2.txt" || die "info mallinfo: $(cat "$T/info2.txt")"
grep -q "^peak real RSS     2097152 bytes (2 samples)$" "$T/info2.txt" || die "info rss"
grep -q "^peak AnonHugePages 2097152 bytes (2 samples)$" "$T/info2.txt" || die "info huge"
"$A" info --json "$T/v2.ast" | grep -q '"samples": 4, "rss_samples": 2' \
  || die "info --json samples"
# the old fixture is v1 text: no heights, no samples, info says v1 for a v1 file
grep -q "^format            allocsim trace v1," <("$A" info "$S/data/redis.ast") \
  || die "info of a v1 file"
# a sample earlier than the event before it: FILE:LINE
printf 'a 10 0 0 0 8 0 0\ns 9 1 1\n' > "$T/bads.txt"
"$A" import --format text "$T/bads.txt" -o "$T/bads.ast" 2> "$T/err.txt"
[ $? -eq 2 ] || die "bad sample exit"
grep -q "bads.txt:2: expected t_ns >= 10" "$T/err.txt" || die "bad sample msg: $(cat "$T/err.txt")"
# a mallinfo sample without its 10 fields, or without the 'mi' word
printf 's 5 1 2 mi 1 2\n' > "$T/badm.txt"
"$A" import --format text "$T/badm.txt" -o "$T/badm.ast" 2> "$T/err.txt"
[ $? -eq 2 ] || die "bad mallinfo sample exit"
grep -q "badm.txt:1: expected 3 fields after 's' (t_ns rss_bytes anon_huge_bytes), or 3 then 'mi' and 10 mallinfo fields, found 6" \
  "$T/err.txt" || die "bad mallinfo msg: $(cat "$T/err.txt")"
printf 's 5 1 2 mx 1 2 3 4 5 6 7 8 9 10\n' > "$T/badm.txt"
"$A" import --format text "$T/badm.txt" -o "$T/badm.ast" 2> "$T/err.txt"
[ $? -eq 2 ] || die "bad mallinfo word exit"
grep -q "badm.txt:1: expected 'mi' after the sample's 3 fields, found 'mx'" \
  "$T/err.txt" || die "bad mallinfo word msg: $(cat "$T/err.txt")"

# write reports (format 3): cat prints them as 'w' lines where they occur,
# the text importer reads them back, convert carries them (and refuses
# format 2, which cannot hold them), info counts them
cat > "$T/w.txt" <<'TXT'
meta record.writes pagemap
meta record.writes_min_bytes 8192
a 10 0 0 0 1048576 0 0
w 10 0 0 4096
a 12 0 0 1 100 0 0
w 20 0 8192 8192
w 20 0 4096 4096
f 30 0 0 0
w 31 1 0 100
TXT
"$A" import --format text "$T/w.txt" -o "$T/w.ast" --chunk-events 1 \
  || die "import writes exit $?"
"$A" cat "$T/w.ast" | cmp -s - "$T/w.txt" || die "write reports: text -> trace -> text differs"
"$A" convert "$T/w.ast" -o "$T/w3.ast" || die "convert writes exit $?"
"$A" cat "$T/w3.ast" | cmp -s - "$T/w.txt" || die "convert lost or moved write reports"
"$A" convert "$T/w.ast" --format-version 2 -o "$T/w2.ast" 2> "$T/err.txt"
[ $? -eq 2 ] || die "convert writes to v2: exit"
grep -q "allocsim convert: .*w2.ast: write report at t=10 ns: format version 2 cannot hold write reports (they need version 3)" \
  "$T/err.txt" || die "convert writes to v2 msg: $(cat "$T/err.txt")"
[ ! -e "$T/w2.ast" ] || die "convert to v2 left output"
"$A" info "$T/w.ast" > "$T/infow.txt" || die "info writes exit $?"
grep -q "^write reports     4 (16484 bytes reported, repeats counted)$" "$T/infow.txt" \
  || die "info writes: $(cat "$T/infow.txt")"
"$A" info --json "$T/w.ast" | grep -q '"writes": 4, "write_bytes": 16484}' \
  || die "info --json writes"
# a report on an id never allocated: FILE:LINE
printf 'a 10 0 0 0 8 0 0\nw 11 1 0 8\n' > "$T/badw.txt"
"$A" import --format text "$T/badw.txt" -o "$T/badw.ast" 2> "$T/err.txt"
[ $? -eq 2 ] || die "bad write exit"
grep -q "badw.txt:2: expected an object id below 1 (one allocated earlier), found 1" \
  "$T/err.txt" || die "bad write msg: $(cat "$T/err.txt")"

# a bad line: exit 2, FILE:LINE, no output left
printf 'a 1 0 0 0 8 0 0\nf 2 0 0 5\n' > "$T/bad.txt"
"$A" import --format text "$T/bad.txt" -o "$T/bad.ast" 2> "$T/err.txt"
rc=$?
[ $rc -eq 2 ] || die "bad line: exit $rc"
grep -q "bad.txt:2: expected an id below 1" "$T/err.txt" || die "bad line msg: $(cat "$T/err.txt")"
[ ! -e "$T/bad.ast" ] && [ ! -e "$T/bad.ast.tmp" ] || die "output left behind"

"$A" import --format nosuch "$T/fix.txt" -o "$T/x.ast" 2> "$T/err.txt"
[ $? -eq 2 ] || die "unknown format exit"
grep -q "unknown format 'nosuch'" "$T/err.txt" && grep -q "^  text " "$T/err.txt" \
  || die "unknown format msg"

# corrupt: flip a payload byte of the fixture's only chunk (offset 38 + 48 + 20)
cp "$T/fix.ast" "$T/flip.ast"
printf '\xff' | dd of="$T/flip.ast" bs=1 seek=106 conv=notrunc status=none
"$A" cat "$T/flip.ast" > /dev/null 2> "$T/err.txt"
[ $? -eq 2 ] || die "corrupt trace exit"
grep -q "flip.ast: offset 86: " "$T/err.txt" || die "corrupt msg: $(cat "$T/err.txt")"

# truncated: drop the footer (index 68 bytes + trailer 24): warn, exit 0
# (the chunk ends at 153: v2 payloads have 10 stream lengths)
size=$(stat -c %s "$T/fix.ast")
head -c $((size - 30)) "$T/fix.ast" > "$T/trunc.ast"
"$A" cat "$T/trunc.ast" > "$T/trunc.txt" 2> "$T/err.txt" || die "truncated exit $?"
cmp -s "$T/trunc.txt" "$T/fix.txt" || die "truncated trace lost events"
grep -q "warning: .*trunc.ast: offset 171: .*truncated" "$T/err.txt" \
  || die "truncated msg: $(cat "$T/err.txt")"

# wrong version
cp "$T/fix.ast" "$T/v4.ast"
printf '\x04' | dd of="$T/v4.ast" bs=1 seek=8 conv=notrunc status=none
"$A" info "$T/v4.ast" > /dev/null 2> "$T/err.txt"
[ $? -eq 2 ] || die "wrong version exit"
grep -q "offset 8: expected format version 1..3, found 4" "$T/err.txt" || die "version msg"

"$A" cat "$T/missing.ast" 2> /dev/null
[ $? -eq 2 ] || die "missing file exit"

# convert: a version-1 file (the bundled sqlite trace) and a version-2 file
# become version 3 with the same records; back to 2 gives the v2 bytes;
# output == input refused; a bad input leaves no output
"$A" convert "$S/data/sqlite.ast" -o "$T/c3.ast" || die "convert v1 exit $?"
"$A" info "$T/c3.ast" | grep -q "^format            allocsim trace v3," \
  || die "convert: not v3"
cmp -s <("$A" cat "$S/data/sqlite.ast") <("$A" cat "$T/c3.ast") \
  || die "convert v1 -> v3 changed the records"
"$A" convert "$T/c3.ast" --format-version 2 -o "$T/c2.ast" || die "convert to v2"
"$A" convert "$T/c2.ast" -o "$T/c3b.ast" || die "convert v2 -> v3"
cmp -s "$T/c3.ast" "$T/c3b.ast" || die "v1 -> v3 and v1 -> v2 -> v3 differ"
"$A" convert "$T/c3.ast" --format-version 2 -o "$T/c2b.ast"
cmp -s "$T/c2.ast" "$T/c2b.ast" || die "v2 output not reproducible"
"$A" convert "$T/c3.ast" -o "$T/c3.ast" 2> "$T/err.txt"
[ $? -eq 2 ] || die "convert onto its input: exit"
grep -q "is the input .*(the same file)" "$T/err.txt" || die "same-file msg"
"$A" convert "$T/c3.ast" --format-version 1 -o "$T/x.ast" 2> /dev/null
[ $? -eq 2 ] || die "convert --format-version 1: exit"
"$A" convert "$T/flip.ast" -o "$T/bad.ast" 2> "$T/err.txt"
[ $? -eq 2 ] || die "convert of a corrupt trace: exit"
grep -q "allocsim convert: .*flip.ast: offset" "$T/err.txt" || die "convert bad msg: $(cat "$T/err.txt")"
[ ! -e "$T/bad.ast" ] && ! ls "$T"/bad.ast.* >/dev/null 2>&1 || die "convert left output"
echo "ok"
