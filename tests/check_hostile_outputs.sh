#!/usr/bin/env bash
# check_hostile_outputs.sh BUILD ALLOCSIM SRC - outputs onto devices,
# FIFOs, symlinks, directories, inputs and full disks (docs/architecture.md,
# "Output files"). Each case asserts the exit code, the message, and that
# no pre-existing file changed: its type, inode, mode and checksum are
# compared before and after. Device nodes are made with mknod inside a
# temporary directory (never /dev itself); without the privilege to do so
# those cases are skipped with a note.
set -uo pipefail
. "$(dirname "$0")/checklib.sh"

# snap PATH: type, inode, mode, device numbers, link target and checksum
# of PATH itself (a symlink is described, not followed).
snap() {
  local p=$1
  [[ -e $p || -L $p ]] || { echo absent; return; }
  local s
  s=$(stat -c '%F %i %a %t:%T' -- "$p")
  if [[ -L $p ]]; then
    s+=" -> $(readlink -- "$p")"
  elif [[ -f $p ]]; then
    s+=" $(sha256sum <"$p" | cut -c1-16)"
  fi
  echo "$s"
}
# expect NAME RC_WANTED MESSAGE_RE -- CMD...: run CMD (stderr kept in
# $T/err) and check its exit code and, when MESSAGE_RE is not empty, that
# stderr matches it.
expect() {
  local name=$1 want=$2 re=$3
  shift 4
  "$@" >"$T/out" 2>"$T/err"
  local rc=$?
  [[ $rc == "$want" ]] || bad "$name: exit $rc, expected $want ($(head -c 300 "$T/err"))"
  if [[ -n $re ]] && ! grep -Eq -- "$re" "$T/err"; then
    bad "$name: stderr lacks /$re/: $(head -c 300 "$T/err")"
  fi
}
# unchanged NAME PATH BEFORE: PATH's snapshot is still BEFORE.
unchanged() {
  local now
  now=$(snap "$2")
  [[ $now == "$3" ]] || bad "$1: $2 changed: '$3' -> '$now'"
}
no_temporaries() {
  local left
  left=$(find "$T" -name '*.tmp' | head -3)
  [[ -z $left ]] || bad "$1: temporaries left behind: $left"
}

gen() { "$A" gen server-mix --events 1000 "$@"; }
gen -o "$T/ref.ast" || { echo "FAIL: gen"; exit 1; }

# --- character device: written in place, never replaced (01)
if mknod "$T/null" c 1 3 2>/dev/null && mknod "$T/full" c 1 7 2>/dev/null; then
  chmod 666 "$T/null" "$T/full"
  b=$(snap "$T/null")
  expect "gen -o device" 0 "" -- gen -o "$T/null"
  unchanged "gen -o device" "$T/null" "$b"
  ln -s "$T/null" "$T/link-null"
  bl=$(snap "$T/link-null")
  expect "gen -o symlink to device" 0 "" -- gen -o "$T/link-null"
  unchanged "gen -o symlink to device" "$T/link-null" "$bl"
  unchanged "gen -o symlink to device" "$T/null" "$b"
  # a full disk: the write fails, exit 1, the device is still a device
  bf=$(snap "$T/full")
  expect "gen -o full device" 1 "No space left on device" -- gen -o "$T/full"
  unchanged "gen -o full device" "$T/full" "$bf"
  # standard output onto a full disk, in every command that prints (15)
  "$A" gen server-mix --events 1000 -o "$T/s.ast"
  for cmd in "info $T/s.ast" "info --json $T/s.ast" "cat $T/s.ast" \
    "--help" "--version" "gen --help" "info --help" "run --help" \
    "cat --help" "import --help" "record --help"; do
    # shellcheck disable=SC2086
    "$A" $cmd >"$T/full" 2>"$T/err"
    rc=$?
    [[ $rc == 1 ]] || bad "allocsim $cmd > full: exit $rc, expected 1"
    grep -q "standard output: No space left on device" "$T/err" ||
      bad "allocsim $cmd > full: no message: $(cat "$T/err")"
  done
  unchanged "stdout > full" "$T/full" "$bf"
  rm -f "$T/s.ast"
else
  echo "note: mknod not permitted here: device cases skipped"
fi

# --- symlinks are followed: the link stays, its target gets the output
gen --seed 7 -o "$T/target.ast"
ln -s target.ast "$T/link.ast"
bl=$(snap "$T/link.ast")
ino=$(stat -c %i "$T/target.ast")
expect "gen -o symlink" 0 "" -- gen -o "$T/link.ast"
unchanged "gen -o symlink" "$T/link.ast" "$bl"
cmp -s "$T/ref.ast" "$T/target.ast" || bad "gen -o symlink: target lacks the new trace"
[[ $(stat -c %i "$T/target.ast") != "$ino" ]] ||
  bad "gen -o symlink: target rewritten in place (expected a renamed temporary)"
# a chain of two links, and a dangling link (its target is created)
ln -s link.ast "$T/link2.ast"
expect "gen -o link chain" 0 "" -- gen -o "$T/link2.ast"
[[ -L $T/link2.ast && -L $T/link.ast ]] || bad "gen -o link chain: a link was replaced"
ln -s new.ast "$T/dangling.ast"
expect "gen -o dangling link" 0 "" -- gen -o "$T/dangling.ast"
[[ -L $T/dangling.ast ]] || bad "gen -o dangling link: the link was replaced"
cmp -s "$T/ref.ast" "$T/new.ast" || bad "gen -o dangling link: target not created"
ln -s loop1 "$T/loop2"
ln -s loop2 "$T/loop1"
expect "gen -o link loop" 2 "too many levels of symbolic links" -- gen -o "$T/loop1"
# permission bits of a replaced file are kept
chmod 640 "$T/target.ast"
gen --seed 3 -o "$T/target.ast"
[[ $(stat -c %a "$T/target.ast") == 640 ]] || bad "gen: mode 640 of the replaced file not kept"

