#!/usr/bin/env bash
# check_hostile_import.sh - the importers against hostile and careless
# input, through the command line (issue 16): files cut short (plain, zstd,
# gzip; mid-line at every byte; interpreted files without their trailer),
# numbers that overflow 64 bits, frees of NULL, the libFuzzer inputs that
# exhausted memory, 40,000 consecutive pcs, and escape sequences in traces.
# Each failure case asserts exit status 2, a "FILE:LINE: expected ..."
# message, no output file, and that a file already at the output path is
# left byte for byte as it was.
# Args: build dir, allocsim binary, source dir.
set -u
CHECK_TMP_IN_BUILD=1
. "$(dirname "$0")/checklib.sh"
H=$S/tests/data/hostile

echo "precious earlier result" > "$T/keep.ast"
keep_sum=$(cksum < "$T/keep.ast")

# expect_err FORMAT INPUT PATTERN: import fails with exit 2, stderr matches
# PATTERN (grep -E), no new output, and keep.ast (the -o target) unchanged.
expect_err() {
  local fmt=$1 in=$2 pat=$3 rc before
  before=$(ls -a "$T" | grep -vx err)
  "$A" import --format "$fmt" "$in" -o "$T/keep.ast" 2> "$T/err"; rc=$?
  [ $rc -eq 2 ] || die "$in: exit $rc, expected 2 ($(cat "$T/err"))"
  grep -qE "$pat" "$T/err" || die "$in: message '$(cat "$T/err")' !~ $pat"
  [ "$(cksum < "$T/keep.ast")" = "$keep_sum" ] || die "$in: keep.ast changed"
  [ "$(ls -a "$T" | grep -vx err)" = "$before" ] || die "$in: left $(ls "$T")"
}

# --- files cut short -------------------------------------------------------
raw=$S/tests/data/heaptrack_raw.txt
interp=$S/tests/data/heaptrack_interp.txt
# every cut of the raw file that does not fall just after a '\n'
size=$(wc -c < "$raw"); cuts=0
for ((n = 1; n < size; n++)); do
  head -c $n "$raw" > "$T/cut.txt"
  [ "$(tail -c 1 "$T/cut.txt" | od -An -c | tr -d ' ')" = '\n' ] && continue
  expect_err heaptrack "$T/cut.txt" "cut\.txt:[0-9]+: expected a line ending in a newline, found the end of the file at byte $n .*cut short"
  cuts=$((cuts + 1))
done
[ $cuts -gt 100 ] || die "only $cuts mid-line cuts tried"
# every cut of the interpreted file, at line ends too: its trailer is gone
size=$(wc -c < "$interp")
for ((n = 1; n < size; n++)); do
  head -c $n "$interp" > "$T/cut.txt"
  expect_err heaptrack "$T/cut.txt" "cut\.txt:[0-9]+: expected .*(cut short|lines are missing)"
done
# mid-line cuts inside well-formed zstd and gzip streams, and cut streams
head -c 150 "$raw" > "$T/mid.txt"
zstd -q -c "$T/mid.txt" > "$T/mid.zst"; gzip -c "$T/mid.txt" > "$T/mid.gz"
expect_err heaptrack "$T/mid.zst" "mid\.zst:[0-9]+: expected a line ending in a newline, found the end of the decompressed data at byte 150"
expect_err heaptrack "$T/mid.gz" "mid\.gz:[0-9]+: expected a line ending in a newline, found the end of the decompressed data at byte 150"
head -c $(($(wc -c < "$S/tests/data/heaptrack_raw.txt.zst") - 9)) \
  "$S/tests/data/heaptrack_raw.txt.zst" > "$T/short.zst"
expect_err heaptrack "$T/short.zst" "short\.zst: expected more zstd data: the file is truncated"
head -c $(($(wc -c < "$S/tests/data/heaptrack_interp.txt.gz") - 9)) \
  "$S/tests/data/heaptrack_interp.txt.gz" > "$T/short.gz"
expect_err heaptrack "$T/short.gz" "short\.gz(:[0-9]+: expected a line ending|: expected a valid gzip stream)"
head -c 40 "$S/tests/data/mtrace.txt" > "$T/mt.txt"
expect_err mtrace "$T/mt.txt" "mt\.txt:[0-9]+: expected a line ending in a newline"

