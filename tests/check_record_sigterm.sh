#!/usr/bin/env bash
# check_record_sigterm.sh BUILD ALLOCSIM SRC - a program killed by SIGTERM
# while recorded leaves a trace that `allocsim info` reads: record_target
# allocates 1000 objects, says "ready PID", and is killed mid-run.
# Skipped (exit 0, with a note) when the recorder is not built.
set -euo pipefail
build=$1 allocsim=$2
lib=$build/traces/record/liballocsim_record.so
target=$build/traces/record/record_target
if [[ ! -r $lib || ! -x $target ]]; then
  echo "recorder not built (ALLOCSIM_RECORDER=OFF): skipped"
  exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkfifo "$tmp/out"
"$allocsim" record -o "$tmp/t.ast" -- "$target" sigterm >"$tmp/out" 2>"$tmp/err" &
rec=$!
read -r word pid <"$tmp/out"
[[ $word == ready ]] || { echo "expected 'ready PID', got '$word $pid'"; exit 1; }
kill -TERM "$pid"
set +e
wait "$rec"
rc=$?
set -e
[[ $rc == 143 ]] || { echo "expected exit 143 (128+SIGTERM), got $rc"; cat "$tmp/err"; exit 1; }
"$allocsim" info "$tmp/t.ast" >"$tmp/info"
grep -q 'exit_status' "$tmp/info" || { echo "info lacks exit_status:"; cat "$tmp/info"; exit 1; }
grep -q 'signal 15' "$tmp/info" || { echo "info lacks 'signal 15':"; cat "$tmp/info"; exit 1; }
echo "ok: killed recording read by allocsim info"
