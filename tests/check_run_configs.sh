#!/usr/bin/env bash
# check_run_configs: `allocsim run --config SPEC...` replays several
# configurations in one pass over the trace (decoded once) and writes each
# to DIR/SPEC exactly as a run of its own writes it: every CSV byte for
# byte, summary.json equal apart from "timing" and "provenance", the same
# result line. Four configurations with different policies, predictors
# (none, oracle, cached:site with an oracle shadow, site), check modes and
# OS parameters, on a generated trace, on data/sqlite.ast and on the
# generated trace with real-memory samples. Then: a bad
# configuration fails alone (its directory is not written, the others
# are, exit 2), and the usage errors.
# Arguments: BUILD_DIR ALLOCSIM SOURCE_DIR
set -u -o pipefail # a run's own exit status, not grep's
. "$(dirname "$0")/checklib.sh"
"$A" gen server-mix --events 200000 --seed 5 -o "$T/t.ast" >/dev/null || { echo "FAIL gen"; exit 1; }
specs=("tcmalloc" "llama,predictor=oracle" "bestfit,predictor=cached:site,shadow=oracle,check=full"
       "hoard,predictor=site,os.thp=never,hoard.large_threshold=16K")
sep_args() { # the options of a separate run equivalent to SPEC
  local IFS=, first=1 kv
  for kv in $1; do
    if [ $first = 1 ]; then echo "-p"; echo "$kv"; first=0; continue; fi
    case $kv in
      predictor=*) echo "--predictor"; echo "${kv#*=}";;
      shadow=*) echo "--shadow-predictor"; echo "${kv#*=}";;
      check=*) echo "--check=${kv#*=}";;
      *) echo "-P"; echo "$kv";;
    esac
  done
}
# The same trace with real-memory samples (an `s` line every 5000 events):
# the configurations share the reader's samples, and each must still see
# every one of them (series.csv's real_rss_bytes).
sampled_trace "$A" "$T/t.ast" "$T/s.ast" || { echo "FAIL import of the sampled trace"; exit 1; }
for trace in "$T/t.ast" "$S/data/sqlite.ast" "$T/s.ast"; do
  name=$(basename "$trace")
  cfgs=()
  for s in "${specs[@]}"; do cfgs+=(--config "$s"); done
  "$A" run -q "${cfgs[@]}" --sample-interval 5ms "$trace" -o "$T/many" | grep -v '^wrote' >"$T/many.out" ||
    { echo "FAIL $name: one pass exited $?"; fail=1; continue; }
  : >"$T/sep.out"
  mkdir -p "$T/sep"
  before=$fail
  for s in "${specs[@]}"; do
    mapfile -t a < <(sep_args "$s")
    "$A" run -q "${a[@]}" --sample-interval 5ms "$trace" -o "$T/sep/$s" | grep -v '^wrote' >>"$T/sep.out" ||
      { echo "FAIL $name: separate run $s exited $?"; fail=1; }
  done
  if cmp -s "$T/many.out" "$T/sep.out"; then echo "ok   $name: result lines"; else
    echo "FAIL $name: result lines differ"; diff "$T/many.out" "$T/sep.out"; fail=1; fi
  for s in "${specs[@]}"; do
    for f in series.csv policy_series.csv confusion.csv histograms.csv; do
      cmp -s "$T/many/$s/$f" "$T/sep/$s/$f" || { echo "FAIL $name: $s/$f differs"; fail=1; }
    done
    python3 - "$T/many/$s/summary.json" "$T/sep/$s/summary.json" <<'PY' || { echo "FAIL $name: $s/summary.json differs"; fail=1; }
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
for k in ("timing", "provenance"):
    a.pop(k); b.pop(k)
sys.exit(a != b)
PY
  done
  if [ "$name" = s.ast ]; then
    for s in "${specs[@]}"; do
      # 40 samples of 1..40 MiB over the trace; every configuration sees the last
      real_rss_max_is "$T/many/$s/series.csv" 40 || { echo "FAIL $name: $s: real RSS not in series.csv"; fail=1; }
    done
  fi
  [ $fail = "$before" ] && echo "ok   $name: ${#specs[@]} configurations in one pass = separate runs"
  rm -rf "$T/many" "$T/sep"
done

# one bad configuration fails alone
"$A" run -q --config tcmalloc --config nope --config 'bestfit,predictor=oracle' "$T/t.ast" -o "$T/bad" >"$T/out" 2>"$T/err"
rc=$?
if [ $rc = 2 ] && grep -q "unknown policy 'nope'" "$T/err" && [ -s "$T/bad/tcmalloc/summary.json" ] &&
   [ -s "$T/bad/bestfit,predictor=oracle/summary.json" ] && [ ! -e "$T/bad/nope" ]; then
  echo "ok   a bad configuration fails alone"
else echo "FAIL bad configuration: exit $rc"; cat "$T/err"; ls "$T/bad"; fail=1; fi

check "policy and config" 2 "--policy and --config do not mix" -- "$A" run -p tcmalloc --config llama "$T/t.ast" -o "$T/u"
check "unknown key" 2 "unknown key 'colour'" -- "$A" run --config 'llama,colour=red' "$T/t.ast" -o "$T/u"
check "not key=value" 2 "'oracle' is not KEY=VALUE" -- "$A" run --config 'llama,oracle' "$T/t.ast" -o "$T/u"
check "twice" 2 "--config 'llama' is given twice" -- "$A" run --config llama --config llama "$T/t.ast" -o "$T/u"
check "slash" 2 "must be a file name" -- "$A" run --config 'llama,x.y=a/b' "$T/t.ast" -o "$T/u"
check "bad check" 2 "check 'some': must be one of off, light, full" -- "$A" run --config 'llama,check=some' "$T/t.ast" -o "$T/u"
check "wrapper alone" 2 "wraps another predictor" -- "$A" run --config 'llama,predictor=cached' "$T/t.ast" -o "$T/u"
check "predictor-save" 2 "does not mix with --config" -- "$A" run --config llama --predictor-save "$T/p" "$T/t.ast" -o "$T/u"
exit $fail
