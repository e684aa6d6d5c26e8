#!/usr/bin/env bash
# check_lifetime_warning: a lifetime-aware policy (llama) replayed without
# predictions says so. `allocsim run -p llama` with no --predictor warns on
# stderr, naming the predictor and the unknown-class rule that placed every
# object; summary.json names both (predictor.name, policy.params
# .unknown_class) and marks the policy lifetime-aware; --help says what the
# default does. With predictions, or for a policy that ignores them, no
# warning.
# Arguments: BUILD_DIR ALLOCSIM SOURCE_DIR
set -u
. "$(dirname "$0")/checklib.sh"

# no_warning NAME -- command...: exits 0 and prints no warning about
# predictions (the short-trace warning on periods is checked below).
no_warning() {
  local name=$1; shift 2
  "$@" >"$T/out" 2>"$T/err"; local rc=$?
  if [ "$rc" != 0 ] || grep -q 'warning: .*prediction' "$T/err"; then
    echo "FAIL $name: exit $rc or a warning"; cat "$T/err"; fail=1; return; fi
  echo "ok   $name"
}

# key SUMMARY PYTHON_EXPR: print the expression over the summary `d`.
key() { python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
print(eval(sys.argv[2]))' "$1" "$2"; }

"$A" gen server-mix --events 20000 --seed 2 -o "$T/t.ast" -q ||
  { echo "FAIL gen"; exit 1; }

W="warning: llama places objects by predicted lifetime, but no allocation had a prediction \(--predictor none\): every object was placed by llama.unknown_class"
check "llama without --predictor warns" 0 "$W=shortest, not by its lifetime" -- \
  "$A" run -q -p llama "$T/t.ast" -o "$T/none"
check "the warning names the rule given" 0 "$W=longest" -- \
  "$A" run -q -p llama -P llama.unknown_class=longest "$T/t.ast" -o "$T/longest"
no_warning "llama with the oracle: no warning" -- \
  "$A" run -q -p llama --predictor oracle "$T/t.ast" -o "$T/oracle"
no_warning "none.class=0 predicts every object: no warning" -- \
  "$A" run -q -p llama --predictor none -P none.class=0 "$T/t.ast" -o "$T/c0"
no_warning "tcmalloc ignores predictions: no warning" -- \
  "$A" run -q -p tcmalloc "$T/t.ast" -o "$T/tc"

s=$T/none/summary.json
got=$(key "$s" '(d["predictor"]["name"], d["policy"]["params"]["unknown_class"], d["policy"]["lifetime_aware"], d["predictions"]["unpredicted_allocs"] == d["trace"]["allocs"] + d["trace"]["reallocs"])')
if [ "$got" = "('none', 'shortest', True, True)" ]; then
  echo "ok   summary.json names the predictor and the rule"
else
  echo "FAIL summary.json: $got"; fail=1
fi
got=$(key "$T/longest/summary.json" 'd["policy"]["params"]["unknown_class"]')
[ "$got" = longest ] && echo "ok   summary.json: unknown_class=longest" ||
  { echo "FAIL summary.json longest: $got"; fail=1; }
got=$(key "$T/tc/summary.json" '"lifetime_aware" in d["policy"]')
[ "$got" = False ] && echo "ok   tcmalloc's summary has no lifetime_aware" ||
  { echo "FAIL tcmalloc lifetime_aware: $got"; fail=1; }

# llama times its blocks by the class bounds (ops.class_periods): a 13.5 s
# trace is shorter than the 100 s and 1000 s classes, and the run says so.
got=$(key "$T/oracle/summary.json" 'd["warnings"]["trace_shorter_than_periods"]')
case $got in
*"classes.class_bound[4] = 100 s, classes.class_bound[5] = 1000 s"*)
  echo "ok   llama: the class bounds longer than the trace are named" ;;
*) echo "FAIL llama periods warning: $got"; fail=1 ;;
esac
got=$(key "$T/tc/summary.json" 'd["warnings"]["trace_shorter_than_periods"]')
case $got in
*class_bound*) echo "FAIL tcmalloc names class bounds: $got"; fail=1 ;;
*) echo "ok   tcmalloc: no class bound among its periods" ;;
esac

check "--help: the default predictor and the rule" 0 \
  "With none \(no prediction\) a lifetime-aware policy" -- "$A" run --help
check "--help: llama is lifetime-aware" 0 \
  "lifetime-aware: places objects by the predictor's classes" -- "$A" run --help
exit $fail
