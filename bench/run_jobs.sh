# bench/run_jobs.sh - sourced by the bench/*/run.sh scripts (not run on its
# own): their OLD/NEW arguments, and a list of `allocsim run` jobs replayed
# JOBS (default 2) at a time.
#
# bench_args NAME OLD_ALLOCSIM NEW_ALLOCSIM [WORKDIR]: sets OLD and NEW to
# the two binaries' absolute paths and W to WORKDIR (made if missing; a
# fresh /tmp/bench-NAME.XXXXXX when not given); exits 2 with the usage on
# a missing argument or a binary that is not executable.
#
# run_jobs W JOBFILE: every line of JOBFILE is NAME BIN TRACE ARGS...; the
# job runs `BIN run -q --no-check ARGS TRACE -o W/runs/NAME` (the checking
# layer never moves a figure), its stderr goes to W/runs/NAME.stderr, and a
# job whose summary.json exists already is skipped, so an interrupted
# bench resumes. A failed job is reported on stderr; the others still run.
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

run_one() { # NAME BIN TRACE ARGS...
    local name=$1 bin=$2 trace=$3
    shift 3
    [ -s "$W/runs/$name/summary.json" ] && return 0
    "$bin" run -q --no-check "$@" "$trace" -o "$W/runs/$name" \
        >/dev/null 2>"$W/runs/$name.stderr" ||
        echo "$0: $name failed (see $W/runs/$name.stderr)" >&2
}

run_jobs() { # W JOBFILE
    W=$1
    mkdir -p "$W/runs"
    export -f run_one
    export W
    # shellcheck disable=SC2016
    xargs -P "${JOBS:-2}" -L 1 bash -c 'run_one "$@"' _ <"$2"
}
