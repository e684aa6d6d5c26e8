#!/usr/bin/env bash
# bench/record/run.sh - cost of recording: allocsim record vs heaptrack.
#
#   bench/record/run.sh [BUILD_DIR] [REPS]     (defaults: build, 3)
#
# For a Python workload (PYTHONMALLOC=malloc, so every object reaches
# malloc), a SQLite workload and a C compile (cc1 -O1 on bench/gen_c.py's
# file of 1500 functions, 22.5k lines; BENCH_WORKLOADS="cc1" runs only that
# one), runs each REPS times bare, under
# `allocsim record`, under `heaptrack` (interpreted output, its default) and
# under `heaptrack --raw`, and prints the median wall time, the slowdown over
# the bare run, the median CPU time of the whole process tree and its ratio
# (steadier than wall time on a shared machine), the trace size, the events
# in it and bytes per event. Ours runs three times: exact nanosecond times,
# --time-resolution 1us (times rounded to 1 us, which compress far better),
# and --stack-cache (stacks reused by return address and stack height), and
# once more with ALLOCSIM_RECORD_SYMBOLIZE=inline (symbols looked up in the
# program's threads, as before the symbolizer thread).
# Events: ours = allocs + frees + reallocs in the trace; heaptrack's = its
# '+' and '-' lines (a realloc is one of each). Needs the Debian packages
# heaptrack, sqlite3, python3 and zstd. Not part of `make test`.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../../build}
reps=${2:-3}
allocsim=$build/allocsim
[[ -x $allocsim ]] || { echo "run.sh: $allocsim not built" >&2; exit 2; }
for c in heaptrack sqlite3 python3 zstd; do
  command -v "$c" >/dev/null || { echo "run.sh: '$c' missing (apt-get install heaptrack sqlite3 python3 zstd)" >&2; exit 2; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

python3 "$here/../../data/python_workload.py" 20000 --list --no-text --no-words \
  --keep none >"$tmp/work.py"
"$here/../../data/sqlite_workload.sh" 100000 --no-join --sort all --no-vacuum \
  >"$tmp/work.sql"

# timeit: median wall seconds and median CPU seconds (user+sys of the whole
# process tree: program, collector or heaptrack_interpret, compressor) of
# REPS runs of "$@", output discarded. Prints "wall cpu".
timeit() {
  local ws=() cs=() line
  for _ in $(seq "$reps"); do
    rm -f "$tmp"/ht* "$tmp/t.ast" "$tmp/db"
    /usr/bin/time -f "%e %U %S" -o "$tmp/time" "$@" >/dev/null 2>&1 || true
    line=$(tail -1 "$tmp/time")
    ws+=("$(echo "$line" | awk '{print $1}')")
    cs+=("$(echo "$line" | awk '{print $2 + $3}')")
  done
  med() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
  echo "$(med "${ws[@]}") $(med "${cs[@]}")"
}

printf '%-8s %-16s %8s %8s %8s %8s %12s %10s %8s\n' workload recorder wall_s slowdown cpu_s cpu_x \
  trace_bytes events bytes/ev
row() { # name recorder wall cpu base_wall base_cpu bytes events
  printf '%-8s %-16s %8.3f %8.2f %8.3f %8.2f %12s %10s %8s\n' "$1" "$2" "$3" \
    "$(echo "$3 / $5" | bc -l)" "$4" "$(echo "$4 / $6" | bc -l)" "$7" "$8" \
    "$( [[ $8 == - ]] && echo - || printf '%.2f' "$(echo "$7 / $8" | bc -l)")"
}
run() {
  local name=$1; shift
  local bw bc w c
  read -r bw bc < <(timeit "$@")
  row "$name" none "$bw" "$bc" "$bw" "$bc" - -
  local ob oe res flag
  local cfg label
  for cfg in "1" "1000" "1 --stack-cache" "inline"; do
    read -r res flag <<<"$cfg"
    if [[ $cfg == inline ]]; then # symbols looked up in the program's threads
      read -r w c < <(timeit env ALLOCSIM_RECORD_SYMBOLIZE=inline "$allocsim" record -o "$tmp/t.ast" -- "$@")
    else
      read -r w c < <(timeit "$allocsim" record --time-resolution "${res}ns" $flag -o "$tmp/t.ast" -- "$@")
    fi
    ob=$(stat -c %s "$tmp/t.ast")
    oe=$("$allocsim" info "$tmp/t.ast" | awk '/^events/ {print $2; exit}')
    case $cfg in
      1) label="allocsim (ns)" ;;
      1000) label="allocsim (1 us)" ;;
      inline) label="allocsim inline" ;;
      *) label="allocsim cached" ;;
    esac
    row "$name" "$label" "$w" "$c" "$bw" "$bc" "$ob" "$oe"
  done
  for mode in "" --raw; do
    local f b e
    read -r w c < <(timeit heaptrack $mode -o "$tmp/ht" "$@")
    f=""
    for x in "$tmp"/ht*.zst "$tmp"/ht*.gz; do [[ -e $x ]] && { f=$x; break; }; done
    [[ -n $f ]] || { echo "run.sh: heaptrack wrote no file" >&2; exit 1; }
    b=$(stat -c %s "$f")
    e=$( (zstd -dc "$f" 2>/dev/null || gzip -dc "$f") | grep -c '^[+-] ' || true)
    row "$name" "heaptrack${mode:+ $mode}" "$w" "$c" "$bw" "$bc" "$b" "$e"
  done
}
# A C compile: cc1 itself (heaptrack does not follow the driver's
# posix_spawn; `allocsim record --follow-forks gcc -c` does) on
# bench/gen_c.py's file at 1500 functions: 22,501 lines.
python3 "$here/../gen_c.py" --functions 1500 "$tmp/gen.c"
cc1=$(gcc -print-prog-name=cc1)
only=${BENCH_WORKLOADS:-python sqlite cc1}
export PYTHONMALLOC=malloc
[[ " $only " == *" python "* ]] && run python /usr/bin/python3 "$tmp/work.py"
[[ " $only " == *" sqlite "* ]] && run sqlite sqlite3 "$tmp/db" ".read $tmp/work.sql"
[[ " $only " == *" cc1 "* ]] && run cc1 "$cc1" -quiet -imultiarch "$(gcc -print-multiarch)" -O1 "$tmp/gen.c" -o "$tmp/gen.s"
exit 0
