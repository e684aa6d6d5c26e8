#!/usr/bin/env bash
# check_hostile_record.sh BUILD ALLOCSIM SRC - `allocsim record` against
# awkward programs and careless commands (docs/recording.md): -o is never
# truncated or removed unless a trace replaces it, -o naming the program or
# an input is refused, programs the recorder cannot enter are refused or
# reported (never an empty trace with exit 0), a program that closes every
# descriptor keeps its whole trace, and one that dies by abort() or SIGSEGV
# keeps every event, with the lost-record count and the end in the trace.
# Each case asserts the exit code, the message, and the files' checksums.
# Skipped (exit 0, with a note) when the recorder is not built.
set -uo pipefail
. "$(dirname "$0")/checklib.sh"
target=$(realpath "$B/traces/record/record_target" 2>/dev/null)
skip_unless_recorder "$target"
lib=$(realpath "$REC_LIB")
CC=${CC:-cc}
cd "$T" || exit 1
sum() { if [[ -e $1 ]]; then stat -c '%i %s' "$1" | tr '\n' ' '; sha256sum <"$1" | cut -c1-16; else echo absent; fi; }
expect() { # NAME RC MESSAGE_RE -- CMD...
  local name=$1 want=$2 re=$3
  shift 4
  "$@" >out 2>err
  local rc=$?
  [[ $rc == "$want" ]] || bad "$name: exit $rc, expected $want ($(head -c 400 err))"
  if [[ -n $re ]] && ! grep -Eq -- "$re" err; then
    bad "$name: stderr lacks /$re/: $(head -c 400 err)"
  fi
}
unchanged() { [[ $(sum "$2") == "$3" ]] || bad "$1: $2 changed"; }
# count TRACE SIZE: allocations of SIZE bytes in TRACE
count() { "$A" cat "$1" | awk -v s="$2" '$1 == "a" && $6 == s { n++ } END { print n + 0 }'; }
meta() { "$A" info "$1" | sed -n "s/^meta.* $2 = //p" | tail -1; }
rec() { "$A" record "$@"; }

"$A" gen server-mix --events 1000 -o keep.ast
bk=$(sum keep.ast)

# --- 02: a command that cannot start leaves -o as it was
expect "record -o existing -- missing command" 127 "No such file" -- \
  rec -o keep.ast -- /nonexistent/cmd
unchanged "missing command" keep.ast "$bk"

# --- 02/18: -o naming the program, through a symlink or a hard link, or a
# file named in the command, is refused before anything runs
cp /bin/true prog
bp=$(sum prog)
expect "record -o the program" 2 "is the input" -- rec -o prog -- ./prog
ln -s prog prog-link
expect "record -o a symlink to the program" 2 "is the input" -- rec -o prog-link -- ./prog
ln prog prog-hard
expect "record -o a hard link of the program" 2 "is the input" -- rec -o prog-hard -- ./prog
unchanged "record -o the program" prog "$bp"
PATH="$T:$PATH" expect "record -o the program found in PATH" 2 "is the input" -- \
  rec -o "$T/prog" -- prog
unchanged "record -o the program (PATH)" prog "$bp"
echo data >data.txt
bd=$(sum data.txt)
expect "record -o an argument" 2 "is the input" -- rec -o data.txt -- cat data.txt
unchanged "record -o an argument" data.txt "$bd"
cp "$lib" mylib.so
bl=$(sum mylib.so)
expect "record -o the preload library" 2 "is the input" -- \
  rec --preload mylib.so -o mylib.so -- ./prog
unchanged "record -o the preload library" mylib.so "$bl"

# --- 10: what LD_PRELOAD cannot record is refused or reported
cat >closefds.c <<'C'
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
int main(void)
{
    for (int i = 0; i < 1000; i++) free(malloc(1111));
    for (int fd = 3; fd < 1024; fd++) close(fd);
    int f = open("victim.txt", O_CREAT | O_WRONLY | O_TRUNC, 0644);
    for (int i = 0; i < 1000; i++) free(malloc(1112));
    if (write(f, "ok\n", 3) != 3) return 1;
    return 0;
}
C
$CC -O0 -fno-builtin-malloc -fno-builtin-free -o closefds closefds.c || bad "cc closefds"
cp /etc/passwd notlib.so
expect "record --preload a non-library" 2 "not a shared library" -- \
  rec --preload notlib.so -o keep.ast -- ./closefds
unchanged "record --preload a non-library" keep.ast "$bk"
libm=$($CC -print-file-name=libm.so.6)
if [[ -r $libm ]]; then # a real library that is not the recorder
  expect "record --preload libm" 1 "recorder never started" -- \
    rec --preload "$libm" -o keep.ast -- ./closefds
  unchanged "record --preload libm" keep.ast "$bk"
