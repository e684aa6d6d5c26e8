# bench/run_jobs.sh - sourced by the bench/*/run.sh scripts (not run on its
# own): replay a list of `allocsim run` jobs, JOBS (default 2) at a time.
#
# run_jobs W JOBFILE: every line of JOBFILE is NAME BIN TRACE ARGS...; the
# job runs `BIN run -q --no-check ARGS TRACE -o W/runs/NAME` (the checking
# layer never moves a figure), its stderr goes to W/runs/NAME.stderr, and a
# job whose summary.json exists already is skipped, so an interrupted
# bench resumes. A failed job is reported on stderr; the others still run.
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
