#!/usr/bin/env bash
# check_install.sh BUILD ALLOCSIM SRC - `cmake --install` with DESTDIR (what
# `make install DESTDIR=...` runs) puts every file where docs/install.md
# says, and the installed binary, alone on PATH and run from another
# directory, records a real program (python3) with the installed recorder
# and replays the trace. A copy of the binary finds the recorder through
# ALLOCSIM_RECORD_LIB or beside itself, and says so when it cannot.
# Without the recorder in this build (ALLOCSIM_RECORDER=OFF, the sanitizer
# build) the layout is checked and the record/replay part is skipped.
set -u
. "$(dirname "$0")/checklib.sh"

prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$B/CMakeCache.txt")
[[ -n $prefix ]] || { echo "FAIL: no CMAKE_INSTALL_PREFIX in $B/CMakeCache.txt"; exit 1; }
DESTDIR=$T/dest cmake --install "$B" >"$T/install.log" 2>&1 ||
  { echo "FAIL: cmake --install:"; cat "$T/install.log"; exit 1; }
root=$T/dest$prefix
recorder=0
[[ -r $B/traces/record/liballocsim_record.so ]] && recorder=1

# The layout.
want=(bin/allocsim share/doc/allocsim/README.md share/doc/allocsim/LICENSE
  share/doc/allocsim/CITATION.cff share/doc/allocsim/docs/trace-format.md
  share/doc/allocsim/docs/install.md share/bash-completion/completions/allocsim)
[[ $recorder == 1 ]] && want+=(lib/allocsim/liballocsim_record.so)
[[ -r $B/malloc/liballocsim_malloc.so ]] && want+=(lib/allocsim/liballocsim_malloc.so)
[[ -r $B/allocsim.1 ]] && want+=(share/man/man1/allocsim.1)
for f in "${want[@]}"; do
  if [[ -s $root/$f ]]; then ok "installed $f"; else bad "$prefix/$f not installed"; fi
done
[[ -x $root/bin/allocsim ]] || bad "bin/allocsim is not executable"
if [[ -r $root/share/man/man1/allocsim.1 ]]; then
  grep -q '^\.SH NAME' "$root/share/man/man1/allocsim.1" &&
    grep -q '^\.SS allocsim run' "$root/share/man/man1/allocsim.1" &&
    ok "man page has NAME and a section per subcommand" ||
    bad "man page lacks NAME or 'allocsim run'"
fi
(source "$root/share/bash-completion/completions/allocsim" &&
  complete -p allocsim | grep -q -- '-F _allocsim') &&
  ok "installed completion registers _allocsim" || bad "installed completion"

if [[ $recorder == 0 ]]; then
  echo "recorder not built (ALLOCSIM_RECORDER=OFF): record/replay skipped"
  exit $fail
fi

# Record and replay with the installed binary alone on PATH (plus the
# system's), from a directory outside the build and install trees.
mkdir "$T/work"
cd "$T/work" || exit 1
export PATH=$root/bin:/usr/bin:/bin
unset ALLOCSIM_RECORD_LIB
[[ $(command -v allocsim) == "$root/bin/allocsim" ]] || bad "allocsim on PATH is $(command -v allocsim)"
prog=(python3 -c 'x = [bytes(1000) for _ in range(100)]')
if allocsim record -o py.ast -- "${prog[@]}" 2>record.err; then
  ok "installed allocsim records python3"
else
  bad "installed allocsim record: $(cat record.err)"
fi
allocsim info py.ast >info.txt 2>&1 || bad "info: $(cat info.txt)"
allocs=$(sed -n 's/^events *[0-9]* (\([0-9]*\) allocs.*/\1/p' info.txt)
if [[ ${allocs:-0} -ge 100 ]]; then ok "trace has $allocs allocations (>= the program's 100)"; else
  bad "trace has '${allocs:-no}' allocations: $(cat info.txt)"; fi
allocsim run --policy bestfit -q py.ast -o out >run.log 2>&1 || bad "run: $(cat run.log)"
peak=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["metrics"]["peak_live_bytes"])' out/summary.json 2>&1)
if [[ $peak =~ ^[0-9]+$ && $peak -ge 100000 ]]; then ok "replay: summary.json peak_live_bytes $peak (>= 100 x 1000)"; else
  bad "replay: peak_live_bytes '$peak'"; fi

# A copy of the binary outside any tree: no recorder to be found (unless
# one is installed at the configured prefix), then found through
# ALLOCSIM_RECORD_LIB, then found beside the copy.
mkdir "$T/copy"
cp "$root/bin/allocsim" "$T/copy/allocsim"
if [[ ! -e $prefix/lib/allocsim/liballocsim_record.so ]]; then
  "$T/copy/allocsim" record -o c.ast -- true 2>copy.err
  rc=$?
  if [[ $rc == 1 ]] && grep -q 'liballocsim_record.so not found' copy.err; then
    ok "copied binary without a recorder: exit 1, 'not found'"; else
    bad "copied binary without a recorder: exit $rc: $(cat copy.err)"; fi
fi
ALLOCSIM_RECORD_LIB=$root/lib/allocsim/liballocsim_record.so \
  "$T/copy/allocsim" record -o c1.ast -- "${prog[@]}" 2>copy.err &&
  [[ -s c1.ast ]] && ok "copied binary with ALLOCSIM_RECORD_LIB records" ||
  bad "copied binary with ALLOCSIM_RECORD_LIB: $(cat copy.err)"
cp "$root/lib/allocsim/liballocsim_record.so" "$T/copy/"
"$T/copy/allocsim" record -o c2.ast -- "${prog[@]}" 2>copy.err &&
  [[ -s c2.ast ]] && ok "copied binary with the library beside it records" ||
  bad "copied binary with the library beside it: $(cat copy.err)"
exit $fail
