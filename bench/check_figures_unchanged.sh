#!/usr/bin/env bash
# check_figures_unchanged.sh - do two allocsim binaries compute the same
# figures? Used before and after a refactoring that must not move a number
# (not in ctest: the "before" binary is not part of the repository).
#
# usage: bench/check_figures_unchanged.sh OLD_BIN NEW_BIN [WORKDIR]
#
# Runs `allocsim run` for every registered policy (the list printed by
# OLD_BIN run --help), once with the default predictor and once with
# --predictor oracle, on data/redis.ast, data/python.ast, data/sqlite.ast and
# a `gen server-mix --events 200000` trace (generated once, by OLD_BIN), plus
# `allocsim demo --trace data/redis.ast` (what `make demo` runs), with both
# binaries. Then compares every output file:
#   - every .csv byte for byte;
#   - every summary.json as JSON, ignoring "timing" and the provenance
#     fields (allocsim_version, allocsim_revision, provenance) and normalising
#     parameter values: a boolean parameter may be written as true/false or
#     1/0, a real number to 9 significant decimals or in full.
# Exit 0 when everything is identical, 1 when a file differs or is missing
# (each difference is printed), 2 on usage errors.
# Set RUN_ARGS to pass extra options to every run (e.g. RUN_ARGS=--stats);
# REUSE_OLD=1 keeps WORKDIR/old from an earlier call with the same OLD_BIN.
# CONVERT=1 gives NEW_BIN the traces rewritten by `NEW_BIN convert` (trace
# format 3) while OLD_BIN reads the originals, and ignores the trace's
# identity in summary.json (trace.path, trace.hash, trace.size_bytes): the
# same events must give the same figures whatever the format.
# NEW_PARAMS="part.name ..." names parameters NEW_BIN has and OLD_BIN
# lacks (e.g. NEW_PARAMS=os.writes): each is ignored in NEW's summary.json
# (PART.params.NAME, and os.param_sources.NAME for part os) when OLD's has
# no such key, so a new parameter at its default does not count as a
# difference; every other key still does.
set -u
if [ $# -lt 2 ]; then
    echo "usage: $0 OLD_BIN NEW_BIN [WORKDIR]" >&2
    exit 2
fi
OLD=$(realpath "$1")
NEW=$(realpath "$2")
SRC=$(cd "$(dirname "$0")/.." && pwd)
W=${3:-$(mktemp -d /tmp/figures.XXXXXX)}
mkdir -p "$W"
W=$(realpath "$W")
for b in "$OLD" "$NEW"; do
    [ -x "$b" ] || { echo "$0: $b: not an executable" >&2; exit 2; }
done

policies=$("$OLD" run --help | sed -n '/^policies/,/^predictors/p' |
    awk '/^  [a-z]/ {print $1}')
[ -n "$policies" ] || { echo "$0: no policies listed by $OLD" >&2; exit 2; }

if [ "${REUSE_OLD:-0}" != 1 ] || [ ! -s "$W/server-mix.ast" ]; then
    "$OLD" gen server-mix --events 200000 -o "$W/server-mix.ast" >/dev/null ||
        { echo "$0: gen failed" >&2; exit 2; }
fi
traces="$SRC/data/redis.ast $SRC/data/python.ast $SRC/data/sqlite.ast $W/server-mix.ast"
new_traces=$traces
if [ "${CONVERT:-0}" = 1 ]; then
    mkdir -p "$W/converted"
    new_traces=
    for t in $traces; do
        c="$W/converted/$(basename "$t")"
        "$NEW" convert "$t" -o "$c" ||
            { echo "$0: convert $t failed" >&2; exit 2; }
        new_traces="$new_traces $c"
    done
fi

run_all() { # BIN SIDE TRACES...
    local bin=$1 side=$2 t p pred
    shift 2
    for t in "$@"; do
        for p in $policies; do
            for pred in default oracle; do
                local d="$W/$side/$(basename "$t" .ast)/$p-$pred" a=()
                [ "$pred" = oracle ] && a=(--predictor oracle)
                rm -rf "$d"
                mkdir -p "$(dirname "$d")"
                # shellcheck disable=SC2086
                "$bin" run -q --policy "$p" "${a[@]}" ${RUN_ARGS:-} "$t" \
                    -o "$d" >/dev/null 2>"$d.stderr" ||
                    echo "$side: run $p $pred $(basename "$t") exited $?" \
                        >>"$W/$side.failures"
            done
        done
    done
    rm -rf "$W/$side/demo"
    (cd "$SRC" && "$bin" demo --trace data/redis.ast -o "$W/$side/demo") \
        >/dev/null 2>"$W/$side/demo.stderr" ||
        echo "$side: demo exited $?" >>"$W/$side.failures"
}

rm -f "$W/new.failures"
if [ "${REUSE_OLD:-0}" != 1 ] || [ ! -d "$W/old" ]; then
    rm -f "$W/old.failures"
    # shellcheck disable=SC2086
    run_all "$OLD" old $traces
fi
# shellcheck disable=SC2086
run_all "$NEW" new $new_traces

# compare.csv holds events_per_s (a wall-clock rate): compared without it.
python3 - "$W" "${CONVERT:-0}" "${NEW_PARAMS:-}" <<'EOF'
import json, os, sys, math
w = sys.argv[1]
old, new = os.path.join(w, "old"), os.path.join(w, "new")
IGNORE = {"timing", "allocsim_version", "allocsim_revision", "provenance"}
# CONVERT=1: the trace files differ (format), their events do not
IGNORE_TRACE = {"path", "hash", "size_bytes"} if sys.argv[2] == "1" else set()
# NEW_PARAMS: (part, name) pairs only the new binary has
NEW_PARAMS = [tuple(p.split(".", 1)) for p in sys.argv[3].split() if "." in p]

def drop_new_params(a, b):
    """Remove from b (new) each NEW_PARAMS key that a (old) lacks."""
    for part, name in NEW_PARAMS:
        for sub in ("params", "param_sources"):
            oa = a.get(part, {}).get(sub) if isinstance(a, dict) else None
            ob = b.get(part, {}).get(sub) if isinstance(b, dict) else None
            if isinstance(ob, dict) and name in ob and \
                    not (isinstance(oa, dict) and name in oa):
                del ob[name]

def norm_params(o):
    out = {}
    for k, v in o.items():
        if isinstance(v, bool):
            v = 1 if v else 0
        out[k] = v
    return out

def norm(x, path=()):
    if isinstance(x, dict):
        r = {}
        for k, v in x.items():
            if not path and k in IGNORE:
                continue
            if path == ("trace",) and k in IGNORE_TRACE:
                continue
            if k == "params" and isinstance(v, dict):
                r[k] = norm_params(v)
            else:
                r[k] = norm(v, path + (k,))
        return r
    if isinstance(x, list):
        return [norm(v, path) for v in x]
    return x

def same(a, b):
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, float) or isinstance(b, float):
        if isinstance(a, (int, float)) and isinstance(b, (int, float)) \
                and not isinstance(a, bool) and not isinstance(b, bool):
            # params written with 9 decimals before: equal to 1e-9
            return a == b or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
        return False
    return a == b and type(a) == type(b)

