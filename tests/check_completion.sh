#!/usr/bin/env bash
# check_completion.sh BUILD ALLOCSIM SRC - the bash completion
# (docs/completion/allocsim.bash) offers real candidates: subcommands,
# options from each --help, policy, predictor, workload and format names and
# --param NAME.KEY= names, all read from the binary; and `allocsim --list`
# agrees with what `allocsim run --help` documents.
set -u
. "$(dirname "$0")/checklib.sh"

# shellcheck source=/dev/null
source "$S/docs/completion/allocsim.bash" || { echo "FAIL: source"; exit 1; }
spec=$(complete -p allocsim 2>&1)
if [[ $spec == *"-F _allocsim"*allocsim ]]; then echo "ok   complete -p: $spec"; else
  echo "FAIL complete -p allocsim: $spec"; fail=1; fi

# comp LINE: run the completion function as bash would with the cursor at
# the end of LINE (COMP_WORDS split at readline's word breaks); prints the
# candidates, sorted, one a line.
comp() {
  local line=$1
  COMP_LINE=$line
  COMP_POINT=${#line}
  read -r -a COMP_WORDS <<<"$line"
  [[ $line == *" " ]] && COMP_WORDS+=("")
  COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
  COMPREPLY=()
  _allocsim allocsim "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]:-}"
  printf '%s\n' "${COMPREPLY[@]}" | sort
}
# expect NAME LINE WANT...: the candidates for LINE are exactly WANT.
expect() {
  local name=$1 line=$2
  shift 2
  local got want
  got=$(comp "$A $line" | tr '\n' ' ')
  want=$(printf '%s\n' "$@" | sort | tr '\n' ' ')
  if [[ $got == "$want" ]]; then echo "ok   $name: $line -> $got"; else
    echo "FAIL $name: '$line' gave '$got', wanted '$want'"; fail=1; fi
}
# expect_has NAME LINE WANT...: every WANT is among the candidates, and every
# candidate extends the word being completed (PREFIX, the last argument).
expect_has() {
  local name=$1 line=$2 prefix=$3
  shift 3
  local got w c
  got=$(comp "$A $line")
  for w in "$@"; do
    grep -qxF -e "$w" <<<"$got" || { echo "FAIL $name: '$line' lacks '$w': $got" | tr '\n' ' '; echo; fail=1; return; }
  done
  while read -r c; do
    [[ $c == "$prefix"* ]] || { echo "FAIL $name: '$line' offers '$c'"; fail=1; return; }
  done <<<"$got"
  echo "ok   $name: $line -> $(wc -l <<<"$got") candidates"
}

expect_has "subcommands" "" "" record import gen info cat run demo
expect_has "subcommands r" "r" "r" record run
expect "top-level options" "--v" --version
expect_has "run options" "run --" "--" --policy --predictor --param --thp --output --quiet
expect "run option --th" "run --th" --thp --thread-cache --threads
expect "policy" "run --policy b" bestfit
expect "policy =" "run --policy=ll" llama
expect_has "policies" "run --policy " "" bestfit hoard llama tcmalloc
expect "demo policy" "demo -p tc" tcmalloc
expect_has "predictors" "run --predictor " "" none oracle site cached
expect "wrapped predictor" "run --predictor cached:si" site sitetab
expect "shadow predictor" "run --shadow-predictor or" oracle
expect "param policy" "run --param bestfit.gr" bestfit.grow_bytes=
expect "param llama" "run -P llama.block" llama.block_size=
expect "param predictor" "run --param site.cap" site.capacity=
expect "param os" "run --param os.max" os.max_ptes_none=
expect "param =" "run --param=cached.cap" cached.capacity=
expect_has "params" "run --param tcmalloc.s" "tcmalloc.s" tcmalloc.subrelease= tcmalloc.separate_dense=
expect "thp" "run --thp m" madvise
expect "thread-cache" "run --thread-cache o" off on
expect_has "workloads" "gen " "" server-mix producer-consumer larson
expect "gen param" "gen server-mix --param server-mix.work" server-mix.workers=
expect "import format" "import --format h" heaptrack
expect "record unwind" "record --unwind l" libunwind
expect_has "record command" "record -o t.ast -- bas" "bas" bash
(cd "$T" && touch trace-one.ast trace-two.ast && mkdir outdir)
(cd "$T" && expect "file argument" "info trace-t" trace-two.ast) || fail=1
(cd "$T" && expect "run -o directory" "run -p bestfit t.ast -o out" outdir) || fail=1

# The lists the completion reads are the ones the subcommands document.
"$A" run --help >"$T/help"
for p in $("$A" --list policies) $("$A" --list predictors); do
  grep -qE "(^|[[:space:]])$p([[:space:]]|$)" "$T/help" || { echo "FAIL: --list names '$p', run --help does not"; fail=1; }
done
for k in $("$A" --list params); do
  grep -qE "(^|[^a-z0-9_.-])${k//./\\.}([^a-z0-9_]|$)" "$T/help" || { echo "FAIL: --list params names '$k', run --help does not"; fail=1; }
done
n=$("$A" --list params | wc -l)
[[ $n -gt 50 ]] || { echo "FAIL: only $n parameters listed"; fail=1; }
echo "ok   --list agrees with run --help ($n parameters)"
"$A" --list nothing >/dev/null 2>"$T/err"
rc=$?
if [[ $rc == 2 ]] && grep -q "expected one of: commands" "$T/err"; then echo "ok   --list nothing: exit 2"; else
  echo "FAIL --list nothing: exit $rc: $(cat "$T/err")"; fail=1; fi
exit $fail