# --- numbers beyond 64 bits ------------------------------------------------
expect_err heaptrack "$H/ht_tick_overflow.txt" "ht_tick_overflow\.txt:6: expected 'c' elapsed milliseconds at most 10c6f7a0b5e3 .*found 4189374bc6a7ef9e"
expect_err heaptrack "$H/ht_tick_max.txt" "ht_tick_max\.txt:6: expected 'c' elapsed milliseconds at most 10c6f7a0b5e3 .*found ffffffffffffffff"
expect_err mtrace "$H/mt_size_17_digits.txt" "mt_size_17_digits\.txt:2: expected a hex number below 2\^64 in '\+ 0xPTR 0xSIZE'"

# --- free(NULL) is a no-op -------------------------------------------------
"$A" import --format heaptrack "$H/ht_free_null.txt" -o "$T/out1.ast" || die "free null import"
"$A" cat "$T/out1.ast" | grep -E '^(a|f) ' > "$T/ev.txt"
printf 'a 2500000 0 0 0 16 0 1\nf 7500000 0 0 0\n' | cmp -s - "$T/ev.txt" \
  || die "heaptrack free(NULL): $(cat "$T/ev.txt")"
"$A" cat "$T/out1.ast" | grep -q '^meta import.unmatched_frees 0$' || die "unmatched count"
for m in mt_free_0x0 mt_free_nil; do
  "$A" import --format mtrace "$H/$m.txt" -o "$T/out2.ast" || die "$m import"
  "$A" cat "$T/out2.ast" | grep -E '^(a|f) ' > "$T/ev.txt"
  printf 'a 0 0 0 0 16 0 0\nf 1 0 0 0\n' | cmp -s - "$T/ev.txt" || die "$m: $(cat "$T/ev.txt")"
  rm -f "$T/out2.ast"
done

# --- inputs that exhausted memory --------------------------------------------
# 40 rounds of "- 0", "- 0", "+ 10 1 ADDR": the frees of NULL underflowed
# the live map's count and every insert then doubled the table
/usr/bin/time -f "%M" -o "$T/rss" "$A" import --format heaptrack \
  "$H/ht_free_null_oom.txt" -o "$T/out3.ast" || die "free-null OOM file: exit $?"
"$A" info "$T/out3.ast" | grep -q '^events            40 (40 allocs, 0 frees, 0 reallocs)$' \
  || die "free-null OOM file: $("$A" info "$T/out3.ast" | grep ^events)"
[ "$(tail -1 "$T/rss")" -lt 200000 ] || die "free-null OOM file: $(tail -1 "$T/rss") KB"
# the libFuzzer inputs (first byte: the target's selector): they end
# mid-line, so they are now truncation errors; completed with a newline
# they import in bounded memory
for b in 1 2; do
  tail -c +2 "$H/fuzz_oom_free_null_$b.bin" > "$T/fz.txt"
  expect_err heaptrack "$T/fz.txt" "fz\.txt:[0-9]+: expected a line ending in a newline"
  echo >> "$T/fz.txt"
  /usr/bin/time -f "%M" -o "$T/rss" "$A" import --format heaptrack "$T/fz.txt" \
    -o "$T/out4.ast" 2> /dev/null
  [ "$(tail -1 "$T/rss")" -lt 200000 ] || die "fuzz OOM input $b: $(tail -1 "$T/rss") KB"
  rm -f "$T/out4.ast"
done

# --- a raw file cut at a line boundary --------------------------------------
# heaptrack's shutdown writes a last 'c' tick and 'R' sample, so every cut
# after a line that is not one of those is reported: exit 3, a warning with
# FILE:LINE, the whole records imported and the trace marked
# import.truncated; --allow-truncated makes it exit 0. (A cut just after a
# periodic c/R pair looks like a complete file: undetectable, documented.)
lines=$(wc -l < "$raw"); detected=0
for ((n = 1; n < lines; n++)); do
  head -n $n "$raw" > "$T/lcut.txt"
  last=$(tail -1 "$T/lcut.txt" | cut -c1)
  "$A" import --format heaptrack "$T/lcut.txt" -o "$T/lcut.ast" 2> "$T/err"; rc=$?
  case $last in
  c | R) [ $rc -eq 0 ] || die "line cut $n (ends on '$last'): exit $rc" ;;
  *)
    # the header alone has no record of either kind: an error, exit 2
    if ! grep -q '^[x+m]' "$T/lcut.txt"; then
      [ $rc -eq 2 ] || die "line cut $n (header only): exit $rc"; continue
    fi
    [ $rc -eq 3 ] || die "line cut $n (ends on '$last'): exit $rc, expected 3"
    grep -q "lcut.txt:$n: expected the closing 'c' and 'R' records" "$T/err" \
      || die "line cut $n: message $(cat "$T/err")"
    "$A" info "$T/lcut.ast" | grep -q 'import.truncated' \
      || die "line cut $n: trace not marked import.truncated"
    "$A" import --allow-truncated --format heaptrack "$T/lcut.txt" \
      -o "$T/lcut2.ast" 2> /dev/null || die "line cut $n: --allow-truncated exit $?"
    detected=$((detected + 1)) ;;
  esac
