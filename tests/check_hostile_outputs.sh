#!/usr/bin/env bash
# check_hostile_outputs.sh BUILD ALLOCSIM SRC - outputs onto devices,
# FIFOs, symlinks, directories, inputs and full disks (docs/architecture.md,
# "Output files"). Each case asserts the exit code, the message, and that
# no pre-existing file changed: its type, inode, mode and checksum are
# compared before and after. Device nodes are made with mknod inside a
# temporary directory (never /dev itself); without the privilege to do so
# those cases are skipped with a note.
set -uo pipefail
allocsim=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() {
  echo "FAIL: $*"
  fails=$((fails + 1))
}

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
# $tmp/err) and check its exit code and, when MESSAGE_RE is not empty, that
# stderr matches it.
expect() {
  local name=$1 want=$2 re=$3
  shift 4
  "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  [[ $rc == "$want" ]] || fail "$name: exit $rc, expected $want ($(head -c 300 "$tmp/err"))"
  if [[ -n $re ]] && ! grep -Eq -- "$re" "$tmp/err"; then
    fail "$name: stderr lacks /$re/: $(head -c 300 "$tmp/err")"
  fi
}
# unchanged NAME PATH BEFORE: PATH's snapshot is still BEFORE.
unchanged() {
  local now
  now=$(snap "$2")
  [[ $now == "$3" ]] || fail "$1: $2 changed: '$3' -> '$now'"
}
no_temporaries() {
  local left
  left=$(find "$tmp" -name '*.tmp' | head -3)
  [[ -z $left ]] || fail "$1: temporaries left behind: $left"
}

gen() { "$allocsim" gen server-mix --events 1000 "$@"; }
gen -o "$tmp/ref.ast" || { echo "FAIL: gen"; exit 1; }

# --- character device: written in place, never replaced (01)
if mknod "$tmp/null" c 1 3 2>/dev/null && mknod "$tmp/full" c 1 7 2>/dev/null; then
  chmod 666 "$tmp/null" "$tmp/full"
  b=$(snap "$tmp/null")
  expect "gen -o device" 0 "" -- gen -o "$tmp/null"
  unchanged "gen -o device" "$tmp/null" "$b"
  ln -s "$tmp/null" "$tmp/link-null"
  bl=$(snap "$tmp/link-null")
  expect "gen -o symlink to device" 0 "" -- gen -o "$tmp/link-null"
  unchanged "gen -o symlink to device" "$tmp/link-null" "$bl"
  unchanged "gen -o symlink to device" "$tmp/null" "$b"
  # a full disk: the write fails, exit 1, the device is still a device
  bf=$(snap "$tmp/full")
  expect "gen -o full device" 1 "No space left on device" -- gen -o "$tmp/full"
  unchanged "gen -o full device" "$tmp/full" "$bf"
  # standard output onto a full disk, in every command that prints (15)
  "$allocsim" gen server-mix --events 1000 -o "$tmp/s.ast"
  for cmd in "info $tmp/s.ast" "info --json $tmp/s.ast" "cat $tmp/s.ast" \
    "--help" "--version" "gen --help" "info --help" "run --help" \
    "cat --help" "import --help" "record --help"; do
    # shellcheck disable=SC2086
    "$allocsim" $cmd >"$tmp/full" 2>"$tmp/err"
    rc=$?
    [[ $rc == 1 ]] || fail "allocsim $cmd > full: exit $rc, expected 1"
    grep -q "standard output: No space left on device" "$tmp/err" ||
      fail "allocsim $cmd > full: no message: $(cat "$tmp/err")"
  done
  unchanged "stdout > full" "$tmp/full" "$bf"
  rm -f "$tmp/s.ast"
else
  echo "note: mknod not permitted here: device cases skipped"
fi

# --- symlinks are followed: the link stays, its target gets the output
gen --seed 7 -o "$tmp/target.ast"
ln -s target.ast "$tmp/link.ast"
bl=$(snap "$tmp/link.ast")
ino=$(stat -c %i "$tmp/target.ast")
expect "gen -o symlink" 0 "" -- gen -o "$tmp/link.ast"
unchanged "gen -o symlink" "$tmp/link.ast" "$bl"
cmp -s "$tmp/ref.ast" "$tmp/target.ast" || fail "gen -o symlink: target lacks the new trace"
[[ $(stat -c %i "$tmp/target.ast") != "$ino" ]] ||
  fail "gen -o symlink: target rewritten in place (expected a renamed temporary)"
# a chain of two links, and a dangling link (its target is created)
ln -s link.ast "$tmp/link2.ast"
expect "gen -o link chain" 0 "" -- gen -o "$tmp/link2.ast"
[[ -L $tmp/link2.ast && -L $tmp/link.ast ]] || fail "gen -o link chain: a link was replaced"
ln -s new.ast "$tmp/dangling.ast"
expect "gen -o dangling link" 0 "" -- gen -o "$tmp/dangling.ast"
[[ -L $tmp/dangling.ast ]] || fail "gen -o dangling link: the link was replaced"
cmp -s "$tmp/ref.ast" "$tmp/new.ast" || fail "gen -o dangling link: target not created"
ln -s loop1 "$tmp/loop2"
ln -s loop2 "$tmp/loop1"
expect "gen -o link loop" 2 "too many levels of symbolic links" -- gen -o "$tmp/loop1"
# permission bits of a replaced file are kept
chmod 640 "$tmp/target.ast"
gen --seed 3 -o "$tmp/target.ast"
[[ $(stat -c %a "$tmp/target.ast") == 640 ]] || fail "gen: mode 640 of the replaced file not kept"

