#!/usr/bin/env bash
# check_readme.sh BUILD ALLOCSIM SRC - every command of the README's "Using
# it" block works when pasted in order into a shell at the root of a fresh
# clone: the indented lines of that section are extracted (not listed here)
# and run one by one, in one shell, in a scratch directory that looks like
# the clone's root (its top-level entries linked, build/ the build under
# test) and with a PATH that does not hold allocsim until the README puts it
# there. Each must exit 0, and each `-o OUT` it names must exist afterwards
# (a run's OUT/summary.json, or OUT/machine_summary.json when it replays
# several traces on one machine). Skipped (77) when the recorder is not built:
# the README records a program.
set -u
. "$(dirname "$0")/checklib.sh"
skip_unless_recorder

# The commands: indented lines between "## Using it" and the next heading
# (a line ending in a backslash continues on the next).
awk '/^## /{on = ($0 ~ /^## Using it/); next}
     on && /^    / {sub(/^    /, ""); if (sub(/\\$/, "")) {cont = cont $0; next}
                    print cont $0; cont = ""}' "$S/README.md" >"$T/commands"
n=$(wc -l <"$T/commands")
[[ $n -ge 5 ]] || { echo "FAIL: only $n commands found under '## Using it'"; cat "$T/commands"; exit 1; }
grep -q '^allocsim --help' "$T/commands" || { echo "FAIL: the block does not show allocsim --help"; exit 1; }

mkdir "$T/clone"
for f in "$S"/* "$S"/.[!.]*; do
  case ${f##*/} in build* | demo-out | .git) continue ;; esac
  [[ -e $f ]] && ln -s "$f" "$T/clone/${f##*/}"
done
ln -s "$B" "$T/clone/build"

fail=0
i=0
(
  cd "$T/clone" || exit 1
  export PATH=/usr/bin:/bin
  unset ALLOCSIM_RECORD_LIB
  while IFS= read -r cmd <&3; do
    i=$((i + 1))
    eval "$cmd" </dev/null >"$T/out.$i" 2>&1
    rc=$?
    if [[ $rc != 0 ]]; then
      echo "FAIL line $i (exit $rc): $cmd"
      tail -5 "$T/out.$i"
      fail=1
      continue
    fi
    # Every -o OUT the command names exists now (per pipeline stage; `-o -`
    # is standard output).
    IFS='|' read -r -a stages <<<"${cmd%%#*}"
    for stage in "${stages[@]}"; do
      read -r -a words <<<"$stage"
      for ((k = 0; k + 1 < ${#words[@]}; k++)); do
        [[ ${words[k]} == -o ]] || continue
        out=${words[k + 1]}
        [[ $out == - ]] && continue
        if [[ " $stage " == *" run "* ]]; then
          # a run of several traces on one machine writes machine_summary.json
          if [[ -s ${out%/}/machine_summary.json ]]; then
            out=${out%/}/machine_summary.json
          else
            out=${out%/}/summary.json
          fi
        fi
        [[ -s $out ]] || {
          echo "FAIL line $i: $out not written: $cmd"
          fail=1
          continue 3
        }
      done
    done
    echo "ok   line $i: $cmd"
  done 3<"$T/commands"
  exit $fail
)
