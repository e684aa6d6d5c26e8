#!/usr/bin/env bash
# check_include_rules.sh BUILD ALLOCSIM SRC - the dependency rules of
# DESIGN.md, enforced on #include "..." lines (docs/architecture.md):
#
#   policies/   may include policies/ and common/ only
#   predictors/ may include predictors/ and common/ only
#   traces/     may include traces/ and common/ only
#   malloc/     may include malloc/, policies/, predictors/ and common/
#   common/     may include common/ only
#   reports/    may include reports/, traces/, common/ and sim/fileio.h
#               (it reads summary files and traces; never the engine)
#
# No exceptions. And no header may include itself through a chain of quoted
# includes (a circular include): the resolved includes of those folders form
# a graph, and tsort(1) must order it.
#
# Every quoted include of every .c/.h under those folders is resolved (first
# beside the including file, then from the source root, as the build's include
# paths do) and its folder compared with the rule; an include that resolves
# nowhere is reported too, so a rule cannot be dodged by a path that only
# works through some -I flag. System includes (<...>) are not checked here:
# the object check (check_policy_libc_refs.sh) catches what they would bring.
#
# The script first runs itself on a scratch tree with one violation per rule
# and a circular include between two policy files, and fails unless every
# one is caught; then on a clean scratch tree, which must pass
# (AS_INCLUDE_RULES_NO_SELFTEST=1 skips both).
set -uo pipefail

