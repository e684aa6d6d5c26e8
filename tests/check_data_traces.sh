#!/usr/bin/env bash
# check_data_traces.sh BUILD ALLOCSIM SRC - the bundled real traces in data/
# are readable by this build, whole (not truncated), from the program they
# claim, with no records lost, each short one at most 5 MB; the long Redis
# run (redis-long) lasts at least 10 minutes, has memory samples and is at
# most 24 MB; all of data/*.ast at most 30 MB together; and their recipe
# still holds: the Python program and the SQL that data/record.sh takes from
# data/python_workload.py and data/sqlite_workload.sh hash to the texts
# python.ast and sqlite.ast were recorded from (a change to a generator's
# defaults would leave the traces without a recipe).
# A format change that breaks them fails here: re-record with data/record.sh.
set -euo pipefail
allocsim=$2 src=$3
total=0
for spec in redis:redis-server sqlite:sqlite3 python:python3 \
  redis-long:redis-server; do
  name=${spec%%:*} prog=${spec#*:}
  f=$src/data/$name.ast
  [[ -r $f ]] || { echo "missing $f"; exit 1; }
  info=$("$allocsim" info "$f")
  grep -q "program = .*$prog" <<<"$info" || { echo "$f: program is not $prog"; exit 1; }
  grep -q "record.seq_gaps = 0" <<<"$info" || { echo "$f: records were lost"; exit 1; }
  grep -q "exit_status = exit 0" <<<"$info" || { echo "$f: program did not exit 0"; exit 1; }
  ev=$(awk '/^events/ {print $2; exit}' <<<"$info")
  (( ev > 100000 )) || { echo "$f: only $ev events"; exit 1; }
  n=$(stat -c %s "$f") max=5
  if [[ $name == redis-long ]]; then
    max=24
    d=$(awk '/^duration/ {print $2; exit}' <<<"$info")
    (( d >= 600000000000 )) || { echo "$f: lasts $d ns, under 10 minutes"; exit 1; }
    grep -q "^peak real RSS" <<<"$info" || { echo "$f: no memory samples"; exit 1; }
  fi
  (( n <= max * 1024 * 1024 )) || { echo "$f: $n bytes, over $max MB"; exit 1; }
  echo "ok: $f: $ev events, $n bytes"
done
for f in "$src"/data/*.ast; do total=$((total + $(stat -c %s "$f"))); done
(( total <= 30 * 1024 * 1024 )) || { echo "data/: $total bytes, over 30 MB"; exit 1; }
recipe() { # NAME SHA256 COMMAND...: the text COMMAND prints hashes to SHA256
  local name=$1 want=$2 got
  shift 2
  got=$("$@" | sha256sum | cut -d' ' -f1)
  [[ $got == "$want" ]] || { echo "data/$name.ast: its workload text changed ($*: sha256 $got, recorded from $want)"; exit 1; }
  echo "ok: data/$name.ast: workload text as recorded"
}
recipe python 201040578db57835fae2d5d1d3fba47ae39de6800a2b5feb507f32a93673f5d8 \
  python3 "$src/data/python_workload.py" 3000
recipe sqlite 99235ff04e7cb3ff6fa55061cc6529490c9bda72ac8c04f52a1200766615813e \
  bash "$src/data/sqlite_workload.sh" 20000
