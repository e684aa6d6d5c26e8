#!/usr/bin/env bash
# check_run_realloc.sh BUILD ALLOCSIM SRC - `allocsim run --realloc=MODE`
# on the command line (the engine's figures per mode are asserted exactly
# in tests/unit/test_sim_engine.c, "realloc modes").
#
# Asserts, on data/sqlite.ast (66 reallocs, as `allocsim info` counts
# them) under bestfit, whose realloc hook grows blocks in place:
#   - --realloc=hook writes the same series.csv byte for byte and the same
#     summary.json (minus timing and provenance) as no option: the default
#     is unchanged, and summary.json has no replay.realloc then;
#   - --realloc=move and --realloc=preload write replay.realloc = "move" /
#     "preload" and replay as many reallocs (trace.reallocs) as `allocsim
#     info` counts;
#   - --realloc=preload differs from hook (the hook grows blocks in place
#     where the preload rule moves them) and from move (some realloc of
#     this trace stays within its block's usable size and half of it).
#     The runs use the bottom-up mapping layout (os.mmap_layout): under
#     the default top-down one bestfit's heap is a chain of segments and
#     move and preload happen to give the same figures on this trace at
#     every sample, so the series could not tell the two modes apart;
#   - --realloc=bogus is a usage error (exit 2) that names the choices.
set -uo pipefail
allocsim=$2
src=$3
trace=$src/data/sqlite.ast
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
fail=0
T=$tmp
. "$src/tests/checklib.sh"
ok() { echo "ok   $*"; }
bad() {
  echo "FAIL $*"
  fail=1
}
for m in default hook move preload; do
  a=()
  [[ $m != default ]] && a=(--realloc "$m")
  "$allocsim" run -q --policy bestfit --param os.mmap_layout=bottomup \
    "${a[@]}" "$trace" -o "$tmp/$m" \
    >/dev/null 2>"$tmp/$m.err" || bad "run $m: exit $?: $(cat "$tmp/$m.err")"
done
if cmp -s "$tmp/default/series.csv" "$tmp/hook/series.csv" &&
  [[ $(nosum "$tmp/default/summary.json") == "$(nosum "$tmp/hook/summary.json")" ]]; then
  ok "--realloc=hook is the default"
else
  bad "--realloc=hook differs from no option"
fi
field() { # DIR KEY: replay.KEY, or "absent"
  python3 -c '
import json, sys
print(json.load(open(sys.argv[1] + "/summary.json"))["replay"].get(sys.argv[2], "absent"))' "$1" "$2"
}
[[ $(field "$tmp/default" realloc) == absent ]] && ok "no replay.realloc by default" ||
  bad "replay.realloc by default: $(field "$tmp/default" realloc)"
n=$("$allocsim" info "$trace" | awk '$1 == "events" {print $(NF-1)}')
for m in move preload; do
  [[ $(field "$tmp/$m" realloc) == "$m" ]] && ok "replay.realloc = $m" ||
    bad "replay.realloc for $m: $(field "$tmp/$m" realloc)"
  r=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["trace"]["reallocs"])' \
    "$tmp/$m/summary.json" 2>/dev/null || echo "?")
  [[ $r == "$n" ]] && ok "$m: $r reallocs" || bad "$m: reallocs '$r', trace '$n'"
done
if cmp -s "$tmp/hook/series.csv" "$tmp/preload/series.csv"; then
  bad "--realloc=preload gives the hook's series"
else
  ok "preload differs from hook"
fi
if cmp -s "$tmp/move/series.csv" "$tmp/preload/series.csv"; then
  bad "--realloc=preload gives move's series"
else
  ok "preload differs from move"
fi
check "--realloc bogus: exit 2, choices named" 2 'one of hook, move, preload' -- \
  "$allocsim" run -q --policy bestfit --realloc bogus "$trace" -o "$tmp/x"
exit $fail
