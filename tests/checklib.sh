# checklib.sh - helpers sourced by shell checks (the reports' and the
# runs'); not a check itself. Needs $T, a scratch
# directory, and sets fail=1 on a failed check.

# check NAME EXPECTED_RC GREP_PATTERN -- command...: the command exits with
# EXPECTED_RC and its stdout+stderr match GREP_PATTERN (grep -E; empty: not
# checked). Prints "ok   NAME" or "FAIL NAME: why" with the output.
check() {
  local name=$1 want=$2 pat=$3; shift 4
  "$@" >"$T/out" 2>"$T/err"; local rc=$?
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
