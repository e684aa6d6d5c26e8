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
. "$(dirname "$0")/checklib.sh"
trace=$S/data/sqlite.ast
for m in default hook move preload; do
  a=()
  [[ $m != default ]] && a=(--realloc "$m")
  "$A" run -q --policy bestfit --param os.mmap_layout=bottomup \
    "${a[@]}" "$trace" -o "$T/$m" \
    >/dev/null 2>"$T/$m.err" || bad "run $m: exit $?: $(cat "$T/$m.err")"
done
if cmp -s "$T/default/series.csv" "$T/hook/series.csv" &&
  [[ $(nosum "$T/default/summary.json") == "$(nosum "$T/hook/summary.json")" ]]; then
  ok "--realloc=hook is the default"
else
  bad "--realloc=hook differs from no option"
fi
field() { # DIR KEY: replay.KEY, or "absent"
  python3 -c '
import json, sys
print(json.load(open(sys.argv[1] + "/summary.json"))["replay"].get(sys.argv[2], "absent"))' "$1" "$2"
}
[[ $(field "$T/default" realloc) == absent ]] && ok "no replay.realloc by default" ||
  bad "replay.realloc by default: $(field "$T/default" realloc)"
n=$("$A" info "$trace" | awk '$1 == "events" {print $(NF-1)}')
for m in move preload; do
  [[ $(field "$T/$m" realloc) == "$m" ]] && ok "replay.realloc = $m" ||
    bad "replay.realloc for $m: $(field "$T/$m" realloc)"
  r=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["trace"]["reallocs"])' \
    "$T/$m/summary.json" 2>/dev/null || echo "?")
  [[ $r == "$n" ]] && ok "$m: $r reallocs" || bad "$m: reallocs '$r', trace '$n'"
done
if cmp -s "$T/hook/series.csv" "$T/preload/series.csv"; then
  bad "--realloc=preload gives the hook's series"
else
  ok "preload differs from hook"
fi
if cmp -s "$T/move/series.csv" "$T/preload/series.csv"; then
  bad "--realloc=preload gives move's series"
else
  ok "preload differs from move"
fi
check "--realloc bogus: exit 2, choices named" 2 'one of hook, move, preload' -- \
  "$A" run -q --policy bestfit --realloc bogus "$trace" -o "$T/x"
exit $fail