done
[ $detected -gt 0 ] || die "no line cut detected"
rm -f "$T/lcut.txt" "$T/lcut.ast" "$T/lcut2.ast"

# --- 40,000 consecutive pcs (was quadratic in the pointer map) -------------
{
  printf 'v 10400 3\nX /bin/app\nI 1000 3e8\nm 1 x 400000 0 1000 1000 2000\n'
  awk 'BEGIN { for (i = 0; i < 40000; i++) printf "t %x %x\n", 4198400 + i, i;
               for (k = 1; k <= 40000; k++) printf "+ 40 %x %x\n", k, 65536 + k * 64 }'
  printf 'c 1\nR 1\n' # the closing tick and RSS sample of a complete file
} > "$T/dense.txt"
"$A" import --format heaptrack "$T/dense.txt" -o "$T/dense.ast" || die "dense pcs import"
"$A" info "$T/dense.ast" | grep -q '^stacks, frames    40000, 40000$' \
  || die "dense pcs: $("$A" info "$T/dense.ast" | grep ^stacks)"

# --- escape sequences in a trace never reach the terminal --------------------
"$A" import --format text "$H/text_escape_meta.txt" -o "$T/esc.ast" || die "escape import"
"$A" info "$T/esc.ast" > "$T/info.txt" || die "info"
LC_ALL=C grep -q $'[\x01-\x08\x0b-\x1f\x7f]' "$T/info.txt" && die "info printed a control byte"
grep -qF 'evil = \x1b]0;PWNED\x07\x1b[2J\x1b[31mred' "$T/info.txt" || die "info: $(grep evil "$T/info.txt")"
"$A" info --json "$T/esc.ast" > "$T/info.json" || die "info --json"
python3 -c 'import json, sys
m = json.load(open(sys.argv[1]))["meta"]["evil"]
sys.exit(m != "\\x1b]0;PWNED\\x07\\x1b[2J\\x1b[31mred")' "$T/info.json" || die "info --json: $(cat "$T/info.json")"
"$A" cat "$T/esc.ast" > "$T/cat.txt" || die "cat"
LC_ALL=C grep -q '[^ -~]' "$T/cat.txt" && die "cat printed a byte outside printable ASCII"
grep -qxF 'meta evil %1B]0;PWNED%07%1B[2J%1B[31mred' "$T/cat.txt" || die "cat: $(cat "$T/cat.txt")"
# a bad line quoting control bytes: the message is escaped
printf 'v 10400 3\nQ\033[2J\n' > "$T/q.txt"
expect_err heaptrack "$T/q.txt" "q\.txt:2: expected a record type followed by a space, found 'Q\\\\x1b\[2J'"
LC_ALL=C grep -q $'\x1b' "$T/err" && die "an ESC byte reached stderr"
# a hostile symbol in a mispredicted site: summary.json stays valid UTF-8
# and spells the bytes escaped
cat > "$T/site.txt" <<'TXT'
frame 1 0x10 0x0 /lib/ev%1Bil.so sym%1B]0;X%07%9B%FFend
stack 1 1
a 0 0 0 0 64 0 1
f 2000000000 0 0 0
a 2000000001 0 0 1 64 0 1
f 2000000002 0 0 1
TXT
"$A" import --format text "$T/site.txt" -o "$T/site.ast" || die "site import"
"$A" run --policy llama --predictor adversarial -q "$T/site.ast" -o "$T/site" \
  > /dev/null 2>&1 || die "site run"
python3 -c 'import json, sys
d = json.loads(open(sys.argv[1], "rb").read().decode("utf-8"))
w = d["predictions"]["top_mispredicted_sites"][0]["where"]
sys.exit(w != "sym\\x1b]0;X\\x07\\x9b\\xffend")' "$T/site/summary.json" \
  || die "site name in summary.json: $(grep -a where "$T/site/summary.json")"
echo "ok"
