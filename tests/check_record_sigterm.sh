#!/usr/bin/env bash
# check_record_sigterm.sh BUILD ALLOCSIM SRC - a program killed by SIGTERM
# while recorded leaves a trace that `allocsim info` reads: record_target
# allocates 1000 objects, says "ready PID", and is killed mid-run.
# Skipped (exit 0, with a note) when the recorder is not built.
set -euo pipefail
. "$(dirname "$0")/checklib.sh"
target=$B/traces/record/record_target
skip_unless_recorder "$target"
mkfifo "$T/out"
"$A" record -o "$T/t.ast" -- "$target" sigterm >"$T/out" 2>"$T/err" &
rec=$!
read -r word pid <"$T/out"
[[ $word == ready ]] || { echo "expected 'ready PID', got '$word $pid'"; exit 1; }
kill -TERM "$pid"
set +e
wait "$rec"
rc=$?
set -e
[[ $rc == 143 ]] || { echo "expected exit 143 (128+SIGTERM), got $rc"; cat "$T/err"; exit 1; }
"$A" info "$T/t.ast" >"$T/info"
grep -q 'exit_status' "$T/info" || { echo "info lacks exit_status:"; cat "$T/info"; exit 1; }
grep -q 'signal 15' "$T/info" || { echo "info lacks 'signal 15':"; cat "$T/info"; exit 1; }
echo "ok: killed recording read by allocsim info"
