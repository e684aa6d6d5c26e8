#!/usr/bin/env bash
# check_policy_call_graph.sh BUILD [ALLOCSIM SRC] - no circular calls between
# the files of one policy.
#
# A policy folder split into several files is layered: in policies/tcmalloc/
# the page heap calls the filler, the regions, the cache and the allocator,
# and none of them calls back (docs/policies/tcmalloc.md). For every folder
# under policies/ with two or more objects in the build directory
# (CMakeFiles/as_policies.dir/policies/FOLDER/*.o), each undefined global
# symbol of an object that another object of the same folder defines is an
# edge "caller -> definer"; tsort(1) must be able to order those edges, or
# the files of the loop are reported.
#
# The script first runs itself on a scratch build directory where two
# objects of one folder call each other (must be caught) and where the same
# two call one way only (must pass) (AS_CALL_GRAPH_NO_SELFTEST=1 skips).
set -uo pipefail

NM=${NM:-nm}
CC=${CC:-cc}

# check_build BUILD: print every loop; return 1 when any.
check_build() {
  local root=$1/CMakeFiles/as_policies.dir/policies rc=0 dir edges defs loop folders=0
  if [[ ! -d $root ]]; then
    echo "FAIL: $root not found (build the policies library first)"
    return 1
  fi
  edges=$(mktemp) && defs=$(mktemp) || return 1
  for dir in "$root"/*/; do
    dir=${dir%/}
    shopt -s nullglob
    local objs=("$dir"/*.o)
    shopt -u nullglob
    ((${#objs[@]} >= 2)) || continue
    folders=$((folders + 1))
    : >"$edges"
    # symbol -> defining object, for this folder
    "$NM" -A --defined-only -g "${objs[@]}" 2>/dev/null |
      awk 'NF >= 3 { o = $1; sub(/:.*/, "", o); n = split(o, p, "/"); print $3, p[n] }' |
      sort -u >"$defs"
    local o sym def
    for o in "${objs[@]}"; do
      while read -r sym; do
        def=$(awk -v s="$sym" '$1 == s { print $2; exit }' "$defs")
        [[ -n $def && $def != "$(basename "$o")" ]] &&
          echo "${o##*/} $def" >>"$edges"
      done < <("$NM" -u "$o" 2>/dev/null | awk '$1 == "U" { print $2 }')
    done
    loop=$(tsort "$edges" 2>&1 >/dev/null | grep -v 'input contains a loop' |
      sed 's/^tsort: //; s/\.c\.o$/.c/; s/\.o$//' | sort -u | tr '\n' ' ')
    if [[ -n $loop ]]; then
      echo "FAIL: policies/${dir##*/}: circular calls among: ${loop% }"
      rc=1
    fi
  done
  rm -f "$edges" "$defs"
  if ((folders == 0)); then
    echo "FAIL: no policy folder with two or more objects under $root"
    return 1
  fi
  return $rc
}

selftest() {
  local tmp out dir
  tmp=$(mktemp -d) || return 1
  trap 'rm -rf "$tmp"' RETURN
  dir=$tmp/CMakeFiles/as_policies.dir/policies/p
  mkdir -p "$dir"
  printf 'int b_fn(int);\nint a_fn(int x) { return x ? b_fn(x - 1) : 0; }\n' >"$tmp/a.c"
  printf 'int a_fn(int);\nint b_fn(int x) { return x ? a_fn(x - 1) : 1; }\n' >"$tmp/b.c"
  printf 'int b_fn(int x) { return x + 1; }\n' >"$tmp/b_leaf.c"
  "$CC" -c -o "$dir/a.c.o" "$tmp/a.c" && "$CC" -c -o "$dir/b.c.o" "$tmp/b.c" || return 1
  out=$(check_build "$tmp")
  if [[ $? == 0 ]] || ! grep -qx 'FAIL: policies/p: circular calls among: a.c b.c' <<<"$out"; then
    echo "FAIL: self-test: a call cycle between two objects was not caught:"
    echo "$out"
    return 1
  fi
  "$CC" -c -o "$dir/b.c.o" "$tmp/b_leaf.c" || return 1
  out=$(check_build "$tmp")
  if [[ $? != 0 ]]; then
    echo "FAIL: self-test: a one-way call was reported:"
    echo "$out"
    return 1
  fi
  echo "ok: self-test caught a call cycle between two objects and passed a one-way call"
}

build=${1:?usage: check_policy_call_graph.sh BUILD [ALLOCSIM SRC]}
if [[ -z ${AS_CALL_GRAPH_NO_SELFTEST:-} ]]; then
  selftest || exit 1
fi
if check_build "$build"; then
  echo "ok: no circular calls between the files of any policy folder"
  exit 0
fi
exit 1