# --- FIFO: written in place (a reader gets the trace), still a FIFO
mkfifo "$tmp/fifo"
bq=$(snap "$tmp/fifo")
timeout 10 cat "$tmp/fifo" >"$tmp/from-fifo" &
reader=$!
expect "gen -o fifo" 0 "" -- gen -o "$tmp/fifo"
wait "$reader"
cmp -s "$tmp/ref.ast" "$tmp/from-fifo" || fail "gen -o fifo: the reader did not get the trace"
unchanged "gen -o fifo" "$tmp/fifo" "$bq"

# --- refused: a directory (its contents untouched)
mkdir "$tmp/dir"
echo keep >"$tmp/dir/file"
bd=$(snap "$tmp/dir")
bdf=$(snap "$tmp/dir/file")
expect "gen -o directory" 2 "a directory" -- gen -o "$tmp/dir"
unchanged "gen -o directory" "$tmp/dir" "$bd"
unchanged "gen -o directory" "$tmp/dir/file" "$bdf"

# --- a failing command never replaces an earlier good output
printf 'a 0 0 0 0 100 0 0\nf 1 0 0 7\n' >"$tmp/bad.txt"
cp "$tmp/ref.ast" "$tmp/good.ast"
bg=$(snap "$tmp/good.ast")
expect "import bad input onto a good trace" 2 "bad.txt" -- \
  "$allocsim" import --format text "$tmp/bad.txt" -o "$tmp/good.ast"
unchanged "import bad input onto a good trace" "$tmp/good.ast" "$bg"

# --- an output that is the command's input is refused (18)
"$allocsim" cat "$tmp/ref.ast" >"$tmp/in.txt"
bi=$(snap "$tmp/in.txt")
expect "import -o its input" 2 "is the input" -- \
  "$allocsim" import --format text "$tmp/in.txt" -o "$tmp/in.txt"
unchanged "import -o its input" "$tmp/in.txt" "$bi"
ln -s in.txt "$tmp/in-link.txt"
expect "import -o a symlink to its input" 2 "is the input" -- \
  "$allocsim" import --format text "$tmp/in.txt" -o "$tmp/in-link.txt"
ln "$tmp/in.txt" "$tmp/in-hard.txt"
expect "import -o a hard link of its input" 2 "is the input" -- \
  "$allocsim" import --format text "$tmp/in-hard.txt" -o "$tmp/in.txt"
unchanged "import -o its input (links)" "$tmp/in.txt" "$bi"
# run: an output directory holding the input trace
mkdir "$tmp/runs"
cp "$tmp/ref.ast" "$tmp/runs/t.ast"
br=$(snap "$tmp/runs/t.ast")
expect "run -o the directory of its input" 2 "holds the input" -- \
  "$allocsim" run --policy bestfit -q "$tmp/runs/t.ast" -o "$tmp/runs"
expect "run -o an ancestor of its input" 2 "holds the input" -- \
  "$allocsim" run --policy bestfit -q "$tmp/runs/t.ast" -o "$tmp"
expect "run --predictor-save onto its input" 2 "is the input" -- \
  "$allocsim" run --policy bestfit --predictor cached:site -q "$tmp/runs/t.ast" \
  -o "$tmp/out-run" --predictor-save "$tmp/runs/t.ast"
mkdir -p "$tmp/demo/bestfit"
cp "$tmp/ref.ast" "$tmp/demo/bestfit/t.ast"
bdm=$(snap "$tmp/demo/bestfit/t.ast")
expect "demo -o a directory whose policy subdirectory holds its input" 2 \
  "holds the input" -- "$allocsim" demo --trace "$tmp/demo/bestfit/t.ast" -o "$tmp/demo"
unchanged "demo -o ... holds its input" "$tmp/demo/bestfit/t.ast" "$bdm"
[[ ! -e $tmp/out-run && ! -e $tmp/demo/compare.csv ]] || fail "refused runs wrote outputs"
unchanged "run -o the directory of its input" "$tmp/runs/t.ast" "$br"
[[ $(ls "$tmp/runs") == t.ast ]] || fail "run -o its input's directory: wrote $(ls "$tmp/runs")"

# --- broken pipe: silent (default SIGPIPE: 141; SIGPIPE ignored: exit 1)
"$allocsim" gen server-mix --events 200000 -o "$tmp/big.ast"
"$allocsim" cat "$tmp/big.ast" 2>"$tmp/err" | head -1 >/dev/null
rc=${PIPESTATUS[0]}
[[ $rc == 141 ]] || fail "cat | head: exit $rc, expected 141 (SIGPIPE)"
[[ ! -s $tmp/err ]] || fail "cat | head: printed $(cat "$tmp/err")"
(
  trap '' PIPE
  "$allocsim" cat "$tmp/big.ast" 2>"$tmp/err" | head -1 >/dev/null
  exit "${PIPESTATUS[0]}"
)
rc=$?
[[ $rc == 1 ]] || fail "cat | head with SIGPIPE ignored: exit $rc, expected 1"
[[ ! -s $tmp/err ]] || fail "cat | head with SIGPIPE ignored: printed $(cat "$tmp/err")"

no_temporaries "all cases"
if ((fails)); then
  echo "$fails failure(s)"
  exit 1
fi
echo "ok: outputs onto devices, FIFOs, symlinks, directories, inputs, full disks"