# allowed FOLDER RESOLVED: 0 when a file in FOLDER may include RESOLVED
# (a path relative to the source root).
allowed() {
  local from=$1 to=$2
  case $from in
    policies) [[ $to == policies/* || $to == common/* ]] ;;
    predictors) [[ $to == predictors/* || $to == common/* ]] ;;
    traces) [[ $to == traces/* || $to == common/* ]] ;;
    malloc) [[ $to == malloc/* || $to == policies/* || $to == predictors/* || $to == common/* ]] ;;
    common) [[ $to == common/* ]] ;;
    reports) [[ $to == reports/* || $to == traces/* || $to == common/* || $to == sim/fileio.h ]] ;;
    *) return 0 ;;
  esac
}

# check_tree SRC: print every violation; return 1 when any.
check_tree() {
  local src rc=0 folder file line inc dir resolved edges loop
  src=$(cd "$1" && pwd -P) || return 1
  edges=$(mktemp) || return 1
  for folder in policies predictors traces malloc common reports; do
    [[ -d $src/$folder ]] || continue
    while IFS= read -r -d '' file; do
      while IFS= read -r line; do
        inc=${line#*\"}
        inc=${inc%%\"*}
        dir=$(dirname "$file")
        if [[ -e $dir/$inc ]]; then
          resolved=$(realpath -m "$dir/$inc")
        elif [[ -e $src/$inc ]]; then
          resolved=$(realpath -m "$src/$inc")
        else
          echo "FAIL: ${file#$src/}: #include \"$inc\" resolves to no file in the tree"
          rc=1
          continue
        fi
        if [[ $resolved != "$src"/* ]]; then
          echo "FAIL: ${file#$src/}: #include \"$inc\" leaves the source tree"
          rc=1
          continue
        fi
        resolved=${resolved#$src/}
        echo "${file#$src/} $resolved" >>"$edges"
        if ! allowed "$folder" "$resolved"; then
          echo "FAIL: ${file#$src/}: #include \"$inc\" -> $resolved breaks the $folder/ rule"
          rc=1
        fi
      done < <(grep -E '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$file")
    done < <(find "$src/$folder" -type f \( -name '*.c' -o -name '*.h' \) -print0 | sort -z)
  done
  # Circular includes: tsort names the files of every loop it finds.
  loop=$(tsort "$edges" 2>&1 >/dev/null | grep -v 'input contains a loop' | sed 's/^tsort: //' | sort -u | tr '\n' ' ')
  rm -f "$edges"
  if [[ -n $loop ]]; then
    echo "FAIL: circular include among: ${loop% }"
    rc=1
  fi
  return $rc
}

selftest() {
  local tmp out
  tmp=$(mktemp -d) || return 1
  trap 'rm -rf "$tmp"' RETURN
  mkdir -p "$tmp"/{common,policies/p,predictors,traces,sim,malloc,reports}
  : >"$tmp/common/error.h"
  : >"$tmp/sim/simos.h"
  : >"$tmp/sim/fileio.h"
  : >"$tmp/policies/pagesource.h"
  : >"$tmp/policies/policy.h"
  : >"$tmp/traces/trace.h"
  : >"$tmp/predictors/predictor.h"
  printf '#include "../../common/error.h"\n#include "../policy.h"\n' >"$tmp/policies/p/good.c"
  printf '#include "../../sim/simos.h"\n' >"$tmp/policies/p/bad.c"
  printf '#include "predictors/predictor.h"\n#include "common/error.h"\n' >"$tmp/predictors/good.c"
  printf '  #  include "../policies/pagesource.h"\n' >"$tmp/predictors/bad.c"
  printf '#include "trace.h"\n' >"$tmp/traces/good.c"
  printf '#include "../predictors/predictor.h"\n' >"$tmp/traces/bad.c"
  printf '#include "sim/simos.h"\n' >"$tmp/malloc/bad.c"
  printf '#include "nowhere.h"\n' >"$tmp/common/bad.h"
  printf '#include "sim/fileio.h"\n#include "traces/trace.h"\n' >"$tmp/reports/good.c"
  printf '#include "sim/simos.h"\n' >"$tmp/reports/bad.c"
  # the clean tree (every file but the bad ones) passes
  mkdir -p "$tmp/clean"
  (cd "$tmp" && find common policies predictors traces sim malloc reports -type f ! -name 'bad.*' -print0 |
    xargs -0 -I{} cp --parents {} clean/)
  out=$(check_tree "$tmp/clean")
  if [[ $? != 0 ]] || grep -q FAIL <<<"$out"; then
    echo "FAIL: self-test: a clean tree was reported:"
    echo "$out"
    return 1
  fi
  # a circular include between two policy files
  printf '#include "policies/p/b.h"\n' >"$tmp/policies/p/a.h"
  printf '#include "common/error.h"\n#include "policies/p/a.h"\n' >"$tmp/policies/p/b.h"
  out=$(check_tree "$tmp")
  if [[ $? == 0 ]] || [[ $(grep -c FAIL <<<"$out") != 7 ]] ||
    ! grep -q 'policies/p/bad.c: .*sim/simos.h breaks the policies/ rule' <<<"$out" ||
    ! grep -q 'predictors/bad.c: .*policies/pagesource.h breaks the predictors/ rule' <<<"$out" ||
    ! grep -q 'circular include among: policies/p/a.h policies/p/b.h$' <<<"$out" ||
    ! grep -q 'traces/bad.c: .*predictors/predictor.h breaks the traces/ rule' <<<"$out" ||
    ! grep -q 'malloc/bad.c: .*sim/simos.h breaks the malloc/ rule' <<<"$out" ||
    ! grep -q 'reports/bad.c: .*sim/simos.h breaks the reports/ rule' <<<"$out" ||
    ! grep -q 'common/bad.h: .*resolves to no file' <<<"$out"; then
    echo "FAIL: self-test: planted violations not caught exactly:"
    echo "$out"
    return 1
  fi
  echo "ok: self-test caught one violation of each rule and the circular include, and passed the clean tree"
}

src=${3:-$(cd "$(dirname "$0")/.." && pwd)}
if [[ -z ${AS_INCLUDE_RULES_NO_SELFTEST:-} ]]; then
  selftest || exit 1
fi
if check_tree "$src"; then
  echo "ok: policies/, predictors/, traces/, malloc/, common/ and reports/ keep their include rules"
  exit 0
fi
exit 1
