#!/usr/bin/env bash
# bench/replay: replay speed against a decode-only pass, and the simulator's
# memory per peak live object. Not part of `make test`.
#
#   bash bench/replay/run.sh [BUILD_DIR] [EVENTS] [POLICIES...]
#
# Generates a server-mix trace of EVENTS (default 50M) events once (cached in
# BUILD_DIR/bench-servermix-EVENTS.ast), times bench_decode over it, then
# `allocsim run --policy P --predictor oracle --no-check` for each policy
# (default: bestfit), with peak RSS from /usr/bin/time or getrusage.
set -euo pipefail
build=${1:-build}
events=${2:-50000000}
shift 2 2>/dev/null || shift $#
policies=("$@")
[ ${#policies[@]} -gt 0 ] || policies=(bestfit)
allocsim=$build/allocsim
trace=$build/bench-servermix-$events.ast
if [ ! -f "$trace" ]; then
  echo "generating $trace ..."
  "$allocsim" gen server-mix --events "$events" --seed 1 -o "$trace"
fi
"$allocsim" info "$trace" | sed 's/^/  info: /'
echo "decode-only:"
dec=$("$build/bench/bench_decode" "$trace")
echo "  $dec"
dec_eps=$(echo "$dec" | awk '{print $8}')
for p in "${policies[@]}"; do
  out=$(mktemp -d)
  # Peak RSS in KiB via GNU time's %M, else bash's own accounting.
  if [ -x /usr/bin/time ]; then
    /usr/bin/time -f "%M" -o "$out/rss" "$allocsim" run --policy "$p" --predictor oracle \
      --no-check -q "$trace" -o "$out" >/dev/null
    rss_kib=$(tail -1 "$out/rss")
  else
    "$allocsim" run --policy "$p" --predictor oracle --no-check -q "$trace" -o "$out" >/dev/null
    rss_kib=0
  fi
  python3 - "$out/summary.json" "$rss_kib" "$dec_eps" "$p" <<'PY'
import json, sys
s = json.load(open(sys.argv[1])); rss = int(sys.argv[2]) * 1024
dec = float(sys.argv[3]); p = sys.argv[4]
eps = s["timing"]["events_per_s"]; m = s["metrics"]
peak_obj = m["peak_live_objects"]
print(f"{p}: replay {eps/1e6:.2f} M events/s, decode-only {dec/1e6:.2f} M events/s, "
      f"replay/decode {dec/eps:.2f}x slower")
print(f"{p}: peak RSS {rss/2**20:.1f} MiB, peak live objects {peak_obj}, "
      f"peak metadata {m['peak_metadata_bytes']/2**20:.1f} MiB, "
      f"RSS beyond policy metadata per peak live object "
      f"{(rss - m['peak_metadata_bytes'])/max(peak_obj,1):.1f} B")
print(f"{p}: peak resident {m['peak_resident_bytes']/2**20:.1f} MiB, "
      f"jw1 {m['fragmentation']['jw1']:.3f}, jw4 {m['fragmentation']['jw4']:.3f}, "
      f"hugepage coverage {m['hugepage_coverage_mean']:.3f}")
PY
  rm -rf "$out"
done
