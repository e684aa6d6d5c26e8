#!/usr/bin/env bash
# check_record_symbols.sh BUILD ALLOCSIM SRC - the recorder's symbolizer
# thread names frames exactly as dladdr does. The same Python program
# (fixed hash seed, so the same code runs) is recorded twice: with the
# default symbolizer thread, which answers from its own sorted index of
# each module's dynamic symbols, and with ALLOCSIM_RECORD_SYMBOLIZE=inline,
# which calls glibc's dladdr in the program's thread. The sets of (offset,
# module, symbol) of every frame must be equal, and large (libpython
# exports thousands of symbols, so the index is really exercised). Then
# cc1 (28,000 exported symbols) under --follow-forks through the gcc
# driver: its trace names frames in cc1 by symbol.
# Skipped (exit 77, with a note) when the recorder is not built.
set -euo pipefail
. "$(dirname "$0")/checklib.sh"
skip_unless_recorder
prog='import json, re; print(len(json.dumps([re.sub("a", "b", str(i)) for i in range(3000)])))'
for m in thread inline; do
  PYTHONHASHSEED=0 ALLOCSIM_RECORD_SYMBOLIZE=$m "$A" record -q \
    -o "$T/$m.ast" -- python3 -c "$prog" >/dev/null || die "record ($m) exit $?"
  "$A" cat "$T/$m.ast" | awk '$1 == "frame" && $6 != "-" {print $4, $5, $6}' |
    sort -u >"$T/$m.frames"
done
n=$(wc -l <"$T/thread.frames")
(( n >= 300 )) || die "only $n named frames"
cmp -s "$T/thread.frames" "$T/inline.frames" ||
  die "symbols differ from dladdr's: $(diff "$T/thread.frames" "$T/inline.frames" | head -5)"
grep -q ' .*libpython.* _PyObject_Malloc\| .*python3.* PyObject_Malloc\| .*python3.* _Py' "$T/thread.frames" ||
  die "no Python symbol among the frames"
echo "ok   $n named frames of python3, the same as dladdr's"

printf 'int f(int x) { return x * 3; }\nint main(void) { return f(2); }\n' >"$T/a.c"
"$A" record -q --follow-forks -o "$T/gcc.ast" -- gcc -O1 -c "$T/a.c" -o "$T/a.o" ||
  die "record gcc exit $?"
cc1=
for f in "$T"/gcc.fork*.ast; do
  "$A" info "$f" | grep -q 'record.exec_image = .*/cc1$' && cc1=$f
done
[[ -n $cc1 ]] || die "no trace of cc1 among $(ls "$T")"
k=$("$A" cat "$cc1" | awk '$1 == "frame" && $5 ~ /\/cc1$/ && $6 != "-"' | wc -l)
(( k >= 20 )) || die "only $k named frames in cc1"
echo "ok   gcc -c: cc1 recorded through the driver's posix_spawn, $k of its frames named"
