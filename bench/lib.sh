# bench/lib.sh - shared by the bench scripts that take `ALLOCSIM [OUT]`
# and run many `allocsim run`s (source it; not executable).
#
#   bench_init PREFIX "$@"   checks that $1 is an executable and sets
#                            A (its absolute path), SRC (the source tree)
#                            and W (the absolute work directory: $2, or a
#                            new /tmp/PREFIX.XXXXXX), W/runs created; exits
#                            2 with a usage line otherwise.
#   bench_run_one NAME BIN TRACE ARGS...
#                            `BIN run -q --no-check ARGS... TRACE` into
#                            W/runs/NAME (stderr in W/runs/NAME.stderr),
#                            unless that run already has a summary.json.
#                            Exported, for xargs -P.
#   bench_args NAME OLD NEW [WORKDIR]
#                            for the before/after benches: sets OLD and NEW
#                            (absolute paths of two executables) and W
#                            (WORKDIR, or a new /tmp/bench-NAME.XXXXXX);
#                            exits 2 with the usage otherwise.
#   run_jobs W JOBFILE       every line of JOBFILE is NAME BIN TRACE ARGS...,
#                            run by bench_run_one JOBS (default 2) at a time;
#                            an interrupted bench resumes where it stopped.

bench_init() {
    local prefix=$1
    shift
    if [ $# -lt 1 ] || [ ! -x "$1" ]; then
        echo "usage: $0 ALLOCSIM [OUT] (${1:-ALLOCSIM}: not an executable)" >&2
        exit 2
    fi
    A=$(realpath "$1")
    SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
    W=${2:-$(mktemp -d "/tmp/$prefix.XXXXXX")}
    mkdir -p "$W/runs"
    W=$(realpath "$W")
    export A SRC W
}

bench_run_one() {
    local name=$1 bin=$2 trace=$3
    shift 3
    [ -s "$W/runs/$name/summary.json" ] && return 0
    "$bin" run -q --no-check "$@" "$trace" -o "$W/runs/$name" \
        >/dev/null 2>"$W/runs/$name.stderr" ||
        echo "$0: $name failed (see $W/runs/$name.stderr)" >&2
}
export -f bench_run_one

bench_args() { # NAME OLD NEW [WORKDIR]
    local name=$1
    shift
    if [ $# -lt 2 ]; then
        echo "usage: $0 OLD_ALLOCSIM NEW_ALLOCSIM [WORKDIR]" >&2
        exit 2
    fi
    OLD=$(realpath "$1")
    NEW=$(realpath "$2")
    W=${3:-$(mktemp -d "/tmp/bench-$name.XXXXXX")}
    mkdir -p "$W"
    W=$(realpath "$W")
    for b in "$OLD" "$NEW"; do
        [ -x "$b" ] || { echo "$0: $b: not an executable" >&2; exit 2; }
    done
}

run_jobs() { # W JOBFILE
    W=$1
    mkdir -p "$W/runs"
    export W
    # shellcheck disable=SC2016
    xargs -P "${JOBS:-2}" -L 1 bash -c 'bench_run_one "$@"' _ <"$2"
}
