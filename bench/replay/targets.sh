#!/usr/bin/env bash
# bench/replay/targets.sh: issue 14's speed targets in one interleaved
# round, a base binary against a new one, on a machine shared with other
# jobs: rates per CPU second of the process (user + sys from GNU time),
# which load disturbs far less than wall time. Not part of `make test`.
#
#   bash bench/replay/targets.sh BASE_BUILD NEW_BUILD [EVENTS]
#
# For server-mix (EVENTS events, default 2M, seed 1) and data/redis,
# python and sqlite: `allocsim run -p P --predictor oracle` (the default
# light check) for tcmalloc, llama, hoard, glibc and bestfit, base then
# new, printing M events per CPU second, peak RSS and the RSS beyond the
# policy's metadata per peak live object; `allocsim cat > /dev/null`; and
# the oracle's pre-pass alone (bench_prepass, 1 thread against 2).
set -euo pipefail
base=$1; new=$2; events=${3:-2000000}
src=$(cd "$(dirname "$0")/../.." && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
sm=$new/bench-servermix-$events.ast
[ -f "$sm" ] || "$new/allocsim" gen server-mix --events "$events" --seed 1 -o "$sm" >/dev/null
traces=("$sm" "$src/data/redis.ast" "$src/data/python.ast" "$src/data/sqlite.ast")
# cpu_rate BIN ARGS...: run, print "cpu_s rss_kib"
measure() {
  /usr/bin/time -f "%U %S %M" -o "$out/t" "$@" >/dev/null 2>&1
  awk '{printf "%.3f %d\n", $1 + $2, $3}' "$out/t"
}
echo "trace policy base_Mev_per_cpu_s new_Mev_per_cpu_s new/base new_rss_KiB new_B_per_peak_live_beyond_metadata"
for t in "${traces[@]}"; do
  n=$("$new/allocsim" info "$t" | awk '/^events/ {print $2; exit}')
  for p in tcmalloc llama hoard glibc bestfit; do
    read -r bc br < <(measure "$base/allocsim" run -q -p "$p" --predictor oracle "$t" -o "$out/b")
    read -r nc nr < <(measure "$new/allocsim" run -q -p "$p" --predictor oracle "$t" -o "$out/n")
    python3 - "$out/n/summary.json" "$n" "$bc" "$nc" "$nr" "$(basename "$t")" "$p" <<'PY'
import json, sys
s = json.load(open(sys.argv[1])); n = int(sys.argv[2])
bc, nc, nr = float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
m = s["metrics"]
beyond = (nr * 1024 - m["peak_metadata_bytes"]) / max(m["peak_live_objects"], 1)
print(f"{sys.argv[6]} {sys.argv[7]} {n/bc/1e6:.2f} {n/nc/1e6:.2f} {bc/nc:.2f}x {nr} {beyond:.0f}")
PY
    rm -rf "$out/b" "$out/n"
  done
done
echo "cat > /dev/null: trace base_Mev_per_cpu_s new_Mev_per_cpu_s new/base"
for t in "${traces[@]}"; do
  n=$("$new/allocsim" info "$t" | awk '/^events/ {print $2; exit}')
  read -r bc _ < <(measure "$base/allocsim" cat "$t")
  read -r nc _ < <(measure "$new/allocsim" cat "$t")
  echo "$(basename "$t") $(echo "scale=2; $n / $bc / 1000000" | bc) $(echo "scale=2; $n / $nc / 1000000" | bc) $(echo "scale=2; $bc / $nc" | bc)x"
done
echo "decode-only (new):"
"$new/bench/bench_decode" "$sm" | sed 's/^/  /'
echo "oracle pre-pass alone, 1 thread then 2, twice:"
"$new/bench/bench_prepass" "$sm" 2 1 2 | sed 's/^/  /'
