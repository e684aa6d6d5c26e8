#!/usr/bin/env bash
# check_build_lists.sh BUILD ALLOCSIM SRC - every C source of a part
# (common/, traces/, policies/, predictors/, sim/, reports/, malloc/, bench/)
# is named in a target's source list: CMakeLists.txt lists sources per
# target, so a new file in no list would be left out of the build silently
# (or fail only at link time, far from the cause). A file counts as listed
# when the CMakeLists.txt of its folder or of a folder above names its path
# relative to that folder. Tests are picked up by name and not checked here.
set -u
src=$3
cd "$src" || exit 1
fail=0 n=0
while IFS= read -r f; do
  n=$((n + 1))
  found=0 dir=$(dirname "$f") rel=$(basename "$f")
  while :; do
    if [[ -r $dir/CMakeLists.txt ]] &&
      grep -qE "(^|[[:space:](])${rel//./\\.}([[:space:])]|$)" "$dir/CMakeLists.txt"; then
      found=1
      break
    fi
    [[ $dir == . ]] && break
    rel=$(basename "$dir")/$rel
    dir=$(dirname "$dir")
  done
  if [[ $found == 0 ]]; then
    echo "FAIL: $f is in no target's source list (add it to CMakeLists.txt)"
    fail=1
  fi
done < <(find common traces policies predictors sim reports malloc bench \
  -name '*.c' 2>/dev/null | sort)
[[ $n -gt 50 ]] || { echo "FAIL: only $n sources found under $src"; exit 1; }
[[ $fail == 0 ]] && echo "ok   all $n sources are listed in a target"
exit $fail
