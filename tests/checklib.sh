# checklib.sh - helpers sourced by the reports' shell checks
# (tests/check_reports_*.sh); not a check itself. Needs $T, a scratch
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
