#!/usr/bin/env bash
# check_data_traces.sh BUILD ALLOCSIM SRC - the bundled real traces in data/
# are readable by this build, whole (not truncated), from the program they
# claim, with no records lost, each at most 5 MB and 20 MB together.
# A format change that breaks them fails here: re-record with data/record.sh.
set -euo pipefail
allocsim=$2 src=$3
total=0
for spec in redis:redis-server sqlite:sqlite3 python:python3; do
  name=${spec%%:*} prog=${spec#*:}
  f=$src/data/$name.ast
  [[ -r $f ]] || { echo "missing $f"; exit 1; }
  info=$("$allocsim" info "$f")
  grep -q "program = .*$prog" <<<"$info" || { echo "$f: program is not $prog"; exit 1; }
  grep -q "record.seq_gaps = 0" <<<"$info" || { echo "$f: records were lost"; exit 1; }
  grep -q "exit_status = exit 0" <<<"$info" || { echo "$f: program did not exit 0"; exit 1; }
  ev=$(awk '/^events/ {print $2; exit}' <<<"$info")
  (( ev > 100000 )) || { echo "$f: only $ev events"; exit 1; }
  n=$(stat -c %s "$f")
  (( n <= 5 * 1024 * 1024 )) || { echo "$f: $n bytes, over 5 MB"; exit 1; }
  total=$((total + n))
  echo "ok: $f: $ev events, $n bytes"
done
(( total <= 20 * 1024 * 1024 )) || { echo "data/: $total bytes, over 20 MB"; exit 1; }
