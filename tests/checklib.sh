# checklib.sh - what the shell checks (tests/check_NAME.sh BUILD ALLOCSIM
# SRC, run by ctest) share; sourced, not a check itself:
#
#   . "$(dirname "$0")/checklib.sh"
#
# Sourcing sets B (the build directory, absolute), A (the allocsim
# binary), S (the source tree), T (a fresh scratch directory, removed when
# the check exits: a check that sets an EXIT trap of its own removes "$T"
# in it) and fail=0 (set to 1 by bad and check). CHECK_TMP_IN_BUILD=1
# before sourcing makes T under B instead of $TMPDIR (large files, or a
# file system like the build's). A check ends with `exit $fail`.
B=$(realpath "$1") A=$(realpath "$2") S=${3:-}
if [[ ${CHECK_TMP_IN_BUILD:-0} == 1 ]]; then
  T=$(mktemp -d "$B/$(basename "$0" .sh).XXXXXX")
else
  T=$(mktemp -d)
fi
[[ -d $T ]] || { echo "FAIL: no scratch directory"; exit 1; }
trap 'rm -rf "$T"' EXIT
fail=0

# ok MSG: one passed assertion. bad MSG: a failed one; the check goes on
# and exits 1 at the end. die MSG: a failed one after which nothing more
# can be checked: exit 1 now.
ok() { echo "ok   $*"; }
bad() {
  echo "FAIL $*"
  fail=1
}
die() {
  echo "FAIL: $*"
  exit 1
}

# skip_unless_built WHY FILE...: exit 77 (ctest: skipped), saying WHY, when
# one of the build's files the check needs is not there (e.g. the recorder
# or the preload library, which the sanitizer build leaves out).
skip_unless_built() {
  local why=$1 f
  shift
  for f in "$@"; do
    [[ -r $f ]] || { echo "skipped: $f is not built here ($why)"; exit 77; }
  done
}

# The recorder's library, and skip_unless_built for it (and FILE...).
REC_LIB=$B/traces/record/liballocsim_record.so
skip_unless_recorder() {
  skip_unless_built "ALLOCSIM_RECORDER=OFF or a sanitizer build" "$REC_LIB" "$@"
}

# check NAME EXPECTED_RC GREP_PATTERN -- command...: the command exits with
# EXPECTED_RC and its stdout+stderr match GREP_PATTERN (grep -E; empty: not
# checked). Prints "ok   NAME" or "FAIL NAME: why" with the output. With
# CHECK_TIMEOUT=SECONDS a command still running then is killed (exit 124).
check() {
  local name=$1 want=$2 pat=$3; shift 4
  ${CHECK_TIMEOUT:+timeout "$CHECK_TIMEOUT"} "$@" >"$T/out" 2>"$T/err"; local rc=$?
  if [ "$rc" != "$want" ]; then echo "FAIL $name: exit $rc, wanted $want"; cat "$T/out" "$T/err"; fail=1; return; fi
  if [ -n "$pat" ] && ! grep -qE -e "$pat" "$T/out" "$T/err"; then
    echo "FAIL $name: output lacks /$pat/"; cat "$T/out" "$T/err"; fail=1; return; fi
  echo "ok   $name"
}

# nosum SUMMARY: the summary without what may differ between two runs of
# the same configuration (timing, provenance), keys sorted.
nosum() { python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
for k in ("timing", "provenance"): d.pop(k, None)
print(json.dumps(d, sort_keys=True, indent=1))' "$1"; }

# sampled_trace ALLOCSIM IN OUT: IN with a real-memory sample before every
# 5,000th event (the k-th with an RSS of k MiB, no huge-page figure),
# written as OUT. @return the import's status.
sampled_trace() {
  "$1" cat "$2" | awk '/^[afr] / { n++; if (n % 5000 == 0) print "s", $2, 1048576 * (n / 5000), "-" } { print }' >"$T/sampled.txt" &&
    "$1" import -f text "$T/sampled.txt" -o "$3" >/dev/null
}

# real_rss_max_is SERIES_CSV MIB: the largest real_rss_bytes of a
# series.csv is MIB MiB (the run saw the trace's last sample).
real_rss_max_is() {
  python3 - "$1" "$2" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
real = [int(r["real_rss_bytes"]) for r in rows if r["real_rss_bytes"] not in ("", "0")]
sys.exit(not real or max(real) != int(sys.argv[2]) << 20)
PY
}
