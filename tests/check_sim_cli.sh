#!/usr/bin/env bash
# check_sim_cli: `allocsim run` and `allocsim demo` as a user meets them:
# exit codes, error messages naming file and offset, truncated traces
# replayed up to their last whole chunk, no partial output left behind,
# byte-identical summaries apart from timing.
# Arguments: BUILD_DIR ALLOCSIM SOURCE_DIR
set -u
. "$(dirname "$0")/checklib.sh"
"$A" gen server-mix --events 200000 --seed 3 -o "$T/t.ast" || { echo "FAIL gen"; exit 1; }

check "run --help" 0 "usage: allocsim run" -- "$A" run --help
check "help lists policies" 0 "bestfit" -- "$A" run --help
check "no policy" 2 "--policy is required" -- "$A" run "$T/t.ast" -o "$T/x"
check "unknown policy" 2 "unknown policy 'nope'; valid: .*bestfit" -- "$A" run -p nope "$T/t.ast" -o "$T/x"
check "unknown predictor" 2 "unknown predictor 'psychic'; valid: .*oracle" -- "$A" run -p bestfit --predictor psychic "$T/t.ast" -o "$T/x"
check "unknown param" 2 "bestfit has no parameter 'nope'; valid: " -- "$A" run -p bestfit -P bestfit.nope=1 "$T/t.ast" -o "$T/x"
check "bad check mode" 2 "--check 'sometimes': must be one of off, light, full" -- "$A" run -p bestfit --check sometimes "$T/t.ast" -o "$T/x"
# the check mode and its hook period are in the summary: light by default,
# --no-check is --check=off, check.every a parameter
for m in "light:" "full:--check=full" "off:--no-check" "off:--check=off"; do
  "$A" run -q -p bestfit -P check.every=100 ${m#*:} "$T/t.ast" -o "$T/ck" >/dev/null 2>&1 &&
  python3 -c "import json,sys; c=json.load(open(sys.argv[1]))['check']; assert c == {'mode': sys.argv[2], 'params': {'every': 100}}, c" \
    "$T/ck/summary.json" "${m%%:*}" && echo "ok   check mode ${m%%:*} (${m#*:})" || { echo "FAIL check mode $m"; fail=1; }
done
check "bad thp" 2 "--thp 'sometimes': must be one of never, madvise, always" -- "$A" run -p bestfit --thp sometimes "$T/t.ast" -o "$T/x"
# Parameters valid one by one but not together: the policy names them.
check "joint params" 2 "policy hoard: hoard.large_threshold 8 is below the smallest size class 16" -- "$A" run -p hoard -P hoard.large_threshold=8 "$T/t.ast" -o "$T/x"
check "joint params 2" 2 "hoard.large_threshold 1073741824 needs, at this growth, more size classes than the most, 256" -- "$A" run -p hoard -P hoard.growth=1.01 -P hoard.superblock=1G -P hoard.large_threshold=1G "$T/t.ast" -o "$T/x"
check "joint params 3" 2 "private-heaps.large_threshold 4 is below" -- "$A" run -p private-heaps -P large_threshold=4 "$T/t.ast" -o "$T/x"
check "missing trace" 2 "$T/none.ast" -- "$A" run -p bestfit "$T/none.ast" -o "$T/x"

# A good run writes every output; two runs agree byte for byte but timing.
check "run" 0 "peak live" -- "$A" run -p bestfit --predictor oracle "$T/t.ast" -o "$T/r1"
check "run again" 0 "" -- "$A" run -p bestfit --predictor oracle "$T/t.ast" -o "$T/r2"
for f in summary.json series.csv policy_series.csv confusion.csv histograms.csv; do
  [ -s "$T/r1/$f" ] || { echo "FAIL run: $f missing"; fail=1; }
done
if diff <(sed '/"timing"/,$d' "$T/r1/summary.json") <(sed '/"timing"/,$d' "$T/r2/summary.json") >/dev/null &&
   cmp -s "$T/r1/series.csv" "$T/r2/series.csv"; then echo "ok   determinism via the CLI"
else echo "FAIL determinism: summaries differ"; fail=1; fi
python3 - "$T/r1/summary.json" "$T/t.ast" "$A" "$T/r1" <<'PY' || fail=1
import json, os, socket, sys
s = json.load(open(sys.argv[1]))
need = ["allocsim_version", "allocsim_revision", "trace", "policy", "predictor",
        "replay", "metrics", "predictions", "timing", "provenance"]
missing = [k for k in need if k not in s]
m = s["metrics"]
for k in ["peak_live_bytes", "peak_resident_bytes", "resident_at_peak_live_bytes",
          "mean_live_bytes", "mean_resident_bytes", "peak_metadata_bytes",
          "hugepage_coverage_mean", "hugepage_coverage_at_peak"]:
    if k not in m: missing.append("metrics." + k)
for k in ["jw1", "jw2", "jw3", "jw4"]:
    if k not in m["fragmentation"]: missing.append("fragmentation." + k)
assert s["trace"]["events"] == 200000, s["trace"]
assert s["predictions"]["accuracy_by_allocs"] == 1, "oracle must be exact"
# Provenance: what reproduces the run (issue 12).
assert s["trace"]["size_bytes"] == os.path.getsize(sys.argv[2]), s["trace"]
assert len(s["trace"]["hash"]) == 16, s["trace"]
p = s["provenance"]
assert p["command_line"] == [sys.argv[3], "run", "-p", "bestfit", "--predictor",
                             "oracle", sys.argv[2], "-o", sys.argv[4]], p
assert p["host"] == socket.gethostname() and p["cwd"] == os.getcwd(), p
# the default sampling period is 1/1000 of the trace's span
r = s["replay"]
assert r["sample_interval_ns"] == s["trace"]["duration_ns"] // 1000, (r, s["trace"])
assert r["max_rows"] == 1000000 and r["skip_bad_events"] is False, r
if missing:
    print("FAIL summary names missing:", missing); sys.exit(1)
print("ok   summary.json has DESIGN.md's names")
PY

# A sampling interval given is the one recorded.
check "run sampled" 0 "" -- "$A" run -p bestfit --sample-interval 250us -q "$T/t.ast" -o "$T/rs"
python3 -c "
import json, sys; r = json.load(open(sys.argv[1]))['replay']
assert r['sample_interval_ns'] == 250000, r" "$T/rs/summary.json" && echo "ok   sampling interval in summary" ||
  { echo "FAIL sampling interval not in summary"; fail=1; }

# Truncated: every whole chunk replayed, a warning naming the offset.
sz=$(stat -c %s "$T/t.ast")
head -c $((sz * 2 / 3)) "$T/t.ast" >"$T/trunc.ast"
check "truncated trace" 3 "truncated trace.*offset|offset.*truncated" -- "$A" run -p bestfit "$T/trunc.ast" -o "$T/rt"
grep -q '"truncated":	true' "$T/rt/summary.json" && echo "ok   truncation in summary" || { echo "FAIL truncation not in summary"; fail=1; }

# Bit flip: exit 2, file and offset named, nothing left in the output dir.
python3 -c "
import sys; d = bytearray(open(sys.argv[1], 'rb').read()); d[len(d) // 2] ^= 0x10
open(sys.argv[2], 'wb').write(d)" "$T/t.ast" "$T/flip.ast"
check "bit flip" 2 "flip.ast: offset [0-9]+" -- "$A" run -p bestfit "$T/flip.ast" -o "$T/rf"
if [ -z "$(ls -A "$T/rf" 2>/dev/null)" ]; then echo "ok   no partial output"; else echo "FAIL partial output: $(ls "$T/rf")"; fail=1; fi
# A failed run over an earlier good result keeps the earlier result.
cp -r "$T/r1" "$T/keep"
check "bit flip over a result" 2 "" -- "$A" run -p bestfit "$T/flip.ast" -o "$T/keep"
cmp -s "$T/r1/summary.json" "$T/keep/summary.json" && echo "ok   earlier result kept" || { echo "FAIL earlier result lost"; fail=1; }
printf 'ASTRACE\0\377\377\377\377' >"$T/ver.ast"
check "wrong version or garbage" 2 "ver.ast: offset" -- "$A" run -p bestfit "$T/ver.ast" -o "$T/rv"

# demo: every registered policy, a comparison table.
check "demo" 0 "compare.csv" -- "$A" demo --trace "$T/t.ast" -o "$T/demo"
n_pol=$("$A" run --help | awk '/^policies/{p=1;next} /^predictors/{p=0} p && /^  [a-z]/' | wc -l)
n_rows=$(($(wc -l <"$T/demo/compare.csv") - 1))
[ "$n_pol" -gt 0 ] && [ "$n_rows" = "$n_pol" ] && echo "ok   demo ran all $n_pol policies" || { echo "FAIL demo rows $n_rows vs policies $n_pol"; fail=1; }
exit $fail
