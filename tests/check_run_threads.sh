#!/usr/bin/env bash
# check_run_threads: `allocsim run --threads N` gives the same outputs for
# every N: every CSV byte for byte, summary.json equal apart from "timing"
# and "provenance", the same result lines. One configuration (llama with
# the oracle, bestfit with cached:site and an oracle shadow under the full
# check) and four --config configurations (split over 1, 2 and 3
# simulation threads), on a generated trace, on the same trace with
# real-memory samples (each sample travels with its batch to every
# thread: series.csv's real_rss_bytes must reach the last one), and on
# data/sqlite.ast. Then summary.json's timing.threads: 1 with --threads 1,
# 2 (decode + simulate) for one configuration, 3 for two configurations
# on two threads; and the usage errors of --threads.
# Arguments: BUILD_DIR ALLOCSIM SOURCE_DIR
set -u -o pipefail # a run's own exit status, not grep's
. "$(dirname "$0")/checklib.sh"
"$A" gen server-mix --events 150000 --seed 7 -o "$T/t.ast" >/dev/null || { echo "FAIL gen"; exit 1; }
sampled_trace "$A" "$T/t.ast" "$T/s.ast" || { echo "FAIL import of the sampled trace"; exit 1; }
same() { # DIR_A DIR_B LABEL: every output file equal
  local f ok=1
  for f in series.csv policy_series.csv confusion.csv histograms.csv; do
    [ -f "$1/$f" ] || { echo "FAIL $3: $1/$f missing"; ok=0; continue; }
    cmp -s "$1/$f" "$2/$f" || { echo "FAIL $3: $f differs"; ok=0; }
  done
  [ "$(nosum "$1/summary.json")" = "$(nosum "$2/summary.json")" ] || { echo "FAIL $3: summary.json differs"; ok=0; }
  [ $ok = 1 ]
}
specs=("tcmalloc" "llama,predictor=oracle" "bestfit,predictor=cached:site,shadow=oracle,check=full"
       "hoard,predictor=site,os.thp=never")
for trace in "$T/t.ast" "$T/s.ast" "$S/data/sqlite.ast"; do
  name=$(basename "$trace")
  for one in "-p llama --predictor oracle" "-p bestfit --predictor cached:site --shadow-predictor oracle --check=full"; do
    for n in 1 2; do
      # shellcheck disable=SC2086
      "$A" run -q $one --threads $n --sample-interval 5ms "$trace" -o "$T/one$n" | grep -v '^wrote' >"$T/one$n.out" ||
        { echo "FAIL $name: $one --threads $n exited $?"; fail=1; }
    done
    cmp -s "$T/one1.out" "$T/one2.out" || { echo "FAIL $name: $one: result lines differ"; fail=1; }
    if same "$T/one1" "$T/one2" "$name: $one"; then
      echo "ok   $name: $one: --threads 1 = 2"
    else
      fail=1
    fi
    rm -rf "$T"/one*
  done
  cfgs=()
  for s in "${specs[@]}"; do cfgs+=(--config "$s"); done
  for n in 1 2 3; do
    "$A" run -q "${cfgs[@]}" --threads $n --sample-interval 5ms "$trace" -o "$T/many$n" | grep -v '^wrote' >"$T/many$n.out" ||
      { echo "FAIL $name: configurations --threads $n exited $?"; fail=1; }
  done
  for n in 2 3; do
    before=$fail
    cmp -s "$T/many1.out" "$T/many$n.out" || { echo "FAIL $name: result lines differ with --threads $n"; fail=1; }
    for s in "${specs[@]}"; do
      same "$T/many1/$s" "$T/many$n/$s" "$name: $s --threads $n" || fail=1
    done
    [ $fail = "$before" ] && echo "ok   $name: ${#specs[@]} configurations, --threads 1 = $n"
  done
  if [ "$name" = s.ast ]; then
    for s in "${specs[@]}"; do
      # 30 samples of 1..30 MiB over the trace; every configuration sees the last
      real_rss_max_is "$T/many3/$s/series.csv" 30 || { echo "FAIL $name: $s: real RSS not in series.csv"; fail=1; }
    done
  fi
  rm -rf "$T"/many*
done
# timing.threads says how many threads ran
threads_of() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["timing"]["threads"])' "$1"; }
"$A" run -q -p tcmalloc --threads 1 "$T/t.ast" -o "$T/a" >/dev/null
"$A" run -q -p tcmalloc --threads 2 "$T/t.ast" -o "$T/b" >/dev/null
"$A" run -q --config tcmalloc --config hoard --threads 2 "$T/t.ast" -o "$T/c" >/dev/null
got="$(threads_of "$T/a/summary.json") $(threads_of "$T/b/summary.json") $(threads_of "$T/c/tcmalloc/summary.json") $(threads_of "$T/c/hoard/summary.json")"
if [ "$got" = "1 2 3 3" ]; then echo "ok   timing.threads 1 2 3 3"; else echo "FAIL timing.threads: $got, want 1 2 3 3"; fail=1; fi
# usage errors
for bad in 0 65 x; do
  "$A" run -q -p tcmalloc --threads $bad "$T/t.ast" -o "$T/d" >/dev/null 2>"$T/err"
  rc=$?
  if [ $rc = 2 ] && grep -q -- "--threads" "$T/err" && [ ! -e "$T/d" ]; then echo "ok   --threads $bad: exit 2"; else
    echo "FAIL --threads $bad: exit $rc"; cat "$T/err"; fail=1; fi
done
exit $fail