# --- FIFO: written in place (a reader gets the trace), still a FIFO
mkfifo "$T/fifo"
bq=$(snap "$T/fifo")
timeout 10 cat "$T/fifo" >"$T/from-fifo" &
reader=$!
expect "gen -o fifo" 0 "" -- gen -o "$T/fifo"
wait "$reader"
cmp -s "$T/ref.ast" "$T/from-fifo" || bad "gen -o fifo: the reader did not get the trace"
unchanged "gen -o fifo" "$T/fifo" "$bq"

# --- refused: a directory (its contents untouched)
mkdir "$T/dir"
echo keep >"$T/dir/file"
bd=$(snap "$T/dir")
bdf=$(snap "$T/dir/file")
expect "gen -o directory" 2 "a directory" -- gen -o "$T/dir"
unchanged "gen -o directory" "$T/dir" "$bd"
unchanged "gen -o directory" "$T/dir/file" "$bdf"

# --- a failing command never replaces an earlier good output
printf 'a 0 0 0 0 100 0 0\nf 1 0 0 7\n' >"$T/bad.txt"
cp "$T/ref.ast" "$T/good.ast"
bg=$(snap "$T/good.ast")
expect "import bad input onto a good trace" 2 "bad.txt" -- \
  "$A" import --format text "$T/bad.txt" -o "$T/good.ast"
unchanged "import bad input onto a good trace" "$T/good.ast" "$bg"

# --- an output that is the command's input is refused (18)
"$A" cat "$T/ref.ast" >"$T/in.txt"
bi=$(snap "$T/in.txt")
expect "import -o its input" 2 "is the input" -- \
  "$A" import --format text "$T/in.txt" -o "$T/in.txt"
unchanged "import -o its input" "$T/in.txt" "$bi"
ln -s in.txt "$T/in-link.txt"
expect "import -o a symlink to its input" 2 "is the input" -- \
  "$A" import --format text "$T/in.txt" -o "$T/in-link.txt"
ln "$T/in.txt" "$T/in-hard.txt"
expect "import -o a hard link of its input" 2 "is the input" -- \
  "$A" import --format text "$T/in-hard.txt" -o "$T/in.txt"
unchanged "import -o its input (links)" "$T/in.txt" "$bi"
# run: an output directory holding the input trace
mkdir "$T/runs"
cp "$T/ref.ast" "$T/runs/t.ast"
br=$(snap "$T/runs/t.ast")
expect "run -o the directory of its input" 2 "holds the input" -- \
  "$A" run --policy bestfit -q "$T/runs/t.ast" -o "$T/runs"
expect "run -o an ancestor of its input" 2 "holds the input" -- \
  "$A" run --policy bestfit -q "$T/runs/t.ast" -o "$T"
expect "run --predictor-save onto its input" 2 "is the input" -- \
  "$A" run --policy bestfit --predictor cached:site -q "$T/runs/t.ast" \
  -o "$T/out-run" --predictor-save "$T/runs/t.ast"
mkdir -p "$T/demo/bestfit"
cp "$T/ref.ast" "$T/demo/bestfit/t.ast"
bdm=$(snap "$T/demo/bestfit/t.ast")
expect "demo -o a directory whose policy subdirectory holds its input" 2 \
  "holds the input" -- "$A" demo --trace "$T/demo/bestfit/t.ast" -o "$T/demo"
unchanged "demo -o ... holds its input" "$T/demo/bestfit/t.ast" "$bdm"
[[ ! -e $T/out-run && ! -e $T/demo/compare.csv ]] || bad "refused runs wrote outputs"
unchanged "run -o the directory of its input" "$T/runs/t.ast" "$br"
[[ $(ls "$T/runs") == t.ast ]] || bad "run -o its input's directory: wrote $(ls "$T/runs")"

# --- broken pipe: silent (default SIGPIPE: 141; SIGPIPE ignored: exit 1)
"$A" gen server-mix --events 200000 -o "$T/big.ast"
"$A" cat "$T/big.ast" 2>"$T/err" | head -1 >/dev/null
rc=${PIPESTATUS[0]}
[[ $rc == 141 ]] || bad "cat | head: exit $rc, expected 141 (SIGPIPE)"
[[ ! -s $T/err ]] || bad "cat | head: printed $(cat "$T/err")"
(
  trap '' PIPE
  "$A" cat "$T/big.ast" 2>"$T/err" | head -1 >/dev/null
  exit "${PIPESTATUS[0]}"
)
rc=$?
[[ $rc == 1 ]] || bad "cat | head with SIGPIPE ignored: exit $rc, expected 1"
[[ ! -s $T/err ]] || bad "cat | head with SIGPIPE ignored: printed $(cat "$T/err")"

no_temporaries "all cases"
if ((fail)); then
  echo "failed (the FAIL lines above)"
  exit 1
fi
echo "ok: outputs onto devices, FIFOs, symlinks, directories, inputs, full disks"