else
  echo "note: no libm.so.6 found: the never-started case skipped"
fi
if $CC -static -O0 -fno-builtin-malloc -fno-builtin-free -o static_prog closefds.c 2>/dev/null; then
  expect "record a static program" 2 "statically linked" -- rec -o keep.ast -- ./static_prog
  unchanged "record a static program" keep.ast "$bk"
  # a dynamic program that execs a static one: reported, exit 1
  expect "record an exec into a static program" 1 "could not enter" -- \
    rec -o exec.ast -- /bin/sh -c 'exec ./static_prog'
  [[ $(meta exec.ast record.end) == exec ]] || bad "exec into static: record.end = '$(meta exec.ast record.end)'"
  if $CC -static-pie -O0 -o static_pie closefds.c 2>/dev/null; then # ET_DYN, no interpreter
    expect "record a static-pie program" 2 "statically linked" -- rec -o keep.ast -- ./static_pie
    unchanged "record a static-pie program" keep.ast "$bk"
  fi
else
  echo "note: no static libc (libc6-dev's libc.a): static-program cases skipped"
fi

# --- 10: closing every descriptor keeps the whole trace
rm -f victim.txt
expect "record a program closing every descriptor" 0 "" -- rec -o c.ast -- ./closefds
[[ $(count c.ast 1111) == 1000 ]] || bad "closefds: $(count c.ast 1111) of 1000 allocations before the close"
[[ $(count c.ast 1112) == 1000 ]] || bad "closefds: $(count c.ast 1112) of 1000 allocations after the close"
[[ $(cat victim.txt 2>/dev/null) == ok ]] || bad "closefds: the program's own file got '$(cat victim.txt 2>/dev/null)'"
[[ $(meta c.ast record.kept_closes) == 1 ]] || bad "closefds: record.kept_closes = '$(meta c.ast record.kept_closes)'"
[[ $(meta c.ast record.lost_records) == 0 ]] || bad "closefds: record.lost_records = '$(meta c.ast record.lost_records)'"
# closefrom, and dup2 onto the recorder's number (the socket moves away)
expect "record closefrom(3)" 0 "" -- rec -o cf.ast -- "$target" closefrom
[[ $(count cf.ast 9191):$(count cf.ast 9292) == 1:10 ]] ||
  bad "closefrom: $(count cf.ast 9191) of 1 before, $(count cf.ast 9292) of 10 after"
[[ $(meta cf.ast record.kept_closes) == 1 ]] || bad "closefrom: record.kept_closes = '$(meta cf.ast record.kept_closes)'"
expect "record dup2 onto the recorder's number" 0 "" -- rec -o dup.ast -- "$target" dup2
[[ $(count dup.ast 8181):$(count dup.ast 8282) == 1:10 ]] ||
  bad "dup2: $(count dup.ast 8181) of 1 before, $(count dup.ast 8282) of 10 after"
[[ $(meta dup.ast record.end) == exit ]] || bad "dup2: record.end = '$(meta dup.ast record.end)'"
# a close no hook sees (raw syscall): the recording is cut off, reported
expect "record a raw close_range" 1 "cut off" -- rec -o raw.ast -- "$target" rawclose
[[ $(count raw.ast 7171) == 1 ]] || bad "rawclose: the object shipped before the close is missing"
[[ $(meta raw.ast record.end) == "cut off" ]] || bad "rawclose: record.end = '$(meta raw.ast record.end)'"

# --- 11: abort() and SIGSEGV keep every record, and the trace says so
for m in abort:134:6 segv:139:11; do
  IFS=: read -r mode rc sig <<<"$m"
  expect "record a program dying by $mode" "$rc" "signal $sig" -- rec -o "$mode.ast" -- "$target" "$mode"
  [[ $(count "$mode.ast" 4244) == 50000 ]] || bad "$mode: $(count "$mode.ast" 4244) of 50000 allocations of 4244"
  [[ $(count "$mode.ast" 4245) == 100 ]] || bad "$mode: $(count "$mode.ast" 4245) of 100 allocations of 4245"
  [[ $(meta "$mode.ast" record.lost_records) == 0 ]] || bad "$mode: record.lost_records = '$(meta "$mode.ast" record.lost_records)'"
  [[ $(meta "$mode.ast" record.end) == "signal $sig" ]] || bad "$mode: record.end = '$(meta "$mode.ast" record.end)'"
done

if ((fail)); then
  echo "failed (the FAIL lines above)"
  exit 1
fi
echo "ok: record keeps -o, refuses what it cannot record, keeps crash and close tails"