def diff(a, b, p=""):
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                print(f"    {p}/{k}: only in {'new' if k not in a else 'old'}")
            else:
                diff(a[k], b[k], f"{p}/{k}")
    elif not same(a, b):
        print(f"    {p}: old {json.dumps(a)[:80]} new {json.dumps(b)[:80]}")

def strip_rate(text):
    rows = [l.split(",") for l in text.splitlines()]
    if rows and rows[0] and rows[0][-1] == "events_per_s":
        rows = [r[:-1] for r in rows]
    return rows

n = bad = 0
for root, _, files in os.walk(old):
    for f in sorted(files):
        if f.endswith(".stderr"):
            continue
        po = os.path.join(root, f)
        rel = os.path.relpath(po, old)
        pn = os.path.join(new, rel)
        n += 1
        if not os.path.exists(pn):
            print(f"MISSING {rel}")
            bad += 1
            continue
        if f.endswith(".json"):
            a, b = (norm(json.load(open(x))) for x in (po, pn))
            drop_new_params(a, b)
            if not same(a, b):
                print(f"DIFFER  {rel}")
                diff(a, b)
                bad += 1
        elif f == "compare.csv":
            if strip_rate(open(po).read()) != strip_rate(open(pn).read()):
                print(f"DIFFER  {rel}")
                bad += 1
        elif open(po, "rb").read() != open(pn, "rb").read():
            print(f"DIFFER  {rel}")
            bad += 1
for root, _, files in os.walk(new):
    for f in files:
        rel = os.path.relpath(os.path.join(root, f), new)
        if not f.endswith(".stderr") and not os.path.exists(os.path.join(old, rel)):
            print(f"EXTRA   {rel}")
            bad += 1
print(f"{n} files compared, {bad} differ; work dir {w}")
sys.exit(1 if bad else 0)
EOF
rc=$?
for s in old new; do
    if [ -s "$W/$s.failures" ]; then
        cat "$W/$s.failures"
        if ! cmp -s "$W/old.failures" "$W/new.failures"; then rc=1; fi
    fi
done
exit $rc
