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
build=$(realpath "$1")
allocsim=$2
rec=$build/traces/record/liballocsim_record.so
touchlib=$build/bench/libfidelity_touch.so
lib=$build/malloc/liballocsim_malloc.so
if [[ ! -r $rec || ! -r $touchlib ]] || ! command -v sqlite3 >/dev/null; then
  echo "skipped: the recorder, libfidelity_touch.so or sqlite3 is missing"
  exit 77
fi
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
fail=0
ok() { echo "ok   $*"; }
bad() {
  echo "FAIL $*"
  fail=1
}

cat >"$tmp/work.sql" <<'SQL'
CREATE TABLE item(id INTEGER PRIMARY KEY, name TEXT, qty INTEGER, note TEXT);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000)
INSERT INTO item SELECT i, 'item-' || i, i % 97, printf('%.*c', 16 + i % 64, 'x') FROM n;
CREATE INDEX item_qty ON item(qty);
SELECT qty, count(*), sum(length(note)) FROM item GROUP BY qty ORDER BY 3 DESC LIMIT 3;
DELETE FROM item WHERE id % 3 = 0;
SELECT count(*), sum(qty) FROM item;
VACUUM;
SQL
rm -f "$tmp/plain.db"
sqlite3 "$tmp/plain.db" ".read $tmp/work.sql" >"$tmp/plain.out" 2>&1 ||
  { echo "FAIL sqlite3 alone: $(cat "$tmp/plain.out")"; exit 1; }

# stack NAME PRELOAD [ENV...]: record sqlite3 with PRELOAD behind the recorder
stack() {
  local name=$1 pre=$2
  shift 2
  local d=$tmp/$name
  mkdir -p "$d"
  env "$@" LD_PRELOAD="$pre" "$allocsim" record -q -o "$d/t.ast" -- \
    sqlite3 "$d/w.db" ".read $tmp/work.sql" >"$d/out" 2>"$d/err"
  local rc=$?
  if [[ $rc == 0 && ! -s $d/err ]]; then ok "$name: sqlite3 exit 0, no message"; else
    bad "$name: sqlite3 exit $rc: $(head -c 300 "$d/err")"
    return
  fi
  if cmp -s "$d/out" "$tmp/plain.out"; then ok "$name: output as without preload"; else
    bad "$name: output differs: $(diff "$tmp/plain.out" "$d/out" | head -4)"
  fi
  local info lost allocs
  info=$("$allocsim" info "$d/t.ast" 2>&1)
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
  cat >"$tmp/dlerr.c" <<'C'
#include <dlfcn.h>
#include <stdio.h>
int main(void)
{
    const char *e = dlerror();
    printf("%s\n", e ? e : "(null)");
    return 0;
}
C
  if "$cc" -o "$tmp/dlerr" "$tmp/dlerr.c" -ldl 2>"$tmp/cc.err"; then
    out=$("$allocsim" record -q -o "$tmp/d.ast" -- "$tmp/dlerr")
    if [[ $out == "(null)" ]]; then ok "dlerror() at main is NULL"; else
      bad "dlerror() at main under the recorder: '$out'"
    fi
  else
    bad "cannot compile the dlerror program: $(cat "$tmp/cc.err")"
  fi
else
  echo "note: no C compiler; the dlerror check skipped"
fi
exit $fail
