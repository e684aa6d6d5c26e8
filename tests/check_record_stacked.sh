#!/usr/bin/env bash
# check_record_stacked.sh BUILD ALLOCSIM SRC - the recorder in front of a
# second LD_PRELOAD malloc interposer, on a real program.
#
# `allocsim record` puts liballocsim_record.so in front of the LD_PRELOAD it
# inherits. Behind it here is bench/fidelity's libfidelity_touch.so, which
# (like most malloc wrappers) finds its next malloc and realloc lazily with
# dlsym(RTLD_NEXT) on its first call. Until the recorder stopped looking up
# __cxa_demangle with a dlsym that fails in a C program, sqlite3 aborted in
# this stack: the failed lookup left a dlerror message pending, sqlite3's
# first realloc made the touch library call dlsym, glibc's _dlerror_run
# freed the message through the recorder, whose first event on the thread
# made a ring (pthread_getattr_np reallocs), the realloc reached the touch
# library's still unresolved realloc, and the nested dlsym freed the same
# message again ("free(): double free detected in tcache 2" over glibc,
# "free(): invalid pointer" over liballocsim_malloc.so).
#
# Asserts, for the stacks recorder+touch over glibc's malloc and
# recorder+touch over liballocsim_malloc.so (policy bestfit, which checks
# every free against its own blocks): sqlite3 exits 0 with nothing on
# stderr and prints exactly what it prints without any preload; the trace is
# whole (record.lost_records = 0) and holds allocations. And, on a C program
# compiled here: dlerror() at the start of main returns NULL under the
# recorder (the old recorder left "undefined symbol: __cxa_demangle" there).
# Exit 77 where sqlite3, the recorder or the touch library is missing.
set -uo pipefail
. "$(dirname "$0")/checklib.sh"
touchlib=$B/bench/libfidelity_touch.so
lib=$B/malloc/liballocsim_malloc.so
skip_unless_recorder "$touchlib"
command -v sqlite3 >/dev/null || { echo "skipped: sqlite3 is not installed"; exit 77; }

bash "$S/data/sqlite_workload.sh" 3000 --plain-notes --top 3 --no-update \
  --no-join --sort none >"$T/work.sql" || exit 1
rm -f "$T/plain.db"
sqlite3 "$T/plain.db" ".read $T/work.sql" >"$T/plain.out" 2>&1 ||
  { echo "FAIL sqlite3 alone: $(cat "$T/plain.out")"; exit 1; }

# stack NAME PRELOAD [ENV...]: record sqlite3 with PRELOAD behind the recorder
stack() {
  local name=$1 pre=$2
  shift 2
  local d=$T/$name
  mkdir -p "$d"
  env "$@" LD_PRELOAD="$pre" "$A" record -q -o "$d/t.ast" -- \
    sqlite3 "$d/w.db" ".read $T/work.sql" >"$d/out" 2>"$d/err"
  local rc=$?
  if [[ $rc == 0 && ! -s $d/err ]]; then ok "$name: sqlite3 exit 0, no message"; else
    bad "$name: sqlite3 exit $rc: $(head -c 300 "$d/err")"
    return
  fi
  if cmp -s "$d/out" "$T/plain.out"; then ok "$name: output as without preload"; else
    bad "$name: output differs: $(diff "$T/plain.out" "$d/out" | head -4)"
  fi
  local info lost allocs
  info=$("$A" info "$d/t.ast" 2>&1)
  lost=$(awk '$3 == "record.lost_records" {print $5}' <<<"$info")
  allocs=$(awk '$1 == "events" {sub(/\(/, "", $3); print $3}' <<<"$info")
  if [[ $lost == 0 ]]; then ok "$name: record.lost_records = 0"; else
    bad "$name: record.lost_records = '$lost'"
  fi
  if [[ ${allocs:-0} -gt 1000 ]]; then ok "$name: $allocs allocations"; else
    bad "$name: allocations '$allocs' (info: $(head -c 300 <<<"$info"))"
  fi
}

stack touch-glibc "$touchlib"
if [[ -r $lib ]]; then
  stack touch-allocsim "$touchlib:$lib" ALLOCSIM_POLICY=bestfit
else
  echo "note: liballocsim_malloc.so not built here; its stack skipped"
fi

# dlerror() is the program's: nothing the recorder looked up is pending.
cc=$(command -v cc || command -v gcc || true)
if [[ -n $cc ]]; then
  cat >"$T/dlerr.c" <<'C'
#include <dlfcn.h>
#include <stdio.h>
int main(void)
{
    const char *e = dlerror();
    printf("%s\n", e ? e : "(null)");
    return 0;
}
C
  if "$cc" -o "$T/dlerr" "$T/dlerr.c" -ldl 2>"$T/cc.err"; then
    out=$("$A" record -q -o "$T/d.ast" -- "$T/dlerr")
    if [[ $out == "(null)" ]]; then ok "dlerror() at main is NULL"; else
      bad "dlerror() at main under the recorder: '$out'"
    fi
  else
    bad "cannot compile the dlerror program: $(cat "$T/cc.err")"
  fi
else
  echo "note: no C compiler; the dlerror check skipped"
fi
exit $fail
